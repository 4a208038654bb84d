import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configDigest, configJson, footprintJson } from '../../src/config/config';
import { config, stackOf, statementsOf, templateOf, unitApp } from './support';

const template = templateOf();
/** An ARN as the template holds it: the partition is left to CloudFormation. */
const arn = (text: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, text.replace(/^arn:aws/, '')]],
});
const CLUSTER = arn('arn:aws:redshift:eu-west-1:123456789012:cluster:contabyx');
const GLUE = [
  arn('arn:aws:glue:eu-west-1:123456789012:catalog'),
  arn('arn:aws:glue:eu-west-1:123456789012:database/contabyx'),
  arn('arn:aws:glue:eu-west-1:123456789012:table/contabyx/*'),
];

/** The archive with a KMS key from a sibling stack, and the template of that stack. */
function keyedStacks(): { archive: Template; keys: Template } {
  const app = unitApp();
  const keys = new Stack(app, 'Keys', { env: { account: '123456789012', region: 'eu-west-1' } });
  const key = new kms.Key(keys, 'Key', { enableKeyRotation: true });
  const archive = Template.fromStack(stackOf({ encryptionKey: key }, app));
  return { archive, keys: Template.fromStack(keys) };
}

/** The archive with a KMS key from a sibling stack. */
function withKey(): Template {
  return keyedStacks().archive;
}

const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:archiver-AbCdEf';
/** The contabyx sample reading its credentials from a secret. */
const withSecret = () =>
  config((c) => ({
    ...c,
    warehouse: { type: 'provisioned', clusterIdentifier: 'contabyx', database: 'dev', secretArn: SECRET_ARN },
  }));

describe('the lake bucket', () => {
  test('blocks public access, denies plain HTTP, is encrypted, versioned and retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('moves the archive only to storage classes Athena and Spectrum can read, and expires old versions', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'ArchiveToReadableColdStorage',
            Prefix: 'contabyx-parquet/',
            Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
          }),
          Match.objectLike({ Id: 'ExpireAthenaResults', Prefix: 'athena-results/', ExpirationInDays: 30 }),
        ]),
      },
    });
  });

  test('expires the delete markers that clearing a run leaves, once no version is left behind them', () => {
    const [bucket] = Object.values(template.findResources('AWS::S3::Bucket'));
    const rules = bucket.Properties.LifecycleConfiguration.Rules as Record<string, unknown>[];
    expect(rules.find((r) => r.Id === 'ArchiveToReadableColdStorage')).toEqual({
      Id: 'ArchiveToReadableColdStorage',
      Prefix: 'contabyx-parquet/',
      Status: 'Enabled',
      Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
      NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      ExpiredObjectDeleteMarker: true,
    });
    // S3 allows ExpiredObjectDeleteMarker in no rule that also expires after a number of days
    for (const rule of rules.filter((r) => r.ExpiredObjectDeleteMarker !== undefined)) {
      expect(rule.ExpirationInDays).toBeUndefined();
    }
  });

  test('is encrypted with a given KMS key, which UNLOAD and Athena use too', () => {
    const keyed = withKey();
    keyed.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
    keyed.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ KMS_KEY_ID: Match.anyValue() }) },
    });
    keyed.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        ResultConfiguration: Match.objectLike({
          EncryptionConfiguration: Match.objectLike({ EncryptionOption: 'SSE_KMS' }),
        }),
      }),
    });
  });

  test('an existing bucket is used as it is, and no bucket is created', () => {
    const app = unitApp();
    const other = new Stack(app, 'Data', { env: { account: '123456789012', region: 'eu-west-1' } });
    const imported = s3.Bucket.fromBucketName(other, 'Existing', 'company-data-lake');
    const t = Template.fromStack(stackOf({ bucket: imported }, app));
    t.resourceCountIs('AWS::S3::Bucket', 0);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LAKE_BUCKET: 'company-data-lake' }) },
    });
  });
});

describe('the catalog', () => {
  test('one retained Glue database and one Parquet table per archived table, partitioned by year and run', () => {
    template.hasResource('AWS::Glue::Database', {
      DeletionPolicy: 'Retain',
      Properties: { CatalogId: '123456789012', DatabaseInput: Match.objectLike({ Name: 'contabyx' }) },
    });
    template.resourceCountIs('AWS::Glue::Table', 3);
    template.hasResource('AWS::Glue::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        CatalogId: '123456789012',
        DatabaseName: 'contabyx',
        TableInput: {
          Name: 'transactions',
          TableType: 'EXTERNAL_TABLE',
          Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', 'parquet.compression': 'SNAPPY' },
          PartitionKeys: [
            { Name: 'year', Type: 'int' },
            { Name: 'archive_run', Type: 'string' },
          ],
          StorageDescriptor: {
            Columns: [
              { Name: 'transactionid', Type: 'int' },
              { Name: 'clientid', Type: 'int' },
              { Name: 'typeid', Type: 'int' },
              { Name: 'time', Type: 'timestamp' },
              { Name: 'amount', Type: 'double' },
            ],
            Location: {
              'Fn::Join': [
                '',
                ['s3://', { Ref: Match.stringLikeRegexp('ArchiveLake') }, '/contabyx-parquet/transactions/'],
              ],
            },
            InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            SerdeInfo: {
              SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
            },
          },
        },
      },
    });
  });

  test('an Athena workgroup with enforced settings, its results location and a per-query scan limit', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'contabyx-archive',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 10737418240,
        ResultConfiguration: {
          OutputLocation: {
            'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('ArchiveLake') }, '/athena-results/']],
          },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
  });
});

