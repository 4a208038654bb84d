import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ArchiveConfig, loadConfig } from '../src/config/config';
import { InputError } from '../src/core/errors';
import { RedshiftArchiveStack } from '../lib/redshift-archive-stack';

// `cdk synth -c config=<file>`; the contabyx sample by default. An invalid file fails synth,
// naming the field, the bad value and what is allowed.
const app = new App();
const file =
  (app.node.tryGetContext('config') as string | undefined) ??
  join(__dirname, '..', 'config', 'contabyx.json');
const alarmEmail = app.node.tryGetContext('alarmEmail') as string | undefined;
// Serverless only: the name of the role whose database user (IAMR:<name>) runs the stack's SQL.
const dataApiRoleName = app.node.tryGetContext('dataApiRoleName') as string | undefined;
let config: ArchiveConfig;
try {
  config = loadConfig(file, 'context config (cdk synth -c config=FILE)');
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
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
