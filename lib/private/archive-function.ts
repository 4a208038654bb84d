import {
  ArnFormat,
  Duration,
  Stack,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_s3 as s3,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ArchiveConfig } from '../../src/config/config';
import { ENV, type ManualEvent, WATCHDOG_EVERY_MINUTES } from '../../src/contract';
import { yearlySchedule } from './yearly-schedule';
import { ATHENA_RESULTS_PREFIX, lakeObjects } from './bucket';
import type { GlueCatalog, ArchiveWorkgroup } from './catalog';
import { prebuiltFunction } from './functions';
import type { KeyPolicies } from './key-policies';

/** The failed asynchronous invocations of the unload function and of its rules. */
export function createDeadLetters(
  scope: Construct,
  key: kms.IKey | undefined,
  keyPolicies: KeyPolicies,
): sqs.Queue {
  const queue = new sqs.Queue(scope, 'DeadLetters', {
    retentionPeriod: Duration.days(14),
    enforceSSL: true,
    encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: key,
  });
  if (key) {
    // EventBridge sends to a queue under a customer managed key only if the key policy admits it
    // (SQS Developer Guide, "Configure KMS permissions for AWS services"). Without a condition, as
    // there: AWS documents no aws:Source* key in the KMS calls EventBridge makes for a target, and
    // a condition on a key the request lacks would silently drop the dead letters.
    keyPolicies.admit(key, {
      sid: 'EventBridgeSendsToTheDeadLetterQueue',
      service: 'events.amazonaws.com',
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    });
  }
  return queue;
}

/** What the unload function is given: where it writes, what it registers, whom it runs as. */
export interface ArchiveFunctionProps {
  readonly config: ArchiveConfig;
  readonly bucket: s3.IBucket;
  readonly catalog: GlueCatalog;
  readonly workgroup: ArchiveWorkgroup;
  readonly redshiftRole: iam.IRole;
  readonly deadLetters: sqs.Queue;
  readonly statementPrefix: string;
  readonly timeout: Duration;
  /** Statements on the warehouse and its credentials (a Serverless role has them already). */
  readonly dataApi: iam.PolicyStatement[];
  readonly role?: iam.Role;
  readonly key?: kms.IKey;
}

/**
 * The unload function: one run at a time; failed asynchronous invocations land in the dead-letter
 * queue. Its triggers are added with it.
 */
export function createArchiveFunction(scope: Construct, props: ArchiveFunctionProps): lambda.Function {
  const { bucket, key } = props;
  const fn = prebuiltFunction(scope, 'Unload', 'unload.handler', {
    config: props.config,
    timeout: props.timeout,
    reservedConcurrentExecutions: 1,
    deadLetterQueueEnabled: true,
    deadLetterQueue: props.deadLetters,
    environment: {
      [ENV.lakeBucket]: bucket.bucketName,
      [ENV.redshiftRoleArn]: props.redshiftRole.roleArn,
      [ENV.athenaWorkgroup]: props.workgroup.name,
      [ENV.statementPrefix]: props.statementPrefix,
      // UNLOAD's KMS_KEY_ID takes a key id in every example AWS gives (Redshift Database Developer
      // Guide, UNLOAD); whether it also takes an ARN is not documented.
      ...(key ? { [ENV.kmsKeyId]: key.keyId } : {}),
    },
    description: 'Runs the yearly Redshift archive protocol (redshift-archive)',
    ...(props.role ? { role: props.role } : {}),
  });
  const stack = Stack.of(scope);
  const statements = [
    ...props.dataApi,
    ...lakeAndCatalogStatements(stack, props),
    ...preflightStatements(stack, props.config),
  ];
  for (const statement of statements) fn.addToRolePolicy(statement);
  key?.grantEncryptDecrypt(fn);
  addTriggers(scope, fn, props);
  return fn;
}

/** Partitions in Glue, run files and reports in the lake, counts through Athena. */
function lakeAndCatalogStatements(stack: Stack, props: ArchiveFunctionProps): iam.PolicyStatement[] {
  const { bucket, catalog, config } = props;
  return [
    new iam.PolicyStatement({
      sid: 'RegisterPartitions',
      actions: [
        'glue:GetTable',
        'glue:GetDatabase',
        'glue:GetPartition',
        'glue:GetPartitions',
        'glue:BatchCreatePartition',
        'glue:BatchDeletePartition',
      ],
      resources: catalog.arns,
    }),
    new iam.PolicyStatement({
      sid: 'ManageRunFilesAndReports',
      actions: ['s3:GetObject', 's3:DeleteObject', 's3:PutObject'],
      resources: [config.lake.prefix, config.lake.reportsPrefix, ATHENA_RESULTS_PREFIX].map((p) =>
        lakeObjects(bucket, p),
      ),
    }),
    new iam.PolicyStatement({
      sid: 'ListRunFiles',
      actions: ['s3:ListBucket', 's3:GetBucketLocation'],
      resources: [bucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'CountThroughAthena',
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
      resources: [props.workgroup.arn],
    }),
    // Athena says access to the `default` database "must be present" whatever database a query
    // names (Athena User Guide, "Fine-grained access to databases and tables in the AWS Glue Data
    // Catalog"); the count names its own database in QueryExecutionContext.
    new iam.PolicyStatement({
      sid: 'AthenaDefaultDatabase',
      actions: ['glue:GetDatabase'],
      resources: [
        catalog.catalogArn,
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: 'default' }),
      ],
    }),
  ];
}