describe('the role Redshift assumes', () => {
  test("writes and reads the lake prefix only and reads the archive's catalog", () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'redshift.amazonaws.com' } },
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'redshift-serverless.amazonaws.com' },
          },
        ],
      },
    });
    const statements = statementsOf(template, 'ArchiveRedshiftRole');
    expect(statements.map((s) => s.Sid)).toEqual([
      'UnloadAndReadTheLake',
      'ListTheLake',
      'LocateTheLakeAndItsUploads',
      'ReadTheCatalog',
    ]);
    const bucketArn = { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveLake/), 'Arn'] };
    expect(statements[0]).toEqual({
      Sid: 'UnloadAndReadTheLake',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
      Resource: { 'Fn::Join': ['', [bucketArn, '/contabyx-parquet/*']] },
    });
    expect(statements[1]).toEqual({
      Sid: 'ListTheLake',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucketArn,
      Condition: { StringLike: { 's3:prefix': ['contabyx-parquet/*', 'contabyx-parquet/'] } },
    });
    expect(statements[3].Resource).toEqual(GLUE);
  });

  test('may locate the bucket and list its multipart uploads with no s3:prefix condition, which those requests never carry', () => {
    const [locate] = statementsOf(template, 'ArchiveRedshiftRole').filter(
      (s) => s.Sid === 'LocateTheLakeAndItsUploads',
    );
    expect(locate).toEqual({
      Sid: 'LocateTheLakeAndItsUploads',
      Effect: 'Allow',
      Action: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveLake/), 'Arn'] },
    });
  });
});

describe('the unload Lambda', () => {
  test('runs one at a time, with a dead-letter queue, on Node.js 22, for 15 minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Timeout: 900,
      ReservedConcurrentExecutions: 1,
      DeadLetterConfig: {
        TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArchiveDeadLetters'), 'Arn'] },
      },
      Environment: {
        Variables: {
          LAKE_BUCKET: { Ref: Match.stringLikeRegexp('ArchiveLake') },
          REDSHIFT_ROLE_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArchiveRedshiftRole'), 'Arn'] },
          ATHENA_WORKGROUP: 'contabyx-archive',
          ARCHIVE_STATEMENT_PREFIX: 'redshift-archive.Archive.',
          POWERTOOLS_SERVICE_NAME: 'redshift-archive',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
  });

  test('may only do what the job needs, on the configured cluster, user and database', () => {
    const statements = statementsOf(template, 'ArchiveUnloadServiceRole');
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(bySid.FollowOwnStatements).toMatchObject({
      Action: [
        'redshift-data:DescribeStatement',
        'redshift-data:GetStatementResult',
        'redshift-data:ListStatements',
        'redshift-data:CancelStatement',
      ],
      Resource: '*',
    });
    expect(bySid.RunStatements).toMatchObject({
      Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
      Resource: CLUSTER,
    });
    expect(bySid.Credentials).toMatchObject({
      Action: 'redshift:GetClusterCredentials',
      Resource: [
        arn('arn:aws:redshift:eu-west-1:123456789012:dbuser:contabyx/archiver'),
        arn('arn:aws:redshift:eu-west-1:123456789012:dbname:contabyx/dev'),
      ],
    });
    expect(bySid.RegisterPartitions.Resource).toEqual(GLUE);
    expect(bySid.CountThroughAthena).toMatchObject({
      Action: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
      Resource: arn('arn:aws:athena:eu-west-1:123456789012:workgroup/contabyx-archive'),
    });
    // Athena requires access to the default database whatever database the query names
    expect(bySid.AthenaDefaultDatabase).toEqual({
      Sid: 'AthenaDefaultDatabase',
      Effect: 'Allow',
      Action: 'glue:GetDatabase',
      Resource: [
        arn('arn:aws:glue:eu-west-1:123456789012:catalog'),
        arn('arn:aws:glue:eu-west-1:123456789012:database/default'),
      ],
    });
    expect(
      (bySid.ManageRunFilesAndReports.Resource as { 'Fn::Join': [string, unknown[]] }[]).map(
        (r) => r['Fn::Join'][1][1],
      ),
    ).toEqual(['/contabyx-parquet/*', '/archive-reports/*', '/athena-results/*']);
    // preflight reads the cluster's roles and the account's Lambda settings (no resource-level permission)
    expect(bySid.PreflightReadsTheCluster).toMatchObject({
      Action: 'redshift:DescribeClusters',
      Resource: CLUSTER,
    });
    const wildcards = statements.filter((s) => s.Resource === '*');
    expect(wildcards.map((s) => [s.Sid, s.Action])).toEqual([
      ['FollowOwnStatements', expect.any(Array)],
      ['PreflightReadsTheAccount', 'lambda:GetAccountSettings'],
    ]);
  });

  test('a Serverless workgroup gets Data API and credentials on workgroups, a secret only that secret', () => {
    const serverless = templateOf({
      config: config((c) => ({
        ...c,
        warehouse: { type: 'serverless', workgroupName: 'analytics', database: 'dev' },
      })),
    });
    const s = Object.fromEntries(statementsOf(serverless, 'ArchiveDataApiRole').map((x) => [x.Sid, x]));
    expect(s.RunStatements.Resource).toEqual(
      arn('arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/*'),
    );
    expect(s.Credentials).toMatchObject({ Action: 'redshift-serverless:GetCredentials' });
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:archiver-AbCdEf';
    const secret = templateOf({
      config: config((c) => ({
        ...c,
        warehouse: { type: 'provisioned', clusterIdentifier: 'contabyx', database: 'dev', secretArn },
      })),
    });
    const t = Object.fromEntries(statementsOf(secret, 'ArchiveUnloadServiceRole').map((x) => [x.Sid, x]));
    expect(t.Credentials).toMatchObject({ Action: 'secretsmanager:GetSecretValue', Resource: secretArn });
  });
});

describe('the triggers', () => {
  test('the yearly rule fires at midnight of 1 January, with retries and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 0 1 JAN ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArchiveUnload'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArchiveDeadLetters'), 'Arn'] } },
        }),
      ],
    });
  });

  test("in another zone the UTC cron fires at that zone's midnight", () => {
    const berlin = templateOf({
      config: config((c) => ({ ...c, retention: { keepYears: 1, timeZone: 'Europe/Berlin' } })),
    });
    berlin.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 23 31 DEC ? *)' });
  });

  test("completion events of this stack's statements resume the run, and an hourly watchdog resumes one whose event was lost", () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.redshift-data'],
        'detail-type': ['Redshift Data Statement Status Change'],
        detail: { statementName: [{ prefix: 'redshift-archive.Archive.' }] },
      },
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArchiveUnload'), 'Arn'] } }),
      ],
    });
    // (and the watchdog is the only hourly rule, through the same retries and dead-letter queue)
    const watchdogs = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.ScheduleExpression === 'rate(1 hour)',
    );
    expect(watchdogs.map((r) => r.Properties.Targets[0].Input)).toEqual(['{"action":"watchdog"}']);
    expect(watchdogs[0].Properties.Targets[0].RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: 21600,
      MaximumRetryAttempts: 2,
    });
    expect(
      Object.values(template.findResources('AWS::Events::Rule')).filter(
        (r) => r.Properties.ScheduleExpression === 'rate(1 day)',
      ),
    ).toEqual([]);
  });

  test('both functions that send statements name them with the prefix the rule matches, one per stack', () => {
    // given two archives deployed as two stacks in one account and Region
    for (const stackName of ['ArchiveA', 'ArchiveA-2']) {
      const t = templateOf({ stackName });

      // then each names its statements with its own stack name, and its rule matches only those
      const prefix = `redshift-archive.${stackName}.`;
      const named = Object.entries(t.findResources('AWS::Lambda::Function'))
        .filter(([, f]) => f.Properties.Environment?.Variables?.ARCHIVE_STATEMENT_PREFIX !== undefined)
        .map(([id, f]) => [
          id.replace(/[0-9A-F]{8}$/, ''),
          f.Properties.Environment.Variables.ARCHIVE_STATEMENT_PREFIX,
        ]);
      expect(named).toEqual([
        ['ArchiveUnload', prefix],
        ['ArchiveSchemaIsComplete', prefix],
      ]);
      t.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({ detail: { statementName: [{ prefix }] } }),
      });
    }
  });
});

