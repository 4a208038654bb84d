import { join } from 'node:path';
import {
  Annotations,
  ArnFormat,
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  aws_athena as athena,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as actions,
  aws_events as events,
  aws_events_targets as targets,
  aws_glue as glue,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_lambda_nodejs as nodejs,
  aws_logs as logs,
  aws_s3 as s3,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
  aws_sqs as sqs,
  custom_resources as cr,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ArchiveConfig, configJson } from '../src/config/config';
import { glueColumns, GLUE_PARTITION_KEYS, PARQUET_STORAGE } from '../src/core/glue-schema';
import { acknowledgeActionWildcards, acknowledgeRule, acknowledgeWildcards } from './nag-acknowledgments';
import { statementPrefix } from './statement-prefix';
import { yearlySchedule } from './yearly-schedule';

/** Where Athena writes query results in the lake bucket; no archive table reads it. */
export const ATHENA_RESULTS_PREFIX = 'athena-results';

/** The services that assume the role Redshift uses for UNLOAD and Spectrum. */
const REDSHIFT_SERVICES = ['redshift.amazonaws.com', 'redshift-serverless.amazonaws.com'];

/** Storage classes that Athena and Spectrum can still read without a restore. */
const READABLE_CLASSES = [
  s3.StorageClass.INFREQUENT_ACCESS,
  s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
  s3.StorageClass.INTELLIGENT_TIERING,
];

/** When the archive's objects move to a cheaper storage class. */
export interface ArchiveTransition {
  /** One of Standard-IA, Glacier Instant Retrieval or Intelligent-Tiering (without its archive tiers). */
  readonly storageClass: s3.StorageClass;
  /** Age of an object when it moves. */
  readonly after: Duration;
}

/** Properties of {@link RedshiftArchive}. */
export interface RedshiftArchiveProps {
  /** The validated configuration (`loadConfig` or `parseConfig`). */
  readonly config: ArchiveConfig;
  /**
   * An existing bucket for the lake; its own settings (encryption, versioning, lifecycle) stay the owner's.
   * @default - a new bucket: no public access, TLS only, encrypted, versioned, retained
   */
  readonly bucket?: s3.IBucket;
  /**
   * Encrypt the new bucket, the exported files, the queues and the alarm topic with this key.
   *
   * A `kms.Key` of this app gets the key-policy statements that CloudWatch (publishing alarms to
   * the topic) and EventBridge (sending to the dead-letter queue) need. An imported key's policy
   * is its owner's: synth warns with the statements to add.
   * @default - S3-managed keys for the bucket and exported files, SQS-managed keys for the queue,
   * and a customer managed key of its own for the alarm topic
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The customer managed key that encrypts `warehouse.secretArn`; both functions that read the
   * secret get `kms:Decrypt` on it through Secrets Manager. Only with a provisioned warehouse that
   * names `secretArn`.
   * @default - the secret uses the AWS managed key `aws/secretsmanager`
   */
  readonly secretKey?: kms.IKey;
  /**
   * What happens to the bucket, the Glue database and tables when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * When archived files move to a cheaper storage class that Athena and Spectrum can still read.
   * @default - Standard-IA after 90 days
   */
  readonly archiveTransition?: ArchiveTransition;
  /**
   * Send alarms to this address too.
   * @default - no e-mail subscription; subscribe to the topic yourself
   */
  readonly alarmEmail?: string;
  /**
   * The most bytes one Athena query in the archive's workgroup may scan.
   * @default - 10 GiB
   */
  readonly athenaBytesScannedCutoffPerQuery?: number;
  /**
   * The name of the one IAM role that both functions which send SQL (the unload function and the
   * schema-and-views resource) use on Redshift Serverless. Serverless derives the database user
   * from the caller's role (`IAMR:<role name>`), so this name is the database identity: knowing it
   * before the first deploy lets its privileges be granted before the deploy runs SQL as it. IAM
   * names are global: two stacks of the same name in two Regions of one account need different
   * names. Only with a Serverless warehouse.
   * @default - `<stack name in lower case>-data-api`
   */
  readonly dataApiRoleName?: string;
  /**
   * Timeout of the unload Lambda; it stops waiting for Redshift a minute before it.
   * @default Duration.minutes(15)
   */
  readonly unloadTimeout?: Duration;
}

function invalid(field: string, value: unknown, allowed: string): never {
  throw new Error(
    `RedshiftArchive props: ${field}: ${JSON.stringify(value)} is not allowed; allowed: ${allowed}`,
  );
}

/**
 * IAM role names (IAM API Reference, CreateRole `RoleName`), in lower case: the database user
 * `IAMR:<name>` then reads the same whether or not Redshift folds it to lower case.
 */
const DATA_API_ROLE_NAME = /^[a-z0-9+=,.@_-]{1,64}$/;

