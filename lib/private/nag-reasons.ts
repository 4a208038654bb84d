import { aws_lambda as lambda, aws_s3 as s3, aws_sqs as sqs, custom_resources as cr } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ArchiveConfig } from '../../src/config/config';
import { ATHENA_RESULTS_PREFIX } from './bucket';
import {
  acknowledgeActionWildcards,
  acknowledgeRule,
  acknowledgeWildcards,
  WildcardReason,
} from './nag-acknowledgments';

/** The resource wildcards the construct grants on purpose. */
function wildcardReasons(config: ArchiveConfig): WildcardReason[] {
  const prefixes = [config.lake.prefix, config.lake.reportsPrefix, ATHENA_RESULTS_PREFIX].map((p) =>
    p.replace(/[.]/g, '\\.'),
  );
  return [
    {
      resource: new RegExp(`^(<[A-Za-z0-9]+\\.Arn>|arn:[^*]+)/(${prefixes.join('|')})/\\*$`),
      reason:
        "Object keys under one of the lake's own prefixes (archive, reports, Athena results): run locations are only known at run time.",
    },
    {
      resource: new RegExp(`:table/${config.catalog.database}/\\*$`),
      reason: "Tables of the archive's own Glue database: one per configured table.",
    },
    {
      resource: /^\*$/,
      reason:
        'redshift-data DescribeStatement, GetStatementResult, ListStatements and CancelStatement, and lambda:GetAccountSettings (preflight), allow no resource-level permission.',
    },
    {
      resource: /:redshift-serverless:.*:workgroup\/\*$/,
      reason:
        "A Serverless workgroup's ARN holds its id, which the configuration (a name) does not know at synth time.",
    },
    {
      resource: /:redshift-serverless:.*:namespace\/\*$/,
      reason:
        "A Serverless namespace's ARN holds its id, which the configuration (a workgroup name) does not know at synth time; the association changes only its own role in it.",
    },
    {
      resource: /^<[A-Za-z0-9]+\.Arn>:\*$/,
      reason: 'The CDK provider framework invokes the versions of its own handler functions.',
    },
  ];
}

/** What the construct built that cdk-nag (AwsSolutions) reports on purpose. */
export interface NagSubjects {
  readonly config: ArchiveConfig;
  readonly bucket: s3.IBucket;
  readonly deadLetters: sqs.Queue;
  readonly providers: cr.Provider[];
  readonly functions: lambda.IFunction[];
}

/** Acknowledges the cdk-nag (AwsSolutions) findings the construct causes on purpose, each with its reason. */
export function acknowledgeArchiveFindings(scope: Construct, subjects: NagSubjects): void {
  acknowledgeWildcards(
    scope,
    wildcardReasons(subjects.config),
    'AWSLambdaBasicExecutionRole only lets a function write its own logs.',
  );
  acknowledgeActionWildcards(scope, [
    {
      action: /^kms:(GenerateDataKey|ReEncrypt)\*$/,
      reason:
        "CDK's grantEncryptDecrypt, on the given encryptionKey only: SSE-KMS writes, multipart uploads and reads of the lake and Athena results use its data-key actions; ReEncrypt* comes with the grant.",
    },
  ]);
  for (const fn of subjects.functions) {
    acknowledgeRule(
      fn,
      'AwsSolutions-L1',
      'Node.js 22 is the newest runtime the pinned aws-cdk-lib offers and the one the code is tested on.',
    );
  }
  acknowledgeRule(
    subjects.deadLetters,
    'AwsSolutions-SQS3',
    'This queue is the dead-letter queue of the unload Lambda and its rules.',
  );
  for (const provider of subjects.providers) {
    acknowledgeRule(
      provider,
      'AwsSolutions-L1',
      'The provider framework chooses the runtime of its own functions.',
    );
    acknowledgeRule(
      provider,
      'AwsSolutions-SF1',
      "The provider framework's waiter state machine logs through its Lambda functions.",
    );
    acknowledgeRule(
      provider,
      'AwsSolutions-SF2',
      'X-Ray tracing of a deploy-time waiter state machine is not needed.',
    );
  }
  if (subjects.bucket instanceof s3.Bucket) {
    acknowledgeRule(
      subjects.bucket,
      'AwsSolutions-S1',
      "Server access logs need a second bucket whose retention is the owner's policy; CloudTrail data events audit the lake, and a bucket with logging can be passed in as `bucket`.",
    );
  }
}