describe('the monthly audit', () => {
  test('a monthly rule asks for the light audit, two hours after the preflight so that the two do not meet', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'))
      .filter((r) => r.Properties.ScheduleExpression?.startsWith('cron(0 '))
      .map((r) => [r.Properties.ScheduleExpression, r.Properties.Targets[0].Input]);
    expect(rules).toEqual([
      ['cron(0 0 1 JAN ? *)', undefined],
      ['cron(0 6 1 * ? *)', '{"action":"preflight"}'],
      ['cron(0 8 1 * ? *)', '{"action":"audit"}'],
    ]);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 8 1 * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArchiveUnload'), 'Arn'] },
          Input: '{"action":"audit"}',
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ArchiveDeadLetters'), 'Arn'] } },
        }),
      ],
    });
  });

  test('its alarm fires on one damaged batch, notifies the alarm topic, and stays in alarm until an audit finds the archive intact', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'ArchiveAuditFailures',
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0].Properties).toMatchObject({
      Namespace: 'RedshiftArchive',
      Dimensions: [{ Name: 'service', Value: 'redshift-archive' }],
      Statistic: 'Maximum',
      Period: 86400,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'ignore',
      AlarmActions: [{ Ref: expect.stringMatching(/^ArchiveAlarms[0-9A-F]{8}$/) }],
    });
    expect(alarms[0].Properties.AlarmDescription).toMatch(/^An audit found archived batches/);
  });

  test("the function's name output lists every manual action", () => {
    expect(template.findOutputs('UnloadFunctionName').UnloadFunctionName.Description).toBe(
      'Invoke with {"action": "plan" | "run" | "status" | "abort" | "preflight" | "audit" | "restore" | "repair" | "watchdog"}, or use redshift-archive --stack',
    );
  });
});

describe('the schema-and-views custom resource and the alarms', () => {
  test("the external schema runs after the Redshift role's policy is attached", () => {
    const [resource] = Object.values(template.findResources('Custom::RedshiftArchiveExternalSchema'));
    const [policy] = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('ArchiveRedshiftRoleDefaultPolicy'),
    );
    expect(policy).toBeDefined();
    expect(resource.DependsOn).toContain(policy[0]);
    // the role itself comes first through the ARN the resource reads
    expect(resource.Properties.RedshiftRoleArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ArchiveRedshiftRole[0-9A-F]{8}$/), 'Arn'],
    });
  });

  test('the external schema and the views are resources of their own: the views come after the schema, the schema after the Glue tables', () => {
    const [[schemaId, schema]] = Object.entries(
      template.findResources('Custom::RedshiftArchiveExternalSchema'),
    );
    const [views] = Object.values(template.findResources('Custom::RedshiftArchiveSchemaAndViews'));
    const properties = {
      // the digest and the footprint, never the configuration (the handler bundles it)
      ConfigDigest: configDigest(config()),
      Footprint: footprintJson(config()),
      LakeBucket: { Ref: expect.stringMatching(/^ArchiveLake/) },
      RedshiftRoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveRedshiftRole/), 'Arn'] },
      AthenaWorkgroup: 'contabyx-archive',
    };
    expect(schema.Properties).toMatchObject({ Resource: 'external-schema', ...properties });
    expect(views.Properties).toMatchObject({ Resource: 'views', ...properties });
    expect((schema.DependsOn as string[]).filter((d) => d.startsWith('ArchiveTable'))).toHaveLength(3);
    expect(views.DependsOn).toContain(schemaId);
  });

  test('alarms on function errors, dead letters, an unfinished run that recorded no step for a day, a failed monthly preflight and a damaged archive, to an encrypted topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'PreflightFailures',
      Namespace: 'RedshiftArchive',
      Period: 86400,
      EvaluationPeriods: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('ArchiveAlarms') }],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 6 1 * ? *)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ action: 'preflight' }) })],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('ArchiveAlarms') }],
    });
    // a long first run that moves on publishes 0 every day, however many days it takes
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StalledRun',
      Namespace: 'RedshiftArchive',
      Dimensions: [{ Name: 'service', Value: 'redshift-archive' }],
      Period: 86400,
      Statistic: 'Maximum',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
    const email = templateOf({ alarmEmail: 'data-platform@example.com' });
    email.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'data-platform@example.com',
    });
  });
});