/**
 * What preflight reads besides the warehouse: the warehouse's IAM roles (is ours in sync?) and
 * the account's Lambda settings (is concurrency left?). GetAccountSettings takes no resource.
 */
function preflightStatements(stack: Stack, config: ArchiveConfig): iam.PolicyStatement[] {
  const w = config.warehouse;
  const serverless = (resource: string) =>
    stack.formatArn({ service: 'redshift-serverless', resource, resourceName: '*' });
  const warehouse =
    w.type === 'provisioned'
      ? new iam.PolicyStatement({
          sid: 'PreflightReadsTheCluster',
          actions: ['redshift:DescribeClusters'],
          resources: [
            stack.formatArn({
              service: 'redshift',
              resource: 'cluster',
              resourceName: w.clusterIdentifier,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        })
      : new iam.PolicyStatement({
          sid: 'PreflightReadsTheNamespace',
          actions: ['redshift-serverless:GetWorkgroup', 'redshift-serverless:GetNamespace'],
          resources: [serverless('workgroup'), serverless('namespace')],
        });
  const account = new iam.PolicyStatement({
    sid: 'PreflightReadsTheAccount',
    actions: ['lambda:GetAccountSettings'],
    resources: ['*'],
  });
  return [warehouse, account];
}

/**
 * What invokes the unload function: the yearly schedule (a UTC cron at local midnight of
 * 1 January), the end of each of its statements, the hourly watchdog (status for the stalled-run
 * alarm, and the resume of a run whose completion event was lost), a
 * monthly preflight for the preflight alarm and a monthly light audit for the audit alarm.
 */
function addTriggers(
  scope: Construct,
  fn: lambda.Function,
  options: {
    readonly config: ArchiveConfig;
    readonly deadLetters: sqs.Queue;
    readonly statementPrefix: string;
  },
): void {
  const { timeZone } = options.config.retention;
  const invoke = (input?: ManualEvent) =>
    new targets.LambdaFunction(fn, {
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      deadLetterQueue: options.deadLetters,
      ...(input ? { event: events.RuleTargetInput.fromObject(input) } : {}),
    });
  new events.Rule(scope, 'Yearly', {
    description: `Archive rows older than the current year (${timeZone} midnight of 1 January)`,
    schedule: events.Schedule.cron({ ...yearlySchedule(timeZone), year: '*' }),
    targets: [invoke()],
  });
  new events.Rule(scope, 'StatementFinished', {
    description: 'Resume the archive run when one of its Redshift statements ends',
    eventPattern: {
      source: ['aws.redshift-data'],
      detailType: ['Redshift Data Statement Status Change'],
      detail: { statementName: [{ prefix: options.statementPrefix }] },
    },
    targets: [invoke()],
  });
  // Hourly: a resume is cheap (a ledger read and a statement listing when nothing is idle), and a
  // lost completion event should cost an hour, not a day.
  new events.Rule(scope, 'Watchdog', {
    description:
      'Hourly watchdog: status for the stalled-run alarm, and the resume of a run whose completion event was lost',
    schedule: events.Schedule.rate(Duration.minutes(WATCHDOG_EVERY_MINUTES)),
    targets: [invoke({ action: 'watchdog' })],
  });
  new events.Rule(scope, 'MonthlyPreflight', {
    description: 'Monthly preflight: would the next run work? (read only), for the preflight alarm',
    schedule: events.Schedule.cron({ minute: '0', hour: '6', day: '1', month: '*', year: '*' }),
    targets: [invoke({ action: 'preflight' })],
  });
  // Two hours after the preflight: with reserved concurrency 1, the two would otherwise start
  // together and one be throttled. Light (no "deep"): it lists files and partitions and reads
  // no archived row, so it costs no Spectrum scan and ends well within one invocation.
  new events.Rule(scope, 'MonthlyAudit', {
    description:
      'Monthly audit: is every archived batch still in the lake and the catalog as recorded? (read only), for the audit alarm',
    schedule: events.Schedule.cron({ minute: '0', hour: '8', day: '1', month: '*', year: '*' }),
    targets: [invoke({ action: 'audit' })],
  });
}