function checkRoleName(field: string, name: string): void {
  if (!DATA_API_ROLE_NAME.test(name)) {
    invalid(field, name, 'an IAM role name in lower case: a-z, 0-9 and +=,.@_- , at most 64 characters');
  }
}

function validateProps(props: RedshiftArchiveProps): void {
  const { config } = props;
  const transition = props.archiveTransition;
  if (transition && !READABLE_CLASSES.includes(transition.storageClass)) {
    invalid(
      'archiveTransition.storageClass',
      transition.storageClass.value,
      'STANDARD_IA, GLACIER_IR or INTELLIGENT_TIERING (Athena and Spectrum cannot read Glacier Flexible Retrieval or Deep Archive)',
    );
  }
  if (
    transition &&
    transition.after.toDays() < 30 &&
    transition.storageClass === s3.StorageClass.INFREQUENT_ACCESS
  ) {
    invalid(
      'archiveTransition.after',
      `${transition.after.toDays()} days`,
      'at least 30 days for STANDARD_IA (an S3 rule)',
    );
  }
  if (props.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)) {
    invalid('alarmEmail', props.alarmEmail, 'an e-mail address');
  }
  const cutoff = props.athenaBytesScannedCutoffPerQuery;
  if (cutoff !== undefined && (!Number.isInteger(cutoff) || cutoff < 10_000_000)) {
    invalid(
      'athenaBytesScannedCutoffPerQuery',
      cutoff,
      'a whole number of bytes, at least 10000000 (an Athena rule)',
    );
  }
  const w = config.warehouse;
  if (props.dataApiRoleName !== undefined) {
    if (w.type !== 'serverless') {
      invalid(
        'dataApiRoleName',
        props.dataApiRoleName,
        'only with a Serverless warehouse (a provisioned one uses dbUser or secretArn)',
      );
    }
    checkRoleName('dataApiRoleName', props.dataApiRoleName);
  }
  if (props.secretKey && !(w.type === 'provisioned' && w.secretArn !== undefined)) {
    invalid(
      'secretKey',
      props.secretKey.node.path,
      'only with a provisioned warehouse that names secretArn (the key that encrypts that secret)',
    );
  }
  const timeout = props.unloadTimeout?.toSeconds();
  if (timeout !== undefined && (timeout < 180 || timeout > 900)) {
    invalid('unloadTimeout', `${timeout} seconds`, 'from 3 to 15 minutes');
  }
  const prefixes = [config.lake.prefix, config.lake.reportsPrefix, ATHENA_RESULTS_PREFIX];
  for (const [i, a] of prefixes.entries()) {
    for (const b of prefixes.slice(i + 1)) {
      if (a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)) {
        invalid(
          'config.lake',
          { prefix: config.lake.prefix, reportsPrefix: config.lake.reportsPrefix },
          `prefixes that do not overlap each other or ${ATHENA_RESULTS_PREFIX}`,
        );
      }
    }
  }
}

/**
 * The whole yearly archival of Redshift tables to an S3 Parquet lake: the bucket, the Glue
 * database and tables, an Athena workgroup, the role Redshift uses for UNLOAD and Spectrum, the
 * unload Lambda and its triggers, the custom resource that creates the schemas and union views,
 * and the alarms.
 */
