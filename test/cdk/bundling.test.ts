import { existsSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { stackOf } from './support';

// Inside the repository, so that the bundles resolve the AWS SDK from node_modules as Lambda's runtime provides it.
const OUT = resolve('cdk.out', 'bundling-test');

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

test('bundles each handler with the local esbuild into a module that loads and exports its handler', async () => {
  rmSync(OUT, { recursive: true, force: true });
  const app = new App({ outdir: OUT, builtinCloudFormationValidation: false });
  const template = Template.fromStack(stackOf({}, app));
  app.synth();
  const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) =>
    String(f.Properties.Description ?? '').includes('redshift-archive'),
  );
  expect(functions).toHaveLength(5);
  const loaded = functions.map(async (f) => {
    const asset = join(OUT, `asset.${String(f.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
    const code = readFileSync(join(asset, 'index.js'), 'utf8');
    expect(existsSync(join(asset, 'index.js.map'))).toBe(true);
    expect(code.includes('@duckdb/node-api')).toBe(false);
    // at run time a bundle requires only Node's built-ins and the AWS SDK that Lambda's runtime
    // provides: everything else, middy and Powertools included, is inside it
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] as string);
    const provided = (m: string) =>
      m.startsWith('@aws-sdk/') || builtinModules.includes(m.replace(/^node:/, ''));
    expect(required.filter((m) => !provided(m))).toEqual([]);
    expect(code.includes('Middleware must be an object containing at least one key')).toBe(true); // @middy/core's
    // the unload Lambda's configuration is inlined at bundle time, not read from the 4 KB environment
    expect(code.includes('"contabyx-parquet"')).toBe(f.Properties.Handler === 'index.handler');
    const exported = Object.keys((await import(join(asset, 'index.js'))) as object)
      .filter((k) => k !== 'default')
      .sort();
    return [f.Properties.Handler, exported];
  });
  // the unload function, and the onEvent and isComplete of the schema and of the role association
  expect((await Promise.all(loaded)).sort()).toEqual([
    ['index.handler', ['handler']],
    ['index.isComplete', ['isComplete', 'onEvent']],
    ['index.isComplete', ['isComplete', 'onEvent']],
    ['index.onEvent', ['isComplete', 'onEvent']],
    ['index.onEvent', ['isComplete', 'onEvent']],
  ]);
});