const ROLE_ARN = 'arn:aws:iam::123456789012:role/spectrum-archive';
/** The contabyx sample on a Serverless workgroup. */
const onServerless = (extra: object = {}) =>
  config((c) => ({
    ...c,
    warehouse: { type: 'serverless', workgroupName: 'analytics', database: 'dev', ...extra },
  }));
/** The contabyx sample naming a role that is already associated with the cluster. */
const withRoleArn = () => config((c) => ({ ...c, warehouse: { ...c.warehouse, roleArn: ROLE_ARN } }));

/** The one resource of `type`, with its logical id. */
function only(
  t: Template,
  type: string,
): [string, { Properties: Record<string, unknown>; DependsOn?: string[] }] {
  const found = Object.entries(t.findResources(type));
  expect(found).toHaveLength(1);
  return found[0] as [string, { Properties: Record<string, unknown>; DependsOn?: string[] }];
}

/** The role of each Lambda function of the stack's own code, by logical id less its hash. */
function functionRoles(t: Template): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(t.findResources('AWS::Lambda::Function'))
      .filter(([, f]) => String(f.Properties.Description ?? '').includes('redshift-archive'))
      .map(([id, f]) => [id.replace(/[0-9A-F]{8}$/, ''), f.Properties.Role]),
  );
}

