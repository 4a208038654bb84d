import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { ArchiveConfig, loadConfig } from '../src/config/config';
import { InputError } from '../src/core/errors';
import { RedshiftArchiveStack } from '../lib/redshift-archive-stack';

/** `-c config=sample`: the contabyx sample of this repository, asked for by name. */
const SAMPLE = join(__dirname, '..', 'config', 'contabyx.json');

/**
 * `cdk synth -c config=<file>` (or `-c config=sample`). No configuration, or an invalid one, fails
 * synth naming the field, the bad value and what is allowed: a deploy never falls back to the
 * sample by itself.
 */
function configuration(app: App): ArchiveConfig {
  const given = app.node.tryGetContext('config') as string | undefined;
  if (given === undefined || given === '') {
    throw new InputError(
      'context config (cdk synth -c config=FILE): is missing; allowed: a configuration file, ' +
        'or -c config=sample for the contabyx sample of this repository',
    );
  }
  return loadConfig(given === 'sample' ? SAMPLE : given, 'context config (cdk synth -c config=FILE)');
}

/**
 * cdk-nag's AWS Solutions checks on every synth, where cdk-nag is installed: it is a
 * devDependency, so a pipeline that installs with `npm ci --omit=dev` synthesizes without it.
 */
async function addNagChecks(app: App): Promise<void> {
  let nag: typeof import('cdk-nag');
  try {
    nag = await import('cdk-nag');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const missing =
      (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && message.includes("'cdk-nag'");
    if (!missing) throw error;
    console.error(
      'cdk-nag is not installed (npm ci --omit=dev): synth runs without its AWS Solutions checks',
    );
    return;
  }
  Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app));
}

async function main(): Promise<void> {
  const app = new App();
  const alarmEmail = app.node.tryGetContext('alarmEmail') as string | undefined;
  // Serverless only: the name of the role whose database user (IAMR:<name>) runs the stack's SQL.
  const dataApiRoleName = app.node.tryGetContext('dataApiRoleName') as string | undefined;
  let config: ArchiveConfig;
  try {
    config = configuration(app);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  new RedshiftArchiveStack(
    app,
    (app.node.tryGetContext('stackName') as string | undefined) ?? 'RedshiftArchive',
    {
      config,
      ...(alarmEmail ? { alarmEmail } : {}),
      ...(dataApiRoleName ? { dataApiRoleName } : {}),
      description:
        'Yearly archival of Redshift rows to an S3 Parquet lake, queryable from Athena and Redshift (redshift-archive)',
    },
  );
  await addNagChecks(app);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
