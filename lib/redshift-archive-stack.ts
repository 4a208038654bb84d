import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { configDigest } from '../src/config/config';
import { MANUAL_ACTIONS, STACK_OUTPUTS } from '../src/contract';
import { RedshiftArchive, RedshiftArchiveProps } from './redshift-archive';

/** Properties of {@link RedshiftArchiveStack}: those of a stack and those of the construct. */
export interface RedshiftArchiveStackProps extends StackProps, RedshiftArchiveProps {}

/** The deployable app: one {@link RedshiftArchive}. */
export class RedshiftArchiveStack extends Stack {
  /** The archive. */
  readonly archive: RedshiftArchive;

  constructor(scope: Construct, id: string, props: RedshiftArchiveStackProps) {
    super(scope, id, props);
    this.archive = new RedshiftArchive(this, 'Archive', props);
    const key = this.archive.bucket.encryptionKey;
    const outputs: Partial<Record<(typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS], [string, string]>> = {
      LakeBucketName: [this.archive.bucket.bucketName, 'The lake bucket'],
      RedshiftRoleArn: [
        this.archive.redshiftRole.roleArn,
        this.archive.roleAssociation
          ? 'The role Redshift assumes for UNLOAD and Spectrum; the stack associated it with the warehouse'
          : 'The role Redshift assumes for UNLOAD and Spectrum (warehouse.roleArn: yours to associate and allow)',
      ],
      DatabaseUser: [
        this.archive.databaseUser,
        'The database identity of every function of the stack: grant it the privileges the README lists',
      ],
      UnloadFunctionName: [
        this.archive.unloadFunction.functionName,
        `Invoke with {"action": ${MANUAL_ACTIONS.map((a) => `"${a}"`).join(' | ')}}, or use redshift-archive --stack`,
      ],
      AthenaWorkgroup: [this.archive.workgroup.ref, 'Query the archive from Athena in this workgroup'],
      AlarmTopicArn: [this.archive.alarmTopic.topicArn, 'Alarms of the archive job'],
      ConfigurationDigest: [
        configDigest(props.config),
        'SHA-256 of the deployed configuration: redshift-archive --stack refuses another file',
      ],
      ...(key ? { LakeKmsKeyId: [key.keyId, 'The KMS key of the lake, which UNLOAD names'] } : {}),
    };
    for (const [id, [value, description]] of Object.entries(outputs) as [string, [string, string]][])
      new CfnOutput(this, id, { value, description });
  }
}