describe('the three deploy paths: the role Redshift assumes is associated before the external schema names it', () => {
  test('provisioned with a role of its own: the stack adds it to the cluster, and the schema waits for the association', () => {
    // given the default configuration (a provisioned cluster, no warehouse.roleArn)
    // then one association resource adds the stack's role to the cluster
    const [associationId, association] = only(template, 'Custom::RedshiftArchiveRoleAssociation');
    expect(association.Properties).toEqual({
      ServiceToken: {
        'Fn::GetAtt': [expect.stringMatching(/^ArchiveAssociationProviderframeworkonEvent/), 'Arn'],
      },
      ClusterIdentifier: 'contabyx',
      RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveRedshiftRole[0-9A-F]{8}$/), 'Arn'] },
    });
    template.resourceCountIs('Custom::AWS', 0);

    // and the external schema (then the views) comes after it, and after the role's policy
    const [, schema] = only(template, 'Custom::RedshiftArchiveExternalSchema');
    expect(schema.DependsOn).toContain(associationId);
    expect(schema.DependsOn).toContainEqual(expect.stringMatching(/^ArchiveRedshiftRoleDefaultPolicy/));
  });

  test('provisioned: the association may describe and change only this cluster, and pass only its own role', () => {
    expect(statementsOf(template, 'ArchiveAssociationIsComplete')).toEqual([
      {
        Sid: 'PassTheRedshiftRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveRedshiftRole[0-9A-F]{8}$/), 'Arn'] },
      },
      {
        Sid: 'AssociateWithTheCluster',
        Effect: 'Allow',
        Action: ['redshift:DescribeClusters', 'redshift:ModifyClusterIamRoles'],
        Resource: CLUSTER,
      },
    ]);
    // onEvent only names the resource on a cluster: it calls nothing
    expect(statementsOf(template, 'ArchiveAssociationOnEvent')).toEqual([]);
    // the provider polls every 10 s for at most 30 minutes
    const [[, waiter]] = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(
      ([id]) => id.startsWith('ArchiveAssociationProvider'),
    );
    expect(JSON.stringify(waiter.Properties.DefinitionString)).toContain(
      '\\"IntervalSeconds\\":10,\\"MaxAttempts\\":180,\\"BackoffRate\\":1',
    );
  });

  test('provisioned with warehouse.roleArn: no Redshift role, no association, and the given role everywhere Redshift needs one', () => {
    // given a role that the configuration says is already associated with the cluster
    const app = unitApp();
    const stack = stackOf({ config: withRoleArn() }, app);
    const t = Template.fromStack(stack);

    // then the stack creates no role for Redshift and associates nothing
    const redshiftTrusting = Object.values(t.findResources('AWS::IAM::Role')).filter((r) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('redshift'),
    );
    expect(redshiftTrusting).toEqual([]);
    t.resourceCountIs('Custom::RedshiftArchiveRoleAssociation', 0);
    t.resourceCountIs('Custom::AWS', 0);
    expect(JSON.stringify(t.toJSON())).not.toContain('iam:PassRole');
    expect(JSON.stringify(t.toJSON())).not.toContain('ModifyClusterIamRoles');

    // and UNLOAD, the external schema and the output name the given role
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REDSHIFT_ROLE_ARN: ROLE_ARN }) },
    });
    const [, schema] = only(t, 'Custom::RedshiftArchiveExternalSchema');
    expect(schema.Properties.RedshiftRoleArn).toBe(ROLE_ARN);
    expect(schema.DependsOn?.filter((d) => !d.startsWith('ArchiveTable'))).toEqual([]);
    expect(t.findOutputs('RedshiftRoleArn').RedshiftRoleArn.Value).toBe(ROLE_ARN);
  });

  test("warehouse.roleArn: the role is its owner's, so synth warns with what it must trust, be associated with and allow", () => {
    const stack = stackOf({ config: withRoleArn() });
    const warnings = Annotations.fromStack(stack).findWarning(
      '/Archive/Archive',
      Match.stringLikeRegexp('warehouse.roleArn names a role of your own'),
    );
    expect(warnings).toHaveLength(1);
    const text = String(warnings[0].entry.data);
    expect(text).toMatch(
      new RegExp(
        '^warehouse\\.roleArn names a role of your own \\(arn:aws:iam::123456789012:role/spectrum-archive\\), so the stack ' +
          'neither changes nor associates it: it must trust redshift\\.amazonaws\\.com and redshift-serverless\\.amazonaws\\.com ' +
          '\\(sts:AssumeRole\\), be associated with cluster contabyx \\(in-sync\\) before the deploy creates the external ' +
          'schema, and allow these statements: \\[',
      ),
    );
    const statements = JSON.parse(text.slice(text.indexOf('['), text.lastIndexOf(' [ack:'))) as {
      Sid: string;
    }[];
    expect(statements.map((st) => st.Sid)).toEqual([
      'UnloadAndReadTheLake',
      'ListTheLake',
      'LocateTheLakeAndItsUploads',
      'ReadTheCatalog',
    ]);
    // the statements are those the stack's own role gets
    expect(statements).toEqual(statementsOf(template, 'ArchiveRedshiftRole'));
    // and the stack without warehouse.roleArn does not warn
    Annotations.fromStack(stackOf()).hasNoWarning('*', Match.stringLikeRegexp('warehouse.roleArn'));
  });

  test('warehouse.roleArn with a KMS key: the owner must also let the role use the key', () => {
    const app = unitApp();
    const other = new Stack(app, 'Keys', { env: { account: '123456789012', region: 'eu-west-1' } });
    const stack = stackOf(
      { config: withRoleArn(), encryptionKey: kms.Key.fromKeyArn(other, 'Key', KEY_ARN) },
      app,
    );
    const [warning] = Annotations.fromStack(stack).findWarning(
      '/Archive/Archive',
      Match.stringLikeRegexp('warehouse.roleArn names a role of your own'),
    );
    expect(String(warning.entry.data)).toContain(
      JSON.stringify({
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
        Effect: 'Allow',
        Resource: KEY_ARN,
        Sid: 'UseTheArchiveKey',
      }),
    );
  });

  test('Serverless: the stack adds its role to the namespace of the workgroup, and the schema waits for it', () => {
    const t = templateOf({ config: onServerless() });
    const [associationId, association] = only(t, 'Custom::RedshiftArchiveRoleAssociation');
    expect(association.Properties).toMatchObject({
      WorkgroupName: 'analytics',
      RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveRedshiftRole[0-9A-F]{8}$/), 'Arn'] },
    });
    expect(association.Properties.ClusterIdentifier).toBeUndefined();
    const [, schema] = only(t, 'Custom::RedshiftArchiveExternalSchema');
    expect(schema.DependsOn).toContain(associationId);

    // onEvent finds the namespace of the workgroup; isComplete reads and writes the namespace's roles
    const namespaces = arn('arn:aws:redshift-serverless:eu-west-1:123456789012:namespace/*');
    const workgroups = arn('arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/*');
    expect(statementsOf(t, 'ArchiveAssociationOnEvent')).toEqual([
      {
        Sid: 'FindTheNamespace',
        Effect: 'Allow',
        Action: 'redshift-serverless:GetWorkgroup',
        Resource: workgroups,
      },
    ]);
    expect(statementsOf(t, 'ArchiveAssociationIsComplete')).toEqual([
      {
        Sid: 'PassTheRedshiftRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveRedshiftRole[0-9A-F]{8}$/), 'Arn'] },
      },
      {
        Sid: 'AssociateWithTheNamespace',
        Effect: 'Allow',
        Action: ['redshift-serverless:GetNamespace', 'redshift-serverless:UpdateNamespace'],
        Resource: namespaces,
      },
    ]);
  });

  test('Serverless: both functions that send SQL run as one named role, the one database user the stack outputs', () => {
    const t = templateOf({ config: onServerless() });
    const shared = { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveDataApiRole[0-9A-F]{8}$/), 'Arn'] };
    const roles = functionRoles(t);
    expect(roles.ArchiveUnload).toEqual(shared);
    expect(roles.ArchiveSchemaIsComplete).toEqual(shared);
    // the functions that send no SQL keep roles of their own
    expect(roles.ArchiveSchemaOnEvent).not.toEqual(shared);
    expect(roles.ArchiveAssociationIsComplete).not.toEqual(shared);

    // the role's name is known before the deploy, so its database user can be granted first
    const [[, role]] = Object.entries(t.findResources('AWS::IAM::Role')).filter(([id]) =>
      id.startsWith('ArchiveDataApiRole'),
    );
    expect(role.Properties).toMatchObject({
      RoleName: 'archive-data-api',
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ],
      },
    });
    expect(t.findOutputs('DatabaseUser').DatabaseUser.Value).toBe('IAMR:archive-data-api');
    // and the Serverless Data API statements are granted to it once
    const sids = statementsOf(t, 'ArchiveDataApiRole').map((st) => st.Sid);
    expect(sids.filter((sid) => sid === 'RunStatements')).toHaveLength(1);
    expect(sids).toContain('CheckTables');
    // (the partitions that setup registers again are the unload function's RegisterPartitions: once)
    expect(sids.filter((sid) => /Partitions$/.test(String(sid)))).toEqual(['RegisterPartitions']);
  });

  test("deploy-time setup may register the committed batches' partitions again in the stack's catalog, nothing more", () => {
    const statements = statementsOf(template, 'ArchiveSchemaIsCompleteServiceRole');
    const register = statements.find((st) => st.Sid === 'RegisterCommittedPartitions');
    expect(register?.Action).toEqual([
      'glue:GetPartition',
      'glue:GetPartitions',
      'glue:BatchCreatePartition',
      'glue:BatchDeletePartition',
    ]);
    expect(JSON.stringify(register?.Resource)).not.toContain('"*"');
  });

  test('Serverless: dataApiRoleName names the shared role and so the database user', () => {
    const t = templateOf({ config: onServerless(), dataApiRoleName: 'contabyx-archiver' });
    t.hasResourceProperties('AWS::IAM::Role', { RoleName: 'contabyx-archiver' });
    expect(t.findOutputs('DatabaseUser').DatabaseUser.Value).toBe('IAMR:contabyx-archiver');
  });

  test('Serverless with warehouse.roleArn: no association either, and the functions still share one role', () => {
    const t = templateOf({ config: onServerless({ roleArn: ROLE_ARN }) });
    t.resourceCountIs('Custom::RedshiftArchiveRoleAssociation', 0);
    const roles = functionRoles(t);
    expect(roles.ArchiveUnload).toEqual(roles.ArchiveSchemaIsComplete);
  });

  test('provisioned: the database identity is the configured user or secret, and each function keeps its own role', () => {
    expect(template.findOutputs('DatabaseUser').DatabaseUser.Value).toBe('archiver');
    expect(templateOf({ config: withSecret() }).findOutputs('DatabaseUser').DatabaseUser.Value).toBe(
      SECRET_ARN,
    );
    const roles = functionRoles(template);
    expect(roles.ArchiveUnload).not.toEqual(roles.ArchiveSchemaIsComplete);
    template.resourceCountIs('AWS::IAM::Role', Object.keys(template.findResources('AWS::IAM::Role')).length);
    expect(
      Object.keys(template.findResources('AWS::IAM::Role')).some((id) => id.startsWith('ArchiveDataApiRole')),
    ).toBe(false);
  });

  test('fails with dataApiRoleName on a provisioned warehouse, whose identity is dbUser or secretArn', () => {
    expect(() => stackOf({ dataApiRoleName: 'archiver' })).toThrow(
      'RedshiftArchive props: dataApiRoleName: "archiver" is not allowed; allowed: only with a Serverless warehouse (a provisioned one uses dbUser or secretArn)',
    );
  });

  test('fails with a dataApiRoleName that is not a lower-case IAM role name', () => {
    expect(() => stackOf({ config: onServerless(), dataApiRoleName: 'Archiver' })).toThrow(
      'RedshiftArchive props: dataApiRoleName: "Archiver" is not allowed; allowed: an IAM role name in lower case: a-z, 0-9 and +=,.@_- , at most 64 characters',
    );
  });

  test('fails when the stack name is too long for the default role name, saying to set dataApiRoleName', () => {
    const stackName = `Archive${'x'.repeat(54)}`;
    expect(() => stackOf({ config: onServerless(), stackName })).toThrow(
      `RedshiftArchive props: dataApiRoleName (its default from the stack name): "${stackName.toLowerCase()}-data-api" is not allowed; allowed: an IAM role name in lower case: a-z, 0-9 and +=,.@_- , at most 64 characters`,
    );
  });
});

