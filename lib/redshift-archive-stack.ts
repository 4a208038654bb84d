import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RedshiftArchive, RedshiftArchiveProps } from './redshift-archive';

/** Properties of {@link RedshiftArchiveStack}: those of the construct. */
export type RedshiftArchiveStackProps = StackProps & RedshiftArchiveProps;

/** The deployable app: one {@link RedshiftArchive}. */
export class RedshiftArchiveStack extends Stack {
  /** The archive. */
  readonly archive: RedshiftArchive;

  constructor(scope: Construct, id: string, props: RedshiftArchiveStackProps) {
    super(scope, id, props);
    this.archive = new RedshiftArchive(this, 'Archive', props);
  }
}