export class RedshiftArchive extends Construct {
  /** The lake. */
  readonly bucket: s3.IBucket;
  /**
   * The role that Redshift assumes for UNLOAD and Spectrum: the stack's own, which it associates
   * with the cluster or namespace, or the one `warehouse.roleArn` names (its owner's).
   */
  readonly redshiftRole: iam.IRole;
  /**
   * The resource that associates the stack's own Redshift role with the warehouse and waits until
   * it is in sync; the external schema is created after it.
   * @default - none when `warehouse.roleArn` names a role that is already associated
   */
  readonly roleAssociation?: CustomResource;
  /**
   * The one database identity of every function that sends SQL: the configured `dbUser`, the ARN
   * of the configured secret, or on Serverless `IAMR:<name of the shared role>`. Grant it the
   * privileges the README lists.
   */
  readonly databaseUser: string;
  /** The Lambda that runs the archive protocol. */
  readonly unloadFunction: nodejs.NodejsFunction;
  /** Alarms go here. */
  readonly alarmTopic: sns.Topic;
  /** The Athena workgroup for querying the archive. */
  readonly workgroup: athena.CfnWorkGroup;
  /** The Glue database of the archive tables. */
  readonly database: glue.CfnDatabase;
  /** Key-policy statements that an imported `encryptionKey` lacks; synth warns with them. */
  private readonly ownerKeyStatements: iam.PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: RedshiftArchiveProps) {
    super(scope, id);
    validateProps(props);
    const { config } = props;
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const key = props.encryptionKey;
    // Both functions that send Data API statements name them with it, and the rule matches it.
    const namePrefix = statementPrefix(stack.stackName);

    this.bucket = props.bucket ?? this.createBucket(props, removalPolicy);
    const lakeArn = (prefix: string) => this.bucket.arnForObjects(`${prefix}/*`);

    // Glue: one database, one external table per archived table, partitions registered by the job.
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: config.catalog.database,
        description: 'Archived Redshift rows (redshift-archive)',
      },
    });
    this.database.applyRemovalPolicy(removalPolicy);
    const tables = config.tables.map((table) => {
      const name = table.name.toLowerCase();
      const cfn = new glue.CfnTable(this, `Table${table.name}`, {
        catalogId: stack.account,
        databaseName: config.catalog.database,
        tableInput: {
          name,
          tableType: 'EXTERNAL_TABLE',
          parameters: { classification: 'parquet', EXTERNAL: 'TRUE', 'parquet.compression': 'SNAPPY' },
          partitionKeys: GLUE_PARTITION_KEYS.map((k) => ({ name: k.name, type: k.type })),
          storageDescriptor: {
            columns: glueColumns(table),
            location: this.bucket.s3UrlForObject(`${config.lake.prefix}/${name}/`),
            inputFormat: PARQUET_STORAGE.inputFormat,
            outputFormat: PARQUET_STORAGE.outputFormat,
            serdeInfo: { serializationLibrary: PARQUET_STORAGE.serializationLibrary },
          },
        },
      });
      cfn.addResourceDependency(this.database);
      cfn.applyRemovalPolicy(removalPolicy);
      return cfn;
    });
    const catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
    const glueArns = [
      catalogArn,
      stack.formatArn({ service: 'glue', resource: 'database', resourceName: config.catalog.database }),
      stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${config.catalog.database}/*` }),
    ];

    // Athena: results in the lake bucket under their own prefix; the settings are enforced.
    const workgroupName = config.catalog.athenaWorkgroup ?? `${config.catalog.database}-archive`;
    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: workgroupName,
      description: 'Queries of the Redshift archive',
      state: 'ENABLED',
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.athenaBytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        resultConfiguration: {
          outputLocation: this.bucket.s3UrlForObject(`${ATHENA_RESULTS_PREFIX}/`),
          encryptionConfiguration: key
            ? { encryptionOption: 'SSE_KMS', kmsKey: key.keyArn }
            : { encryptionOption: 'SSE_S3' },
        },
      },
    });
    const workgroupArn = stack.formatArn({
      service: 'athena',
      resource: 'workgroup',
      resourceName: workgroupName,
    });

    // The role Redshift assumes: write and read the lake prefix only, read the catalog. The stack's
    // own, or one that warehouse.roleArn names, which is its owner's: the stack changes nothing of it
    // and says at synth what it must allow.
    const w = config.warehouse;
    const roleStatements = this.redshiftRoleStatements(config, lakeArn, glueArns);
    if (w.roleArn) {
      this.redshiftRole = iam.Role.fromRoleArn(this, 'RedshiftRole', w.roleArn, { mutable: false });
      this.warnRoleOwner(config, w.roleArn, [
        ...roleStatements,
        ...(key
          ? [
              new iam.PolicyStatement({
                sid: 'UseTheArchiveKey',
                actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
                resources: [key.keyArn],
              }),
            ]
          : []),
      ]);
    } else {
      const role = new iam.Role(this, 'RedshiftRole', {
        assumedBy: new iam.CompositePrincipal(...REDSHIFT_SERVICES.map((s) => new iam.ServicePrincipal(s))),
        description: 'Redshift UNLOAD to the archive lake and Spectrum reads of it (redshift-archive)',
      });
      for (const statement of roleStatements) role.addToPolicy(statement);
      key?.grantEncryptDecrypt(role);
      this.redshiftRole = role;
    }

    const dataApi = this.dataApiStatements(config, props.secretKey);
    // One database identity for both functions that send SQL. Provisioned: the configured dbUser or
    // secret, whatever the caller's role. Serverless: the Data API derives the user from the caller's
    // role (`IAMR:<role name>`; Redshift Management Guide, "Authorizing access to the Amazon Redshift
    // Data API"), so both functions run as one named role, whose user owns what setup creates.
    let dataApiRole: iam.Role | undefined;
    if (w.type === 'serverless') {
      const roleName = props.dataApiRoleName ?? `${stack.stackName.toLowerCase()}-data-api`;
      dataApiRole = this.createDataApiRole(roleName, props.dataApiRoleName === undefined);
      this.databaseUser = `IAMR:${roleName}`;
    } else {
      // the configuration names exactly one of the two
      this.databaseUser = (w.dbUser ?? w.secretArn) as string;
    }

    // The unload Lambda: one run at a time; failed async invocations land in a dead-letter queue.
    const deadLetters = new sqs.Queue(this, 'DeadLetters', {
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
      this.admitService(key, {
        sid: 'EventBridgeSendsToTheDeadLetterQueue',
        service: 'events.amazonaws.com',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      });
    }
    const timeout = props.unloadTimeout ?? Duration.minutes(15);
    const environment = {
      LAKE_BUCKET: this.bucket.bucketName,
      REDSHIFT_ROLE_ARN: this.redshiftRole.roleArn,
      ATHENA_WORKGROUP: workgroupName,
      ARCHIVE_STATEMENT_PREFIX: namePrefix,
      // UNLOAD's KMS_KEY_ID takes a key id in every example AWS gives (Redshift Database Developer
      // Guide, UNLOAD); whether it also takes an ARN is not documented.
      ...(key ? { KMS_KEY_ID: key.keyId } : {}),
    };
    this.unloadFunction = this.handler('Unload', 'unload.ts', 'handler', config, {
      timeout,
      reservedConcurrentExecutions: 1,
      deadLetterQueueEnabled: true,
      deadLetterQueue: deadLetters,
      environment,
      description: 'Runs the yearly Redshift archive protocol (redshift-archive)',
      ...(dataApiRole ? { role: dataApiRole } : {}),
    });
    for (const statement of dataApi) this.unloadFunction.addToRolePolicy(statement);
    this.unloadFunction.addToRolePolicy(
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
        resources: glueArns,
      }),
    );
    this.unloadFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ManageRunFilesAndReports',
        actions: ['s3:GetObject', 's3:DeleteObject', 's3:PutObject'],
        resources: [
          lakeArn(config.lake.prefix),
          lakeArn(config.lake.reportsPrefix),
          lakeArn(ATHENA_RESULTS_PREFIX),
        ],
      }),
    );
    this.unloadFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListRunFiles',
        actions: ['s3:ListBucket', 's3:GetBucketLocation'],
        resources: [this.bucket.bucketArn],
      }),
    );
    this.unloadFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CountThroughAthena',
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
        resources: [workgroupArn],
      }),
    );
    // Athena says access to the `default` database "must be present" whatever database a query
    // names (Athena User Guide, "Fine-grained access to databases and tables in the AWS Glue Data
    // Catalog"); the count names its own database in QueryExecutionContext.
    this.unloadFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AthenaDefaultDatabase',
        actions: ['glue:GetDatabase'],
        resources: [
          catalogArn,
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: 'default' }),
        ],
      }),
    );
    for (const statement of this.preflightStatements(config)) this.unloadFunction.addToRolePolicy(statement);
    key?.grantEncryptDecrypt(this.unloadFunction);

    // Triggers: the yearly schedule (UTC cron at local midnight), statement completions, a daily
    // watchdog, and a monthly preflight.
    const cron = yearlySchedule(config.retention.timeZone);
    const invoke = (input?: Record<string, string>) =>
      new targets.LambdaFunction(this.unloadFunction, {
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
        deadLetterQueue: deadLetters,
        ...(input ? { event: events.RuleTargetInput.fromObject(input) } : {}),
      });
    new events.Rule(this, 'Yearly', {
      description: `Archive rows older than the current year (${config.retention.timeZone} midnight of 1 January)`,
      schedule: events.Schedule.cron({ ...cron, year: '*' }),
      targets: [invoke()],
    });
    new events.Rule(this, 'StatementFinished', {
      description: 'Resume the archive run when one of its Redshift statements ends',
      eventPattern: {
        source: ['aws.redshift-data'],
        detailType: ['Redshift Data Statement Status Change'],
        detail: { statementName: [{ prefix: namePrefix }] },
      },
      targets: [invoke()],
    });
    new events.Rule(this, 'Watchdog', {
      description: 'Daily status of the archive, for the unfinished-run alarm',
      schedule: events.Schedule.rate(Duration.days(1)),
      targets: [invoke({ action: 'status' })],
    });
    new events.Rule(this, 'MonthlyPreflight', {
      description: 'Monthly preflight: would the next run work? (read only), for the preflight alarm',
      schedule: events.Schedule.cron({ minute: '0', hour: '6', day: '1', month: '*', year: '*' }),
      targets: [invoke({ action: 'preflight' })],
    });

    // Schemas and views, through the provider framework (long statements are polled).
    const onEvent = this.handler('SchemaOnEvent', 'schema-and-views.ts', 'onEvent', config, {
      timeout: Duration.minutes(1),
      description: 'Validates and names the schema-and-views resource (redshift-archive)',
    });
    const isComplete = this.handler('SchemaIsComplete', 'schema-and-views.ts', 'isComplete', config, {
      timeout: Duration.minutes(5),
      environment: { ARCHIVE_STATEMENT_PREFIX: namePrefix },
      description: 'Creates the ledger, the external schema and the union views (redshift-archive)',
      ...(dataApiRole ? { role: dataApiRole } : {}),
    });
    // the shared Serverless role has these already, through the unload function
    if (!dataApiRole) for (const statement of dataApi) isComplete.addToRolePolicy(statement);
    isComplete.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'CheckTables', actions: ['glue:GetTable'], resources: glueArns }),
    );
    const provider = new cr.Provider(this, 'SchemaProvider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(15),
      totalTimeout: Duration.hours(1),
    });
    // Two resources of one provider: the external schema is named apart from the views, so that
    // replacing the views (a new views schema) never drops the schema the new views read.
    const sqlResource = (id: string, kind: 'external-schema' | 'views', type: string) =>
      new CustomResource(this, id, {
        serviceToken: provider.serviceToken,
        resourceType: type,
        properties: {
          Resource: kind,
          Config: configJson(config),
          LakeBucket: this.bucket.bucketName,
          RedshiftRoleArn: this.redshiftRole.roleArn,
          ...(key ? { KmsKeyId: key.keyId } : {}),
          AthenaWorkgroup: workgroupName,
        },
      });
    const externalSchema = sqlResource(
      'ExternalSchema',
      'external-schema',
      'Custom::RedshiftArchiveExternalSchema',
    );
    const schema = sqlResource('SchemaAndViews', 'views', 'Custom::RedshiftArchiveSchemaAndViews');
    schema.node.addDependency(externalSchema);
    for (const table of tables) externalSchema.node.addDependency(table);
    // CREATE EXTERNAL SCHEMA names the role, and Spectrum reads with it: its policy must be attached
    // and the role associated with the warehouse, in sync, first. The role's ARN already orders the
    // role itself; its policy and its association are resources of their own. A role of
    // warehouse.roleArn is its owner's: associated and allowed before the deploy (synth says so).
    const providers = [provider];
    const functions: lambda.IFunction[] = [this.unloadFunction, onEvent, isComplete];
    if (this.redshiftRole instanceof iam.Role) {
      externalSchema.node.addDependency(this.redshiftRole.node.findChild('DefaultPolicy'));
      const association = this.associateRole(config, this.redshiftRole);
      externalSchema.node.addDependency(association.resource);
      this.roleAssociation = association.resource;
      providers.push(association.provider);
      functions.push(...association.functions);
    }

    // Failure is loud: function errors, dead letters, and a run that has not finished for three days.
    // CloudWatch publishes to an encrypted topic only under a customer managed key whose policy
    // admits it; the policy of the AWS managed alias/aws/sns cannot (SNS Developer Guide, "Enable
    // compatibility between event sources from AWS services and encrypted topics"). Encrypted
    // rather than plain: the key costs little, and the topic stays like the rest of the stack.
    const topicKey =
      key ??
      new kms.Key(this, 'AlarmsKey', {
        description: 'Encrypts the alarm topic of the Redshift archive (redshift-archive)',
        enableKeyRotation: true,
        // It protects notifications only until they are delivered, never beyond the topic's life,
        // so it follows the one switch for what survives the stack rather than outlive it alone.
        removalPolicy,
      });
    // aws:SourceAccount keeps other accounts' alarms from using the key through CloudWatch.
    this.admitService(topicKey, {
      sid: 'CloudWatchPublishesAlarms',
      service: 'cloudwatch.amazonaws.com',
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      sourceAccount: stack.account,
    });
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      displayName: 'Redshift archive alarms',
      enforceSSL: true,
      masterKey: topicKey,
    });
    // enforceSSL writes a topic policy, which replaces the default one that let the account's
    // CloudWatch publish: without this Allow, alarms change state and notify no one.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchPublishesAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    if (props.alarmEmail)
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const alarm = (name: string, description: string, metric: cloudwatch.IMetric, periods = 1) => {
      const created = new cloudwatch.Alarm(this, name, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      return created;
    };
    alarm(
      'UnloadErrorsAlarm',
      'The archive job failed: the ledger says why (status), the data is safe; fix the cause and invoke {"action": "run"} to resume',
      this.unloadFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
    );
    alarm(
      'DeadLettersAlarm',
      'An invocation of the archive job failed all its retries; see the dead-letter queue',
      deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    );
    alarm(
      'UnfinishedRunAlarm',
      'An archive run has been unfinished for three days: invoke {"action": "status"}, then resume or abort it',
      new cloudwatch.Metric({
        namespace: 'RedshiftArchive',
        metricName: 'UnfinishedRun',
        dimensionsMap: { service: 'redshift-archive' },
        period: Duration.days(1),
        statistic: 'Maximum',
      }),
      3,
    );
    alarm(
      'PreflightFailuresAlarm',
      'The monthly preflight found that the next run would not work: invoke {"action": "preflight"}; each failed check names its fix',
      new cloudwatch.Metric({
        namespace: 'RedshiftArchive',
        metricName: 'PreflightFailures',
        dimensionsMap: { service: 'redshift-archive' },
        period: Duration.days(1),
        statistic: 'Maximum',
      }),
    );
    this.acknowledgeNagFindings(config, deadLetters, providers, functions);
    if (this.ownerKeyStatements.length > 0) {
      Annotations.of(this).addWarningV2(
        'redshift-archive:encryptionKey.keyPolicy',
        "encryptionKey is imported, so its key policy is its owner's: add these statements to it, or " +
          'alarms will not reach the topic and EventBridge cannot use the dead-letter queue: ' +
          JSON.stringify(this.ownerKeyStatements.map((st) => Stack.of(this).resolve(st.toStatementJson()))),
      );
    }
  }

  /** What the role Redshift assumes must allow: UNLOAD to and Spectrum reads of the lake prefix, the catalog. */
  private redshiftRoleStatements(
    config: ArchiveConfig,
    lakeArn: (prefix: string) => string,
    glueArns: string[],
  ): iam.PolicyStatement[] {
    return [
      // The actions of the minimal Spectrum policy (Redshift Developer Guide, "IAM policies for Amazon
      // Redshift Spectrum"), and AbortMultipartUpload so a failed multipart UNLOAD can clean up its parts.
      new iam.PolicyStatement({
        sid: 'UnloadAndReadTheLake',
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [lakeArn(config.lake.prefix)],
      }),
      new iam.PolicyStatement({
        sid: 'ListTheLake',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${config.lake.prefix}/*`, `${config.lake.prefix}/`] } },
      }),
      // Only ListBucket requests carry s3:prefix; a condition on a key the request lacks is false (IAM
      // User Guide, "Condition operators"), so these two must not share the statement above.
      new iam.PolicyStatement({
        sid: 'LocateTheLakeAndItsUploads',
        actions: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
        resources: [this.bucket.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReadTheCatalog',
        actions: [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:GetTables',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:BatchGetPartition',
        ],
        resources: glueArns,
      }),
    ];
  }

  /**
   * `warehouse.roleArn` names a role that is its owner's: an imported role takes no policy (CDK's
   * immutable role would drop statements silently), so synth warns with what the owner must allow,
   * and what else the role needs to be usable.
   */
  private warnRoleOwner(config: ArchiveConfig, roleArn: string, statements: iam.PolicyStatement[]): void {
    const w = config.warehouse;
    const warehouse =
      w.type === 'provisioned'
        ? `cluster ${w.clusterIdentifier}`
        : `the namespace of workgroup ${w.workgroupName}`;
    Annotations.of(this).addWarningV2(
      'redshift-archive:warehouse.roleArn',
      `warehouse.roleArn names a role of your own (${roleArn}), so the stack neither changes nor associates ` +
        `it: it must trust ${REDSHIFT_SERVICES.join(' and ')} (sts:AssumeRole), be associated with ${warehouse} ` +
        '(in-sync) before the deploy creates the external schema, and allow these statements: ' +
        JSON.stringify(statements.map((st) => Stack.of(this).resolve(st.toStatementJson()))),
    );
  }

  /**
   * Lets an AWS service use `key` on the stack's behalf. A key of this app gets the statement in
   * its key policy; an imported key cannot, so the statement is kept for the warning.
   */
  private admitService(
    key: kms.IKey,
    grant: { sid: string; service: string; actions: string[]; sourceAccount?: string },
  ): void {
    const statement = new iam.PolicyStatement({
      sid: grant.sid,
      principals: [new iam.ServicePrincipal(grant.service)],
      actions: grant.actions,
      resources: ['*'],
      ...(grant.sourceAccount
        ? { conditions: { StringEquals: { 'aws:SourceAccount': grant.sourceAccount } } }
        : {}),
    });
    if (!key.addToResourcePolicy(statement, true).statementAdded) this.ownerKeyStatements.push(statement);
  }

  /** The cdk-nag (AwsSolutions) findings this construct causes on purpose, each with its reason. */
  private acknowledgeNagFindings(
    config: ArchiveConfig,
    deadLetters: sqs.Queue,
    providers: cr.Provider[],
    functions: lambda.IFunction[],
  ): void {
    const prefixes = [config.lake.prefix, config.lake.reportsPrefix, ATHENA_RESULTS_PREFIX].map((p) =>
      p.replace(/[.]/g, '\\.'),
    );
    acknowledgeWildcards(
      this,
      [
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
      ],
      'AWSLambdaBasicExecutionRole only lets a function write its own logs.',
    );
    acknowledgeActionWildcards(this, [
      {
        action: /^kms:(GenerateDataKey|ReEncrypt)\*$/,
        reason:
          "CDK's grantEncryptDecrypt, on the given encryptionKey only: SSE-KMS writes, multipart uploads and reads of the lake and Athena results use its data-key actions; ReEncrypt* comes with the grant.",
      },
    ]);
    for (const fn of functions) {
      acknowledgeRule(
        fn,
        'AwsSolutions-L1',
        'Node.js 22 is the newest runtime the pinned aws-cdk-lib offers and the one the code is tested on.',
      );
    }
    acknowledgeRule(
      deadLetters,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue of the unload Lambda and its rules.',
    );
    for (const provider of providers) {
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
    if (this.bucket instanceof s3.Bucket) {
      acknowledgeRule(
        this.bucket,
        'AwsSolutions-S1',
        "Server access logs need a second bucket whose retention is the owner's policy; CloudTrail data events audit the lake, and a bucket with logging can be passed in as `bucket`.",
      );
    }
  }

  private createBucket(props: RedshiftArchiveProps, removalPolicy: RemovalPolicy): s3.Bucket {
    const { config } = props;
    const transition = props.archiveTransition ?? {
      storageClass: s3.StorageClass.INFREQUENT_ACCESS,
      after: Duration.days(90),
    };
    return new s3.Bucket(this, 'Lake', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: props.encryptionKey ? true : undefined,
      removalPolicy,
      lifecycleRules: [
        {
          id: 'ArchiveToReadableColdStorage',
          prefix: `${config.lake.prefix}/`,
          transitions: [{ storageClass: transition.storageClass, transitionAfter: transition.after }],
          // Versions replaced or deleted by a retried export are not archive: they go after 30 days.
          noncurrentVersionExpiration: Duration.days(30),
          // Clearing a run's files leaves delete markers; once their versions expire, the markers go
          // too. S3 refuses ExpiredObjectDeleteMarker beside Expiration days in one rule (S3 API,
          // LifecycleExpiration), which this rule has none of; the Athena results rule's days
          // expiration removes its expired markers itself (S3 User Guide, lifecycle examples).
          expiredObjectDeleteMarker: true,
        },
        {
          id: 'ExpireAthenaResults',
          prefix: `${ATHENA_RESULTS_PREFIX}/`,
          expiration: Duration.days(30),
          noncurrentVersionExpiration: Duration.days(1),
        },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });
  }

  /**
   * What preflight reads besides the warehouse: the warehouse's IAM roles (is ours in sync?) and
   * the account's Lambda settings (is concurrency left?). GetAccountSettings takes no resource.
   */
  private preflightStatements(config: ArchiveConfig): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const w = config.warehouse;
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
            resources: [
              stack.formatArn({ service: 'redshift-serverless', resource: 'workgroup', resourceName: '*' }),
              stack.formatArn({ service: 'redshift-serverless', resource: 'namespace', resourceName: '*' }),
            ],
          });
    return [
      warehouse,
      new iam.PolicyStatement({
        sid: 'PreflightReadsTheAccount',
        actions: ['lambda:GetAccountSettings'],
        resources: ['*'],
      }),
    ];
  }

  /** What both Lambdas need of the Data API: statements on this warehouse, and its credentials. */
  private dataApiStatements(config: ArchiveConfig, secretKey?: kms.IKey): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const w = config.warehouse;
    const statements = [
      new iam.PolicyStatement({
        sid: 'FollowOwnStatements',
        // These four actions support no resource-level permissions (Data API authorization).
        actions: [
          'redshift-data:DescribeStatement',
          'redshift-data:GetStatementResult',
          'redshift-data:ListStatements',
          'redshift-data:CancelStatement',
        ],
        resources: ['*'],
      }),
    ];
    if (w.type === 'serverless') {
      // A workgroup's ARN holds its id, which the configuration (a name) does not know.
      const workgroups = stack.formatArn({
        service: 'redshift-serverless',
        resource: 'workgroup',
        resourceName: '*',
      });
      statements.push(
        new iam.PolicyStatement({
          sid: 'RunStatements',
          actions: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
          resources: [workgroups],
        }),
        new iam.PolicyStatement({
          sid: 'Credentials',
          actions: ['redshift-serverless:GetCredentials'],
          resources: [workgroups],
        }),
      );
      return statements;
    }
    const cluster = stack.formatArn({
      service: 'redshift',
      resource: 'cluster',
      resourceName: w.clusterIdentifier,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    statements.push(
      new iam.PolicyStatement({
        sid: 'RunStatements',
        actions: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
        resources: [cluster],
      }),
    );
    if (w.secretArn) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'Credentials',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [w.secretArn],
        }),
      );
      if (secretKey) {
        // GetSecretValue decrypts with the caller's own kms:Decrypt, through Secrets Manager
        // (Secrets Manager User Guide, "Secret encryption and decryption").
        statements.push(
          new iam.PolicyStatement({
            sid: 'DecryptTheSecret',
            actions: ['kms:Decrypt'],
            resources: [secretKey.keyArn],
            conditions: {
              StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
            },
          }),
        );
      }
    } else {
      const arn = (resource: string, name: string) =>
        stack.formatArn({
          service: 'redshift',
          resource,
          resourceName: name,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        });
      statements.push(
        new iam.PolicyStatement({
          sid: 'Credentials',
          actions: ['redshift:GetClusterCredentials'],
          resources: [
            arn('dbuser', `${w.clusterIdentifier}/${w.dbUser}`),
            arn('dbname', `${w.clusterIdentifier}/${w.database}`),
          ],
        }),
      );
    }
    return statements;
  }

  private handler(
    id: string,
    file: string,
    exported: string,
    config: ArchiveConfig,
    options: Omit<nodejs.NodejsFunctionProps, 'entry' | 'handler'>,
  ): nodejs.NodejsFunction {
    const { environment, ...rest } = options;
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    return new nodejs.NodejsFunction(this, id, {
      entry: join(__dirname, '..', 'lambda', file),
      handler: exported,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        ...environment,
        POWERTOOLS_SERVICE_NAME: 'redshift-archive',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node22',
        // The configuration is inlined into the bundle: a Lambda's environment holds at most 4 KB.
        define: { 'process.env.ARCHIVE_CONFIG': JSON.stringify(configJson(config)) },
      },
      ...rest,
    });
  }

  /**
   * Serverless: the one role of both functions that send SQL, named so that its database user
   * (`IAMR:<name>`) is known before the first deploy.
   */
  private createDataApiRole(roleName: string, fromStackName: boolean): iam.Role {
    if (fromStackName) checkRoleName('dataApiRoleName (its default from the stack name)', roleName);
    return new iam.Role(this, 'DataApiRole', {
      roleName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole'),
      ],
      description:
        'The unload function and the schema-and-views resource: one Redshift Serverless database user (redshift-archive)',
    });
  }

  /**
   * Associates the stack's own Redshift role with the cluster or the Serverless namespace (other
   * roles stay) and waits until it is in sync; removes only it on delete. A provider-framework
   * resource (src/runtime/role-association.ts) whose response is its physical id alone.
   *
   * Serverless too, by default: the namespace's roles are read, ours added and the whole list
   * written back with the default role (UpdateNamespace has no "add"). That read-then-write is not
   * atomic, and a namespace whose roles another template declares
   * (`AWS::RedshiftServerless::Namespace.IamRoles`) gets its list written back on that template's
   * next update, without ours. For such a namespace, declare the role there and name it in
   * `warehouse.roleArn`: the stack then associates nothing.
   */
  private associateRole(
    config: ArchiveConfig,
    role: iam.Role,
  ): { resource: CustomResource; provider: cr.Provider; functions: lambda.IFunction[] } {
    const stack = Stack.of(this);
    const w = config.warehouse;
    const onEvent = this.handler('AssociationOnEvent', 'role-association.ts', 'onEvent', config, {
      timeout: Duration.minutes(1),
      description: 'Validates and names the Redshift role association (redshift-archive)',
    });
    const isComplete = this.handler('AssociationIsComplete', 'role-association.ts', 'isComplete', config, {
      // one poll may wait 90 s for IAM to make the new role usable (PROPAGATION in the runtime)
      timeout: Duration.minutes(3),
      description:
        'Associates the Redshift role with the warehouse and waits until it is in sync (redshift-archive)',
    });
    // Associating a role with a cluster or a namespace passes it to Redshift.
    isComplete.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PassTheRedshiftRole',
        actions: ['iam:PassRole'],
        resources: [role.roleArn],
      }),
    );
    if (w.type === 'provisioned') {
      isComplete.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'AssociateWithTheCluster',
          actions: ['redshift:DescribeClusters', 'redshift:ModifyClusterIamRoles'],
          resources: [
            stack.formatArn({
              service: 'redshift',
              resource: 'cluster',
              resourceName: w.clusterIdentifier,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
    } else {
      // Workgroup and namespace ARNs hold ids, which the configuration (a name) does not know.
      onEvent.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'FindTheNamespace',
          actions: ['redshift-serverless:GetWorkgroup'],
          resources: [
            stack.formatArn({ service: 'redshift-serverless', resource: 'workgroup', resourceName: '*' }),
          ],
        }),
      );
      isComplete.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'AssociateWithTheNamespace',
          actions: ['redshift-serverless:GetNamespace', 'redshift-serverless:UpdateNamespace'],
          resources: [
            stack.formatArn({ service: 'redshift-serverless', resource: 'namespace', resourceName: '*' }),
          ],
        }),
      );
    }
    const provider = new cr.Provider(this, 'AssociationProvider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(10),
      // a namespace or cluster busy with another change is waited for, not failed
      totalTimeout: Duration.minutes(30),
    });
    const resource = new CustomResource(this, 'RoleAssociation', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RedshiftArchiveRoleAssociation',
      properties: {
        ...(w.type === 'provisioned'
          ? { ClusterIdentifier: w.clusterIdentifier }
          : { WorkgroupName: w.workgroupName }),
        RoleArn: role.roleArn,
      },
    });
    return { resource, provider, functions: [onEvent, isComplete] };
  }
}