describe('alarms reach the topic', () => {
  const CLOUDWATCH_KEY_STATEMENT = {
    Sid: 'CloudWatchPublishesAlarms',
    Effect: 'Allow',
    Principal: { Service: 'cloudwatch.amazonaws.com' },
    Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
    Resource: '*',
    Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
  };

  test('the topic is encrypted with a rotated customer managed key of its own whose policy admits CloudWatch', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    const [[keyId, key]] = Object.entries(template.findResources('AWS::KMS::Key'));
    expect(keyId).toMatch(/^ArchiveAlarmsKey/);
    expect(key).toMatchObject({ DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(CLOUDWATCH_KEY_STATEMENT);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });

  test("the topic's key goes with a destroyed stack when the removal policy says so", () => {
    const destroyed = templateOf({ removalPolicy: RemovalPolicy.DESTROY });
    destroyed.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  test("the topic policy allows this account's CloudWatch to publish, besides denying plain HTTP", () => {
    const topic = { Ref: Match.stringLikeRegexp('^ArchiveAlarms') };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topic],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AllowPublishThroughSSLOnly',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: topic,
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
          {
            Sid: 'CloudWatchPublishesAlarms',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: topic,
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          },
        ],
      },
    });
  });

  test('a given key encrypts the topic, and its policy admits CloudWatch and EventBridge', () => {
    const { archive, keys } = keyedStacks();
    archive.resourceCountIs('AWS::KMS::Key', 0);
    archive.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::ImportValue': Match.stringLikeRegexp('^Keys:ExportsOutputFnGetAttKey.*Arn') },
    });
    const [key] = Object.values(keys.findResources('AWS::KMS::Key'));
    expect(key.Properties.KeyPolicy.Statement).toEqual(
      expect.arrayContaining([
        CLOUDWATCH_KEY_STATEMENT,
        {
          Sid: 'EventBridgeSendsToTheDeadLetterQueue',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: '*',
        },
      ]),
    );
    archive.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::ImportValue': Match.stringLikeRegexp('^Keys:ExportsOutputFnGetAttKey.*Arn') },
    });
  });

  test('an imported key cannot be changed, so synth warns with the statements its owner must add', () => {
    // given a key that another account or stack owns
    const app = unitApp();
    const other = new Stack(app, 'Keys', { env: { account: '123456789012', region: 'eu-west-1' } });
    const stack = stackOf({ encryptionKey: kms.Key.fromKeyArn(other, 'Imported', KEY_ARN) }, app);

    // then the archive's template changes no key policy, and synth says what to add
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 0);
    Annotations.fromStack(stack).hasWarning(
      '/Archive/Archive',
      "encryptionKey is imported, so its key policy is its owner's: add these statements to it, or alarms will not " +
        'reach the topic and EventBridge cannot use the dead-letter queue: ' +
        JSON.stringify([
          {
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Resource: '*',
            Sid: 'EventBridgeSendsToTheDeadLetterQueue',
          },
          {
            Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Resource: '*',
            Sid: 'CloudWatchPublishesAlarms',
          },
        ]) +
        ' [ack: redshift-archive:encryptionKey.keyPolicy]',
    );
  });

  test('a key of this app gets the statements, and synth does not warn', () => {
    const app = unitApp();
    const keys = new Stack(app, 'Keys', { env: { account: '123456789012', region: 'eu-west-1' } });
    const stack = stackOf({ encryptionKey: new kms.Key(keys, 'Key', { enableKeyRotation: true }) }, app);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('encryptionKey is imported'));
  });
});

