import { App, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type IRedshiftArchive, loadConfig, RedshiftArchive } from 'redshift-archive';

/** A team's own stack that holds the archive among its other resources. */
class DataPlatformStack extends Stack {
  readonly archive: IRedshiftArchive;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    this.archive = new RedshiftArchive(this, 'Archive', { config: loadConfig('archive.json') });
  }
}

const app = new App();
new DataPlatformStack(app, 'DataPlatform', { description: 'A consumer of redshift-archive' });
