import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { countRows, isComplete, onEvent, type SeedEvent } from '../integ/seed';
import { INTEG, INTEG_CONFIG, SEEDED, seedStatements } from '../integ/fixture';
import { differences, normalized } from '../integ/snapshot';
import { assertionResults, options } from '../integ/run-aws';
// The handler's own parsing, which integ-tests-alpha ships as plain JavaScript beside its bundle.
import { deepParseJson } from '@aws-cdk/integ-tests-alpha/lib/assertions/providers/lambda-handler/utils';

const SNAPSHOT = join(__dirname, '..', 'integ', 'integ.archive-serverless.ts.snapshot');
const template = (name: string, snapshot = SNAPSHOT) =>
  JSON.parse(readFileSync(join(snapshot, `${name}.template.json`), 'utf8'));
type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

describe('the integration test on Serverless, as its committed snapshot holds it', () => {
  const assert = template('ArchiveServerlessDefaultTestDeployAssert3239DF67') as {
    Resources: Record<string, Resource>;
    Outputs: Record<string, unknown>;
  };
  const calls = Object.entries(assert.Resources).filter(([, r]) =>
    r.Type.startsWith('Custom::DeployAssert@SdkCall'),
  );
  const call = (api: string) => calls.filter(([, r]) => r.Type.endsWith(api));

  const invokes = () =>
    call('Lambdainvoke').map(([id, r]) => {
      const parameters = r.Properties.parameters as { Payload?: string; InvocationType?: string };
      return {
        id,
        payload: parameters.Payload === undefined ? undefined : JSON.parse(JSON.parse(parameters.Payload)),
        invocationType: parameters.InvocationType,
        expected:
          r.Properties.expected === undefined
            ? undefined
            : (JSON.parse(r.Properties.expected as string) as unknown),
        after: r.DependsOn ?? [],
      };
    });

  test('asserts through the function: a run, status until it finished, then a deep audit; each waits for the one before', () => {
    const [run, status, audit] = invokes();
    expect([run, status, audit].map((i) => [i.payload, i.invocationType])).toEqual([
      [{ action: 'run' }, '"Event"'],
      [{ action: 'status' }, undefined],
      [{ action: 'audit', deep: true }, undefined],
    ]);
    expect(status.expected).toEqual({
      $ObjectLike: {
        Payload: {
          $SerializedJson: {
            $ObjectLike: {
              outcome: 'status',
              status: {
                $ObjectLike: {
                  runs: [{ $ObjectLike: { state: 'finished', archivedRows: SEEDED.archived, error: null } }],
                },
              },
            },
          },
        },
      },
    });
    expect(audit.expected).toMatchObject({
      $ObjectLike: { Payload: { $SerializedJson: { $ObjectLike: { outcome: 'audit' } } } },
    });
    expect(status.after).toContain(run.id);
    expect(audit.after).toContain(status.id);
  });

  test("then counts the union view's rows (every seeded order) through the test's count function, and one archived year through Athena", () => {
    // The view's count runs and is waited for in ONE invocation of one role: the Data API lets
    // only the identity that ran a statement describe it, and the assertions' calls and their
    // waiter run as two roles.
    const [, , audit, count] = invokes();
    expect(count.payload).toBeUndefined();
    expect(count.expected).toEqual({
      $ObjectLike: { Payload: { $SerializedJson: { count: SEEDED.orders } } },
    });
    expect(count.after).toContain(audit.id);
    expect(call('RedshiftData')).toEqual([]);
    const [[, athena]] = call('AthenastartQueryExecution');
    expect(JSON.parse((athena.Properties.parameters as { QueryString: string }).QueryString)).toBe(
      `SELECT COUNT(*) FROM "${INTEG_CONFIG.catalog.database}"."orders" WHERE "year" = year(current_date) - 1`,
    );
    expect(athena.DependsOn).toContain(count.id);
    const [[, counted]] = call('AthenagetQueryResults');
    // the number Athena's "100" becomes once the handler parses the response's strings as JSON
    expect(JSON.parse(counted.Properties.expected as string)).toEqual({ $Exact: INTEG.ordersPerYear });
    // every assertion reports its result as an output the runner reads
    expect(Object.keys(assert.Outputs).filter((k) => k.startsWith('AssertionResults'))).toHaveLength(5);
  });

  test("lets the assertions' handlers wait as long as the function may run: a deep audit may outlast their 2 minutes", () => {
    const handlers = Object.values(assert.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(handlers.length).toBeGreaterThan(0);
    expect(handlers.map((r) => r.Properties.Timeout)).toEqual(handlers.map(() => 900));
  });

  test("compares Athena's count with the value as the assertion handler reads it: its text parsed as JSON", () => {
    // given the answer as Athena sends it, read the way the assertions' handler reads a path (it
    // parses every string of the response as JSON before it flattens it)
    const response = {
      ResultSet: { Rows: [{ Data: [{ VarCharValue: '_col0' }] }, { Data: [{ VarCharValue: '100' }] }] },
    };
    const [[, resource]] = call('AthenagetQueryResults');
    const path = resource.Properties.actualPath as string;
    const read = path
      .split('.')
      .reduce((at: unknown, key) => (at as Record<string, unknown>)[key], deepParseJson(response));
    // then it is exactly what the snapshot expects, type included ($Exact compares types)
    expect(read).toStrictEqual(
      (JSON.parse(resource.Properties.expected as string) as { $Exact: unknown }).$Exact,
    );
  });

  test('deploys the smallest workgroup in three isolated subnets (no NAT, no internet gateway), and destroys everything', () => {
    const stack = template('RedshiftArchiveIntegServerless') as {
      Resources: Record<string, Resource & { DeletionPolicy?: string }>;
    };
    const of = (type: string) => Object.values(stack.Resources).filter((r) => r.Type === type);
    expect(of('AWS::RedshiftServerless::Workgroup')[0].Properties).toMatchObject({
      BaseCapacity: 4,
      PubliclyAccessible: false,
    });
    expect(of('AWS::EC2::Subnet')).toHaveLength(3);
    expect([...of('AWS::EC2::NatGateway'), ...of('AWS::EC2::InternetGateway')]).toEqual([]);
    expect(
      Object.values(stack.Resources).filter((r) => r.DeletionPolicy && r.DeletionPolicy !== 'Delete'),
    ).toEqual([]);
    // the seed runs the README's grants before the archive is deployed
    const seed = Object.entries(stack.Resources).find(
      ([, r]) => r.Type === 'AWS::CloudFormation::CustomResource' && 'Sqls' in r.Properties,
    );
    expect(seed?.[1].Properties.Sqls).toEqual(seedStatements(`IAMR:${INTEG.dataApiRole}`));
    // the seed's onEvent and isComplete and the count run as ONE role: only the identity that ran
    // a Data API statement may describe it and read its result
    const adminFunctions = Object.entries(stack.Resources).filter(
      ([id, r]) =>
        r.Type === 'AWS::Lambda::Function' && /^(Seed(onEvent|isComplete)Handler|CountOrders)/.test(id),
    );
    expect(adminFunctions).toHaveLength(3);
    expect(new Set(adminFunctions.map(([, r]) => JSON.stringify(r.Properties.Role))).size).toBe(1);
    const [, count] = adminFunctions.find(([id]) => id.startsWith('CountOrders')) as [string, Resource];
    expect((count.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      TARGET: JSON.stringify({ WorkgroupName: INTEG.workgroup }),
      DATABASE: INTEG.database,
      SQL: `SELECT COUNT(*) FROM "${INTEG.schema}"."all_orders"`,
    });
  });
});

describe('the integration test on a provisioned cluster', () => {
  const snapshot = join(__dirname, '..', 'integ', 'integ.archive-provisioned.ts.snapshot');
  const expectations = (t: { Resources: Record<string, Resource> }) =>
    Object.values(t.Resources)
      .filter((r) => r.Type.startsWith('Custom::DeployAssert@SdkCall'))
      .map((r) => [r.Type, r.Properties.expected ?? null]);

  test('asserts the same chain as on Serverless, on one RA3 node in isolated subnets, as the dbUser archiver', () => {
    expect(expectations(template('ArchiveProvisionedDefaultTestDeployAssertD28C516A', snapshot))).toEqual(
      expectations(template('ArchiveServerlessDefaultTestDeployAssert3239DF67')),
    );
    const stack = template('RedshiftArchiveIntegProvisioned', snapshot) as {
      Resources: Record<string, Resource>;
    };
    const [cluster] = Object.values(stack.Resources).filter((r) => r.Type === 'AWS::Redshift::Cluster');
    expect(cluster.Properties).toMatchObject({
      ClusterType: 'single-node',
      NodeType: 'ra3.large',
      PubliclyAccessible: false,
      Encrypted: true,
    });
    expect(
      Object.values(stack.Resources).filter(
        (r) =>
          (r as { DeletionPolicy?: string }).DeletionPolicy !== undefined &&
          (r as { DeletionPolicy?: string }).DeletionPolicy !== 'Delete',
      ),
    ).toEqual([]);
    const seed = Object.values(stack.Resources).find((r) => 'Sqls' in r.Properties);
    expect(seed?.Properties).toMatchObject({
      ClusterIdentifier: INTEG.cluster,
      Sqls: seedStatements('archiver'),
    });
  });
});

describe('the seed of the integration test', () => {
  const rsd = mockClient(RedshiftDataClient);
  beforeEach(() => rsd.reset());
  const event = (RequestType: SeedEvent['RequestType'], PhysicalResourceId?: string): SeedEvent => ({
    RequestType,
    ...(PhysicalResourceId ? { PhysicalResourceId } : {}),
    ResourceProperties: {
      WorkgroupName: 'wg',
      Database: 'dev',
      SecretArn: 'arn:secret',
      Sqls: ['SELECT 1', 'SELECT 2'],
    },
  });

  test('on a cluster, names the cluster instead of a workgroup', async () => {
    rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'abc' });
    const { Database, SecretArn, Sqls } = event('Create').ResourceProperties;
    await onEvent(
      { RequestType: 'Create', ResourceProperties: { ClusterIdentifier: 'c1', Database, SecretArn, Sqls } },
      new RedshiftDataClient({}),
    );
    expect(rsd.commandCalls(BatchExecuteStatementCommand)[0].args[0].input).toEqual({
      ClusterIdentifier: 'c1',
      Database: 'dev',
      SecretArn: 'arn:secret',
      Sqls: ['SELECT 1', 'SELECT 2'],
      StatementName: 'redshift-archive-integ.seed',
    });
  });

  test('sends its statements as one Data API batch as the admin, then completes once the batch finished', async () => {
    rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'abc' });
    const created = await onEvent(event('Create'), new RedshiftDataClient({}));
    expect(created).toEqual({ PhysicalResourceId: 'seed:abc' });
    expect(rsd.commandCalls(BatchExecuteStatementCommand)[0].args[0].input).toEqual({
      WorkgroupName: 'wg',
      Database: 'dev',
      SecretArn: 'arn:secret',
      Sqls: ['SELECT 1', 'SELECT 2'],
      StatementName: 'redshift-archive-integ.seed',
    });
    rsd.on(DescribeStatementCommand).resolvesOnce({ Status: 'STARTED' }).resolves({ Status: 'FINISHED' });
    const client = new RedshiftDataClient({});
    expect(await isComplete(event('Create', 'seed:abc'), client)).toEqual({ IsComplete: false });
    expect(await isComplete(event('Create', 'seed:abc'), client)).toEqual({ IsComplete: true });
    expect(rsd.commandCalls(DescribeStatementCommand)[0].args[0].input).toEqual({ Id: 'abc' });
  });

  test("fails the deploy with the failed statement's error, and does nothing on delete", async () => {
    rsd.on(DescribeStatementCommand).resolves({
      Status: 'FAILED',
      SubStatements: [
        { Id: 'abc:1', Status: 'FINISHED' },
        { Id: 'abc:2', Status: 'FAILED', Error: 'ERROR: permission denied' },
      ],
    });
    await expect(isComplete(event('Create', 'seed:abc'), new RedshiftDataClient({}))).rejects.toThrow(
      'the seed FAILED: ERROR: permission denied',
    );
    expect(await onEvent(event('Delete', 'seed:abc'), new RedshiftDataClient({}))).toEqual({
      PhysicalResourceId: 'seed:abc',
    });
    expect(await isComplete(event('Delete', 'seed:abc'), new RedshiftDataClient({}))).toEqual({
      IsComplete: true,
    });
    expect(rsd.commandCalls(BatchExecuteStatementCommand)).toHaveLength(0);
  });

  test("counts the union view as the admin, waiting for its statement in the same invocation; a failed count fails with the Data API's error", async () => {
    // given a count that runs, then finishes with 400
    rsd.on(ExecuteStatementCommand).resolves({ Id: 'c1' });
    rsd.on(DescribeStatementCommand).resolvesOnce({ Status: 'STARTED' }).resolves({ Status: 'FINISHED' });
    rsd.on(GetStatementResultCommand).resolves({ Records: [[{ longValue: 400 }]] });
    const env = {
      TARGET: JSON.stringify({ WorkgroupName: 'wg' }),
      DATABASE: 'dev',
      SECRET_ARN: 'arn:secret',
      SQL: 'SELECT COUNT(*) FROM "integ"."all_orders"',
    };
    const waited: number[] = [];
    // when the function runs
    const counted = await countRows(env, new RedshiftDataClient({}), async (ms) => {
      waited.push(ms);
    });
    // then it sent exactly this, waited once, and read the result of its own statement
    expect(counted).toEqual({ count: 400 });
    expect(rsd.commandCalls(ExecuteStatementCommand)[0].args[0].input).toEqual({
      WorkgroupName: 'wg',
      Database: 'dev',
      SecretArn: 'arn:secret',
      Sql: 'SELECT COUNT(*) FROM "integ"."all_orders"',
      StatementName: 'redshift-archive-integ.count',
    });
    expect(waited).toEqual([1_000]);
    expect(rsd.commandCalls(GetStatementResultCommand)[0].args[0].input).toEqual({ Id: 'c1' });
    // and a failed count says why
    rsd
      .on(DescribeStatementCommand)
      .resolves({ Status: 'FAILED', Error: 'ERROR: permission denied for relation all_orders' });
    await expect(countRows(env, new RedshiftDataClient({}), async () => {})).rejects.toThrow(
      'the count FAILED: ERROR: permission denied for relation all_orders',
    );
  });

  test('seeds a family over three past years and the current one, archived but for the current year', () => {
    const sql = seedStatements('IAMR:role');
    expect(sql).toHaveLength(15);
    expect(sql).toContain('GRANT SELECT, DELETE ON "integ"."orders", "integ"."order_lines" TO "IAMR:role"');
    expect(sql).toContain('ALTER TABLE "integ"."orders" OWNER TO "IAMR:role"');
    expect(SEEDED).toEqual({ orders: 400, lines: 800, archived: 900 });
  });
});

