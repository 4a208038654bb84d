import { GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeClustersCommand, RedshiftClient } from '@aws-sdk/client-redshift';
import {
  GetNamespaceCommand,
  GetWorkgroupCommand,
  RedshiftServerlessClient,
} from '@aws-sdk/client-redshift-serverless';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '../../src/config/config';
import { awsChecks } from '../../src/engines/aws/checks';
import contabyx from '../../config/contabyx.json';

const ROLE = 'arn:aws:iam::123456789012:role/archive-redshift';
const config = parseConfig({ ...contabyx, tables: [contabyx.tables[0]] });
const serverlessConfig = parseConfig({
  ...contabyx,
  warehouse: { type: 'serverless', workgroupName: 'analytics', database: 'dev' },
  tables: [contabyx.tables[0]],
});

const redshift = mockClient(RedshiftClient);
const serverless = mockClient(RedshiftServerlessClient);
const glue = mockClient(GlueClient);
const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);

beforeEach(() => {
  for (const m of [redshift, serverless, glue, s3, lambda]) m.reset();
  redshift.on(DescribeClustersCommand).resolves({
    Clusters: [
      {
        ClusterStatus: 'available',
        IamRoles: [
          { IamRoleArn: 'arn:aws:iam::123456789012:role/other', ApplyStatus: 'in-sync' },
          { IamRoleArn: ROLE, ApplyStatus: 'in-sync' },
        ],
      },
    ],
  });
  glue
    .on(GetTableCommand)
    .resolves({ Table: { Name: 'transactions', IsRegisteredWithLakeFormation: false } });
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { UnreservedConcurrentExecutions: 999 } });
});

const clients = () => ({
  redshift: new RedshiftClient({}),
  serverless: new RedshiftServerlessClient({}),
  glue: new GlueClient({}),
  s3: new S3Client({}),
  lambda: new LambdaClient({}),
});
const run = (c = config) => awsChecks({ config: c, bucket: 'lake-bucket', iamRoleArn: ROLE }, clients());
const failed = async (c = config) =>
  (await run(c)).filter((x) => !x.ok).map((x) => [x.check, x.detail, x.fix]);

describe("preflight's AWS checks", () => {
  test('pass when the role is in sync, IAM governs the tables, the bucket answers and concurrency is left', async () => {
    expect((await run()).map((c) => [c.check, c.ok])).toEqual([
      ['role associated', true],
      ['lake formation transactions', true],
      ['lake bucket', true],
      ['lambda concurrency', true],
    ]);
    expect(s3.commandCalls(ListObjectsV2Command)[0].args[0].input).toEqual({
      Bucket: 'lake-bucket',
      Prefix: 'contabyx-parquet/',
      MaxKeys: 1,
    });
  });

  test('fail while the role is still being added to the cluster, naming the fix', async () => {
    redshift
      .on(DescribeClustersCommand)
      .resolves({ Clusters: [{ IamRoles: [{ IamRoleArn: ROLE, ApplyStatus: 'adding' }] }] });
    expect(await failed()).toEqual([
      [
        'role associated',
        `${ROLE} is adding with cluster contabyx`,
        `aws redshift modify-cluster-iam-roles --cluster-identifier contabyx --add-iam-roles ${ROLE} (the stack does this unless warehouse.roleArn names the role), then wait until it is in-sync`,
      ],
    ]);
  });

  test("fail when the role is not among a Serverless namespace's roles", async () => {
    serverless.on(GetWorkgroupCommand).resolves({ workgroup: { namespaceName: 'analytics-ns' } as never });
    serverless.on(GetNamespaceCommand).resolves({
      namespace: {
        iamRoles: ['IamRole(applyStatus=in-sync, iamRoleArn=arn:aws:iam::123456789012:role/other)'],
      } as never,
    });
    expect((await failed(serverlessConfig))[0]).toEqual([
      'role associated',
      `${ROLE} is not associated with the namespace of workgroup analytics`,
      `add ${ROLE} to the namespace's IAM roles, keeping the others (the stack does this unless warehouse.roleArn names the role), then wait until it is in-sync`,
    ]);
  });

  test('fail when a Glue table is governed by Lake Formation', async () => {
    glue
      .on(GetTableCommand)
      .resolves({ Table: { Name: 'transactions', IsRegisteredWithLakeFormation: true } });
    expect(await failed()).toEqual([
      [
        'lake formation transactions',
        'the Glue table contabyx.transactions is governed by Lake Formation, whose grants the stack does not make',
        `grant SELECT and DESCRIBE on contabyx.transactions in Lake Formation to ${ROLE} (Spectrum) and to this function's role (Athena)`,
      ],
    ]);
  });

  test('fail when the bucket does not answer', async () => {
    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    expect(await failed()).toEqual([
      [
        'lake bucket',
        'AccessDenied: Access Denied',
        'let this function list s3://lake-bucket (and check the bucket exists)',
      ],
    ]);
  });

  test('fail when the account leaves Lambda less than its 100 unreserved executions', async () => {
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { UnreservedConcurrentExecutions: 10 } });
    expect(await failed()).toEqual([
      [
        'lambda concurrency',
        'only 10 unreserved concurrent executions in the account; Lambda keeps 100, and the archive reserves 1',
        'ask for a higher "Concurrent executions" quota in Service Quotas (AWS Lambda)',
      ],
    ]);
  });
});
