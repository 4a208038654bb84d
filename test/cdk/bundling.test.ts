import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { configJson } from '../../src/config/config';
import { CONFIG_FILE } from '../../src/contract';
import { HANDLERS } from '../../lib/private/functions';
import { ledgerAnswers, BUCKET, PREFIX, ROLE, ScriptedAws } from '../../devkit/scripted-aws';
import { lambdaContext } from '../support/lambda-context';
import { config, stackOf } from './support';

// Inside the repository, so that the bundles resolve the AWS SDK from node_modules as Lambda's
// runtime provides it.
const OUT = resolve('cdk.out', 'bundling-test');
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

/** What each handler module exports, by prebuilt folder. */
const EXPORTS = {
  unload: ['handler'],
  'schema-and-views': ['isComplete', 'onEvent'],
  'role-association': ['isComplete', 'onEvent'],
};

test('the build bundles each handler with esbuild into a module that needs only Node and the AWS SDK, the same bytes every time', async () => {
  // when the handlers are bundled again, the way `npm run build` does it
  const built = join(OUT, 'build');
  execFileSync(process.execPath, ['bin/build.mjs', '--out', built, 'handlers'], { stdio: 'pipe' });

  for (const [name, exported] of Object.entries(EXPORTS)) {
    const code = readFileSync(join(built, 'handlers', name, 'index.js'), 'utf8');
    expect(readdirSync(join(built, 'handlers', name)).sort()).toEqual(['index.js', 'index.js.map']);
    // at run time a bundle requires only Node's built-ins and the AWS SDK that Lambda's runtime
    // provides: everything else, middy and Powertools included, is inside it
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] as string);
    const provided = (m: string) =>
      m.startsWith('@aws-sdk/') || builtinModules.includes(m.replace(/^node:/, ''));
    expect(required.filter((m) => !provided(m))).toEqual([]);
    expect(code.includes('@duckdb/node-api')).toBe(false);
    expect(code.includes('Middleware must be an object containing at least one key')).toBe(true); // @middy/core's
    // no configuration inside: it is written beside the unload handler at synth
    expect(code.includes('contabyx')).toBe(false);
    const module = (await import(join(built, 'handlers', name, 'index.js'))) as object;
    expect(
      Object.keys(module)
        .filter((k) => k !== 'default')
        .sort(),
    ).toEqual(exported);
    // the same sources give the same bytes, so the assets' hashes change only with the code: the
    // folders the stack deploys (dist/handlers, made by `npm run build`) are these
    expect(readFileSync(join(HANDLERS, name, 'index.js'), 'utf8')).toBe(code);
  }
});

test('the stack deploys the prebuilt handlers as they are, with the configuration beside the unload handler and the views setup', () => {
  // given an app that stages its assets
  const app = new App({ outdir: join(OUT, 'app'), builtinCloudFormationValidation: false });
  const template = Template.fromStack(stackOf({}, app));
  app.synth();
  const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) =>
    String(f.Properties.Description ?? '').includes('redshift-archive'),
  );
  const staged = functions.map((f) => {
    const asset = join(OUT, 'app', `asset.${String(f.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
    const description = String(f.Properties.Description);
    return { handler: f.Properties.Handler as string, description, asset, files: readdirSync(asset).sort() };
  });

  // then the unload function's code and the views setup's are each a prebuilt handler and the
  // configuration it reads ...
  const unload = staged.find((s) => s.handler === 'index.handler')!;
  const views = staged.find((s) => s.description.startsWith('Creates the ledger'))!;
  for (const [fn, folder] of [
    [unload, 'unload'],
    [views, 'schema-and-views'],
  ] as const) {
    expect(fn.files).toEqual(['config.json', 'index.js', 'index.js.map']);
    expect(readFileSync(join(fn.asset, CONFIG_FILE), 'utf8')).toBe(configJson(config()));
    expect(readFileSync(join(fn.asset, 'index.js'), 'utf8')).toBe(
      readFileSync(join(HANDLERS, folder, 'index.js'), 'utf8'),
    );
  }
  // ... and the three other custom-resource functions share two assets: the prebuilt folders themselves
  const others = staged.filter((s) => s !== unload && s !== views);
  expect(others.map((s) => s.handler).sort()).toEqual(['index.isComplete', 'index.onEvent', 'index.onEvent']);
  expect(new Set(others.map((s) => s.asset)).size).toBe(2);
  for (const other of others) expect(other.files).toEqual(['index.js', 'index.js.map']);
});

test('the code of the unload function and of the views setup changes with the configuration, and the other functions code does not', () => {
  const codeOf = (props: Parameters<typeof stackOf>[0]) =>
    Object.fromEntries(
      Object.entries(Template.fromStack(stackOf(props)).findResources('AWS::Lambda::Function'))
        .filter(([, f]) => String(f.Properties.Description ?? '').includes('redshift-archive'))
        .map(([id, f]) => [id.replace(/[0-9A-F]{8}$/, ''), f.Properties.Code.S3Key as string]),
    );
  const sample = codeOf({});
  const twoYears = codeOf({ config: config((c) => ({ ...c, retention: { keepYears: 2 } })) });
  expect(codeOf({})).toEqual(sample);
  const changed = Object.keys(sample).filter((id) => sample[id] !== twoYears[id]);
  expect(changed.sort()).toEqual(['ArchiveSchemaIsComplete', expect.stringMatching(/^ArchiveUnload/)]);
});

test('the bundled unload handler reads the configuration written beside it and answers a status', async () => {
  // given the unload function's code as the stack stages it, with the configuration beside it
  const app = new App({ outdir: join(OUT, 'status'), builtinCloudFormationValidation: false });
  const template = Template.fromStack(stackOf({}, app));
  app.synth();
  const unload = Object.values(template.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Handler === 'index.handler',
  );
  const asset = join(OUT, 'status', `asset.${String(unload?.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
  const aws = new ScriptedAws(ledgerAnswers('running'));
  Object.assign(process.env, {
    LAMBDA_TASK_ROOT: asset,
    LAKE_BUCKET: BUCKET,
    REDSHIFT_ROLE_ARN: ROLE,
    ARCHIVE_STATEMENT_PREFIX: PREFIX,
  });
  try {
    // when Lambda invokes it, as it would in that folder
    const { handler } = (await import(join(asset, 'index.js'))) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    const outcome = await handler(
      { action: 'status' },
      lambdaContext('Unload', 'c0ffee00-0000-4000-8000-000000000002'),
    );

    // then it ran the protocol on the configured warehouse: the ledger's status of the sample
    expect(outcome).toMatchObject({ outcome: 'status', status: { active: { state: 'running' } } });
    expect(aws.sent[0]).toMatchObject({ name: 'ledger.shape' });
  } finally {
    for (const key of ['LAMBDA_TASK_ROOT', 'LAKE_BUCKET', 'REDSHIFT_ROLE_ARN', 'ARCHIVE_STATEMENT_PREFIX'])
      delete process.env[key];
  }
});
