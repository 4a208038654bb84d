import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

/**
 * The integration tests' offline snapshot check: `tsx test/integ/snapshot.ts` synthesizes each
 * `test/integ/integ.*.ts` through the project's CDK CLI (cdk.json's feature flags, no credentials)
 * and compares every stack's template and the test's `integ.json` with the committed
 * `integ.<name>.ts.snapshot/`, the layout `integ-runner` uses; `--update` rewrites the snapshot.
 *
 * Why not integ-runner itself: its newest release on npm (2.197.10, which bundles the cloud
 * assembly schema 53) refuses what aws-cdk-lib 2.276 writes ("Maximum schema version supported
 * is 53.x.x, but found 55.0.0"), in snapshot mode too. The snapshot keeps its layout, so a release
 * that reads schema 55 can take over: `integ-runner --directory test/integ --language typescript`.
 *
 * As integ-runner does without `diffAssets`, asset hashes are not compared (they change with any
 * handler's code): 64-hex strings are masked. So are the assertions' `salt`s, the instant of the
 * synth, which integ-tests-alpha adds so that assertions run again at every deploy.
 */

const DIRECTORY = resolve(__dirname);
const update = process.argv.includes('--update');

/** The JSON of a template or manifest with what changes at every synth masked. */
export function normalized(value: unknown, key?: string): unknown {
  if (typeof value === 'string') {
    if (key === 'salt') return '<salt>';
    // the digest of the archive's configuration is the test's own: a change of it is a change
    if (key === 'ConfigDigest') return value;
    return value.replace(/[a-f0-9]{64}/g, '<asset-hash>');
  }
  if (Array.isArray(value)) return value.map((v) => normalized(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        // the schema and CLI versions change with aws-cdk-lib, not with the test
        .filter(([k]) => !(key === undefined && (k === 'version' || k === 'minimumCliVersion')))
        .map(([k, v]) => [k, normalized(v, k)]),
    );
  }
  return value;
}

/** Where two JSON values differ: up to `limit` paths, each with both values. */
export function differences(a: unknown, b: unknown, path = '', limit = 10, out: string[] = []): string[] {
  if (out.length >= limit) return out;
  if (JSON.stringify(a) === JSON.stringify(b)) return out;
  const objects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object';
  if (!objects) {
    out.push(
      `${path || '(root)'}: snapshot ${JSON.stringify(a)?.slice(0, 120)}, now ${JSON.stringify(b)?.slice(0, 120)}`,
    );
    return out;
  }
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  for (const k of keys) {
    differences(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      `${path}/${k}`,
      limit,
      out,
    );
  }
  return out;
}

/** The files of one synthesized integration test that its snapshot holds, normalized. */
function synthesize(app: string): Map<string, string> {
  const out = mkdtempSync(join(tmpdir(), 'integ-snapshot-'));
  try {
    execFileSync(
      resolve('node_modules', '.bin', 'cdk'),
      ['synth', '--quiet', '--app', `npx tsx ${app}`, '-o', out],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } },
    );
    const files = readdirSync(out).filter((f) => f.endsWith('.template.json') || f === 'integ.json');
    return new Map(
      files.map((f) => [
        f,
        `${JSON.stringify(normalized(JSON.parse(readFileSync(join(out, f), 'utf8'))), null, 1)}\n`,
      ]),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function check(app: string): string[] {
  const snapshot = join(DIRECTORY, `${basename(app)}.snapshot`);
  const now = synthesize(app);
  if (update) {
    rmSync(snapshot, { recursive: true, force: true });
    mkdirSync(snapshot, { recursive: true });
    for (const [file, text] of now) writeFileSync(join(snapshot, file), text);
    return [];
  }
  if (!existsSync(snapshot)) return [`${basename(app)}: no snapshot; run npm run integ:update and commit it`];
  const committed = readdirSync(snapshot);
  const problems = [...new Set([...committed, ...now.keys()])].flatMap((file) => {
    const before = committed.includes(file) ? readFileSync(join(snapshot, file), 'utf8') : undefined;
    const after = now.get(file);
    if (before === after) return [];
    if (before === undefined || after === undefined)
      return [`${basename(app)}: ${file} is ${before === undefined ? 'new' : 'gone'}`];
    return differences(JSON.parse(before), JSON.parse(after)).map((d) => `${basename(app)}: ${file}${d}`);
  });
  return problems;
}

function main(): number {
  execFileSync(process.execPath, [resolve('bin', 'build.mjs'), 'handlers'], { stdio: 'ignore' });
  const apps = readdirSync(DIRECTORY)
    .filter((f) => /^integ\..+\.ts$/.test(f))
    .map((f) => join('test', 'integ', f));
  let failed = 0;
  for (const app of apps) {
    const problems = check(app);
    console.log(`${problems.length ? 'CHANGED' : update ? 'UPDATED' : 'UNCHANGED'}  ${app}`);
    for (const p of problems) console.log(`  ${p}`);
    if (problems.length) failed++;
  }
  if (failed)
    console.log(
      `${failed} of ${apps.length} integration snapshots differ from the app: if the change is meant, ` +
        'npm run integ:update, review the diff and commit it (and run npm run test:aws before a release)',
    );
  return failed ? 1 : 0;
}

if (require.main === module) process.exitCode = main();