describe('a KMS key of your own', () => {
  test("UNLOAD and the custom resource get the key's id, the form AWS documents for KMS_KEY_ID", () => {
    const keyed = withKey();
    const keyId = { 'Fn::ImportValue': Match.stringLikeRegexp('^Keys:ExportsOutputRefKey') };
    keyed.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ KMS_KEY_ID: keyId }) },
    });
    keyed.hasResourceProperties('Custom::RedshiftArchiveSchemaAndViews', { KmsKeyId: keyId });
    const app = unitApp();
    const other = new Stack(app, 'Keys', { env: { account: '123456789012', region: 'eu-west-1' } });
    const imported = Template.fromStack(
      stackOf({ encryptionKey: kms.Key.fromKeyArn(other, 'Imported', KEY_ARN) }, app),
    );
    imported.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ KMS_KEY_ID: '1234abcd-12ab-34cd-56ef-1234567890ab' }),
      },
    });
    imported.hasResourceProperties('Custom::RedshiftArchiveSchemaAndViews', {
      KmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    });
  });

  test('a secret under a customer managed key: both functions that read it may decrypt it, through Secrets Manager only', () => {
    const app = unitApp();
    const other = new Stack(app, 'Keys', { env: { account: '123456789012', region: 'eu-west-1' } });
    const secretKey = kms.Key.fromKeyArn(other, 'SecretKey', KEY_ARN);
    const t = Template.fromStack(stackOf({ config: withSecret(), secretKey }, app));
    for (const role of ['ArchiveUnloadServiceRole', 'ArchiveSchemaIsCompleteServiceRole']) {
      expect(statementsOf(t, role)).toContainEqual({
        Sid: 'DecryptTheSecret',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: KEY_ARN,
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      });
    }
    const plain = templateOf({ config: withSecret() });
    expect(statementsOf(plain, 'ArchiveUnloadServiceRole').map((x) => x.Sid)).not.toContain(
      'DecryptTheSecret',
    );
  });

  test('fails with a secret key when the warehouse reads no secret', () => {
    const app = unitApp();
    const other = new Stack(app, 'Keys', { env: { account: '123456789012', region: 'eu-west-1' } });
    const secretKey = kms.Key.fromKeyArn(other, 'SecretKey', KEY_ARN);
    expect(() => stackOf({ secretKey }, app)).toThrow(
      'RedshiftArchive props: secretKey: "Keys/SecretKey" is not allowed; allowed: only with a provisioned warehouse that names secretArn (the key that encrypts that secret)',
    );
  });
});

describe('checks', () => {
  test('cdk-nag (AwsSolutions) finds nothing unacknowledged, and every acknowledgement has a reason', () => {
    const app = unitApp();
    stackOf({}, app);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    // metadata entries map "Annotation::<rule id>" to the reason
    const acknowledged = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(new Set(acknowledged.map(([id]) => id.replace(/^Annotation::/, '').replace(/\[.*$/, '')))).toEqual(
      new Set([
        'AwsSolutions-S1',
        'AwsSolutions-IAM4',
        'AwsSolutions-IAM5',
        'AwsSolutions-L1',
        'AwsSolutions-SQS3',
        'AwsSolutions-SF1',
        'AwsSolutions-SF2',
      ]),
    );
    expect(acknowledged.filter(([, reason]) => reason.length < 40)).toEqual([]);
  });

  test('cdk-nag finds nothing unacknowledged with a given key and a secret under a key of its own either', () => {
    const app = unitApp();
    const keys = new Stack(app, 'Keys', { env: { account: '123456789012', region: 'eu-west-1' } });
    stackOf(
      {
        config: withSecret(),
        encryptionKey: new kms.Key(keys, 'Key', { enableKeyRotation: true }),
        secretKey: kms.Key.fromKeyArn(keys, 'SecretKey', KEY_ARN),
      },
      app,
    );
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
  });

  test.each([
    ['Serverless', { config: onServerless() }],
    ['warehouse.roleArn', { config: withRoleArn() }],
  ])('cdk-nag finds nothing unacknowledged on the %s deploy path either', (_, props) => {
    const app = unitApp();
    stackOf(props, app);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
  });

  test('outputs what a user needs after deploying, and what the command line finds the stack by', () => {
    expect(Object.keys(template.findOutputs('*')).sort()).toEqual([
      'AlarmTopicArn',
      'AthenaWorkgroup',
      'ConfigurationDigest',
      'DatabaseUser',
      'LakeBucketName',
      'RedshiftRoleArn',
      'UnloadFunctionName',
    ]);
    // the digest of the configuration as deployed: the command line refuses any other file
    expect(template.findOutputs('ConfigurationDigest').ConfigurationDigest.Value).toBe(
      configDigest(config()),
    );
  });

  test('outputs the lake key when the lake is encrypted with a customer key, for the command line to name it in UNLOAD', () => {
    expect(Object.keys(withKey().findOutputs('LakeKmsKeyId'))).toEqual(['LakeKmsKeyId']);
    expect(Object.keys(template.findOutputs('LakeKmsKeyId'))).toEqual([]);
  });

  test('synthesis is deterministic', () => {
    expect(templateOf().toJSON()).toEqual(templateOf().toJSON());
  });

  test.each([
    [
      { archiveTransition: { storageClass: s3.StorageClass.DEEP_ARCHIVE, after: Duration.days(180) } },
      'archiveTransition.storageClass: "DEEP_ARCHIVE" is not allowed; allowed: STANDARD_IA, GLACIER_IR or INTELLIGENT_TIERING (Athena and Spectrum cannot read Glacier Flexible Retrieval or Deep Archive)',
    ],
    [
      { archiveTransition: { storageClass: s3.StorageClass.INFREQUENT_ACCESS, after: Duration.days(7) } },
      'archiveTransition.after: "7 days" is not allowed; allowed: at least 30 days for STANDARD_IA (an S3 rule)',
    ],
    [{ alarmEmail: 'ops' }, 'alarmEmail: "ops" is not allowed; allowed: an e-mail address'],
    [
      { athenaBytesScannedCutoffPerQuery: 1000 },
      'athenaBytesScannedCutoffPerQuery: 1000 is not allowed; allowed: a whole number of bytes, at least 10000000 (an Athena rule)',
    ],
    [
      { unloadTimeout: Duration.minutes(30) },
      'unloadTimeout: "1800 seconds" is not allowed; allowed: from 3 to 15 minutes',
    ],
  ])('fails for invalid props %#, naming the prop, the value and what is allowed', (props, message) => {
    expect(() => stackOf(props)).toThrow(`RedshiftArchive props: ${message}`);
  });

  test('fails naming every invalid prop at once, so that one synth shows them all', () => {
    expect(() => stackOf({ alarmEmail: 'ops', unloadTimeout: Duration.minutes(30) })).toThrow(
      'RedshiftArchive props: 2 problems\n' +
        '  alarmEmail: "ops" is not allowed; allowed: an e-mail address\n' +
        '  unloadTimeout: "1800 seconds" is not allowed; allowed: from 3 to 15 minutes',
    );
  });

  test('the app passes -c dataApiRoleName to a Serverless stack, whose output names that database user', () => {
    // given a Serverless configuration file and the context key
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'serverless.json');
    writeFileSync(
      file,
      JSON.stringify({
        ...JSON.parse(configJson(config())),
        warehouse: { type: 'serverless', workgroupName: 'analytics', database: 'dev' },
      }),
    );

    // when the app synthesizes (no bundling, no validator: this is about the wiring)
    execFileSync(process.execPath, [require.resolve('tsx/cli'), 'bin/app.ts'], {
      env: {
        ...process.env,
        CDK_OUTDIR: join(dir, 'out'),
        CDK_VALIDATION: 'false',
        CDK_CONTEXT_JSON: JSON.stringify({
          config: file,
          dataApiRoleName: 'contabyx-archiver',
        }),
      },
      stdio: 'pipe',
    });

    // then the stack's one database identity is that role's user
    const synthesized = JSON.parse(readFileSync(join(dir, 'out', 'RedshiftArchive.template.json'), 'utf8'));
    expect(synthesized.Outputs.DatabaseUser.Value).toBe('IAMR:contabyx-archiver');
  });

  test('an invalid configuration file fails synth with the field, the value and what is allowed', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'bad.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(configJson(config())), retention: { keepYears: 0 } }));
    let stderr = '';
    try {
      execFileSync(process.execPath, [require.resolve('tsx/cli'), 'bin/app.ts'], {
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: file }) },
        stdio: 'pipe',
      });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(stderr).toBe(
      `${file}: invalid configuration\n  retention.keepYears: 0 is not allowed; allowed: at least 1\n`,
    );
  });
});

