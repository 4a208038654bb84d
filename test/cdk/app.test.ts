import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDigest, loadConfig } from '../../src/config/config';

/** This repository's CDK app, as `cdk synth` runs it, with `context` as the `-c` options. */
function synthApp(context: Record<string, string>) {
  const out = join(mkdtempSync(join(tmpdir(), 'app-')), 'out');
  const run = spawnSync(process.execPath, [require.resolve('tsx/cli'), 'bin/app.ts'], {
    env: {
      ...process.env,
      CDK_OUTDIR: out,
      CDK_VALIDATION: 'false',
      CDK_CONTEXT_JSON: JSON.stringify(context),
    },
    encoding: 'utf8',
  });
  return { ...run, out };
}

test('fails to synthesize with no configuration, rather than deploy the sample, naming -c config=sample', () => {
  const run = synthApp({});
  expect(run.status).toBe(1);
  expect(run.stderr).toBe(
    'context config (cdk synth -c config=FILE): is missing; allowed: a configuration file, ' +
      'or -c config=sample for the contabyx sample of this repository\n',
  );
});

test('synthesizes the contabyx sample when asked for it by name', () => {
  const run = synthApp({ config: 'sample' });
  expect(run.status).toBe(0);
  const template = JSON.parse(readFileSync(join(run.out, 'RedshiftArchive.template.json'), 'utf8'));
  expect(template.Outputs.ConfigurationDigest.Value).toBe(configDigest(loadConfig('config/contabyx.json')));
});
