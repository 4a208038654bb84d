import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * `npm run test:aws -- --profile <p> --region <r> [--base-capacity 8] [--node-type ra3.xlplus] [--keep] [--app <file>]`:
 * the integration tests on the user's own account. For each `test/integ/integ.*.ts`: synthesize
 * it, deploy its stacks (the test stack, then the assertions' stack, whose custom resources run
 * the assertions), read each assertion's result from the outputs, and destroy both stacks
 * whatever happened (unless `--keep`). Exit 0 when every assertion passed.
 *
 * This is what `integ-runner --update-on-failed` would do; its releases on npm cannot read what
 * aws-cdk-lib 2.276 synthesizes (see test/integ/snapshot.ts), so the project's own CDK CLI does
 * the deploying. Needs `cdk bootstrap` in the account and Region.
 */

const USAGE =
  'usage: npm run test:aws -- --profile <aws profile> --region <region> [--base-capacity 4|8|...] [--node-type ra3.large|...] [--keep] [--app test/integ/integ.<name>.ts]';

export interface Options {
  readonly profile: string;
  readonly region: string;
  readonly baseCapacity?: string;
  readonly nodeType?: string;
  readonly keep: boolean;
  readonly apps: string[];
}

/** The command line's options; a missing or bad one throws, naming it, the value and what is allowed. */
export function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string' },
      region: { type: 'string' },
      'base-capacity': { type: 'string' },
      'node-type': { type: 'string' },
      keep: { type: 'boolean', default: false },
      app: { type: 'string' },
    },
  });
  const missing = (['profile', 'region'] as const).filter((k) => !values[k]);
  if (missing.length) throw new Error(`${missing.map((m) => `--${m}`).join(', ')}: missing\n${USAGE}`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(values.region as string))
    throw new Error(
      `--region: ${JSON.stringify(values.region)} is not allowed; allowed: a Region such as eu-west-1`,
    );
  if (values['base-capacity'] !== undefined && !/^\d+$/.test(values['base-capacity']))
    throw new Error(
      `--base-capacity: ${JSON.stringify(values['base-capacity'])} is not allowed; allowed: 4 or a multiple of 8`,
    );
  if (values['node-type'] !== undefined && !/^(ra3|dc2)\.[a-z0-9]+$/.test(values['node-type']))
    throw new Error(
      `--node-type: ${JSON.stringify(values['node-type'])} is not allowed; allowed: an RA3 or DC2 node type such as ra3.large`,
    );
  const apps = values.app
    ? [values.app]
    : readdirSync(join('test', 'integ'))
        .filter((f) => /^integ\..+\.ts$/.test(f))
        .map((f) => join('test', 'integ', f));
  return {
    profile: values.profile as string,
    region: values.region as string,
    ...(values['base-capacity'] ? { baseCapacity: values['base-capacity'] } : {}),
    ...(values['node-type'] ? { nodeType: values['node-type'] } : {}),
    keep: values.keep ?? false,
    apps,
  };
}

/** Runs the project's CDK CLI with the user's profile and Region; its output goes to the terminal. */
function cdk(args: string[], o: Options): number {
  const result = spawnSync(resolve('node_modules', '.bin', 'cdk'), [...args, '--profile', o.profile], {
    stdio: 'inherit',
    env: { ...process.env, AWS_REGION: o.region, AWS_DEFAULT_REGION: o.region, CDK_DEFAULT_REGION: o.region },
  });
  return result.status ?? 1;
}

/** Each assertion's result from the deploy's outputs: `{"status":"success"}` or `{"status":"fail",...}`. */
export function assertionResults(
  outputs: Record<string, Record<string, string>>,
): { name: string; ok: boolean; detail: string }[] {
  return Object.values(outputs).flatMap((stack) =>
    Object.entries(stack)
      .filter(([key]) => key.startsWith('AssertionResults'))
      .map(([name, value]) => {
        let status = 'unknown';
        try {
          status = (JSON.parse(value) as { status?: string }).status ?? 'unknown';
        } catch {
          // not JSON: reported as it is
        }
        return { name: name.slice('AssertionResults'.length), ok: status === 'success', detail: value };
      }),
  );
}

function runOne(app: string, o: Options): boolean {
  const started = Date.now();
  const out = mkdtempSync(join(tmpdir(), 'integ-aws-'));
  const outputsFile = join(out, 'outputs.json');
  const context = [
    ...(o.baseCapacity ? ['-c', `baseCapacity=${o.baseCapacity}`] : []),
    ...(o.nodeType ? ['-c', `nodeType=${o.nodeType}`] : []),
  ];
  console.log(`\n== ${app} in ${o.region} (profile ${o.profile})`);
  let ok = false;
  try {
    if (cdk(['synth', '--quiet', '--app', `npx tsx ${app}`, '-o', join(out, 'cdk.out'), ...context], o) !== 0)
      return false;
    const deployed = cdk(
      [
        'deploy',
        '--app',
        join(out, 'cdk.out'),
        '--all',
        '--require-approval',
        'never',
        '--outputs-file',
        outputsFile,
      ],
      o,
    );
    const results = existsSync(outputsFile)
      ? assertionResults(
          JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>,
        )
      : [];
    for (const r of results)
      console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}${r.ok ? '' : `: ${r.detail}`}`);
    ok = deployed === 0 && results.length > 0 && results.every((r) => r.ok);
    if (deployed !== 0)
      console.log('FAIL  the deploy failed (a waiter that timed out fails it): see the events above');
  } finally {
    if (!o.keep && existsSync(join(out, 'cdk.out'))) {
      if (cdk(['destroy', '--app', join(out, 'cdk.out'), '--all', '--force'], o) !== 0)
        console.log(`the destroy failed: delete the stacks of ${app} by hand (README, "Integration tests")`);
    }
    rmSync(out, { recursive: true, force: true });
    console.log(`${ok ? 'PASSED' : 'FAILED'} ${app} in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  }
  return ok;
}

function main(): number {
  let o: Options;
  try {
    o = options(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const spawn = spawnSync(process.execPath, [resolve('bin', 'build.mjs'), 'handlers'], { stdio: 'inherit' });
  if (spawn.status !== 0) return 1;
  const passed = o.apps.filter((app) => runOne(app, o)).length;
  console.log(`${passed} passed, ${o.apps.length - passed} failed`);
  return passed === o.apps.length ? 0 : 1;
}

if (require.main === module) process.exitCode = main();