describe('teams that query the archive', () => {
  /** The statements of the policy attached to the analysts' role, by Sid-less position. */
  function analystsOf(props: Parameters<typeof stackOf>[0] = {}, app = unitApp()) {
    const stack = stackOf(props, app);
    const analysts = new iam.Role(stack, 'Analysts', { assumedBy: new iam.AccountRootPrincipal() });
    stack.archive.grantRead(analysts);
    return statementsOf(Template.fromStack(stack), 'Analysts');
  }

  test('grantRead lets a role query the archive from Athena: the workgroup, the tables, the lake prefix and its results', () => {
    // given an analysts' role, when the archive grants it read access
    const statements = analystsOf();

    // then it may run queries in the archive's workgroup only
    const bucketArn = { 'Fn::GetAtt': [expect.stringMatching(/^ArchiveLake/), 'Arn'] };
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}/*`]] });
    expect(statements).toEqual([
      {
        Action: [
          'athena:StartQueryExecution',
          'athena:StopQueryExecution',
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:GetWorkGroup',
        ],
        Effect: 'Allow',
        Resource: arn('arn:aws:athena:eu-west-1:123456789012:workgroup/contabyx-archive'),
      },
      {
        Action: [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:GetTables',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:BatchGetPartition',
        ],
        Effect: 'Allow',
        Resource: [...GLUE, arn('arn:aws:glue:eu-west-1:123456789012:database/default')],
      },
      { Action: 's3:GetObject', Effect: 'Allow', Resource: objects('contabyx-parquet') },
      {
        Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Effect: 'Allow',
        Resource: objects('athena-results'),
      },
      {
        Action: 's3:ListBucket',
        Condition: {
          StringLike: {
            's3:prefix': ['contabyx-parquet/*', 'contabyx-parquet/', 'athena-results/*', 'athena-results/'],
          },
        },
        Effect: 'Allow',
        Resource: bucketArn,
      },
      {
        Action: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
        Effect: 'Allow',
        Resource: bucketArn,
      },
    ]);
  });

  test('grantRead lets a role decrypt the lake and encrypt its results with the archive key', () => {
    const app = unitApp();
    const keys = new Stack(app, 'Keys', { env: { account: '123456789012', region: 'eu-west-1' } });
    const key = new kms.Key(keys, 'Key', { enableKeyRotation: true });
    expect(analystsOf({ encryptionKey: key }, app)).toContainEqual({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: { 'Fn::ImportValue': expect.stringMatching(/^Keys:.*Key.*Arn/) },
    });
  });

  test('exposes what it built, for teams that extend it', () => {
    const { archive } = stackOf();
    expect(archive.tables.map((t) => (t.tableInput as { name: string }).name)).toEqual(
      config().tables.map((t) => t.name.toLowerCase()),
    );
    expect(archive.alarms).toHaveLength(5);
    expect(archive.views.node.dependencies).toContain(archive.externalSchema);
  });
});