describe('the offline snapshot check', () => {
  test("masks what changes at every synth (asset hashes, assertion salts, versions) but not the configuration's digest, and names where two templates differ", () => {
    const hash = 'a'.repeat(64);
    expect(
      normalized({
        version: '55.0.0',
        A: { S3Key: `${hash}.zip`, salt: '1796582673664', ConfigDigest: hash },
      }),
    ).toEqual({
      A: { S3Key: '<asset-hash>.zip', salt: '<salt>', ConfigDigest: hash },
    });
    expect(differences({ R: { P: 1, Q: [1, 2] } }, { R: { P: 2, Q: [1, 3] } })).toEqual([
      '/R/P: snapshot 1, now 2',
      '/R/Q/1: snapshot 2, now 3',
    ]);
  });
});

describe('npm run test:aws', () => {
  test("reads each assertion's result from the deploy's outputs: only a success passes", () => {
    expect(
      assertionResults({
        RedshiftArchiveIntegServerless: { UnloadFunctionName: 'fn' },
        ArchiveServerlessDefaultTestDeployAssert3239DF67: {
          AssertionResultsLambdaInvoke1: '{"status":"success"}',
          AssertionResultsAwsApiCallAthena2: '{"status":"fail","message":"Expected 100 but received 99"}',
          AssertionResultsAwsApiCallData3: 'not json',
        },
      }),
    ).toEqual([
      { name: 'LambdaInvoke1', ok: true, detail: '{"status":"success"}' },
      {
        name: 'AwsApiCallAthena2',
        ok: false,
        detail: '{"status":"fail","message":"Expected 100 but received 99"}',
      },
      { name: 'AwsApiCallData3', ok: false, detail: 'not json' },
    ]);
  });

  test('fails on a bad argument, naming it, the value and what is allowed', () => {
    const base = ['--profile', 'p', '--region', 'eu-west-1'];
    expect(() => options(['--region', 'eu-west-1'])).toThrow(/^--profile: missing\nusage: /);
    expect(() => options(['--profile', 'p', '--region', 'Ireland'])).toThrow(
      '--region: "Ireland" is not allowed; allowed: a Region such as eu-west-1',
    );
    expect(() => options([...base, '--base-capacity', 'four'])).toThrow(
      '--base-capacity: "four" is not allowed; allowed: 4 or a multiple of 8',
    );
    expect(() => options([...base, '--node-type', 'm5.large'])).toThrow(
      '--node-type: "m5.large" is not allowed; allowed: an RA3 or DC2 node type such as ra3.large',
    );
    expect(
      options([...base, '--node-type', 'ra3.xlplus', '--app', 'test/integ/integ.archive-provisioned.ts']),
    ).toEqual({
      profile: 'p',
      region: 'eu-west-1',
      nodeType: 'ra3.xlplus',
      keep: false,
      apps: ['test/integ/integ.archive-provisioned.ts'],
    });
  });
});
