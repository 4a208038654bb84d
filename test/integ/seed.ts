import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';

/** The seed resource's properties: where to run its statements (a workgroup or a cluster), as whom, and which. */
export interface SeedProperties {
  readonly WorkgroupName?: string;
  readonly ClusterIdentifier?: string;
  readonly Database: string;
  /** The admin's secret (`username`, `password`): the seed creates users and grants. */
  readonly SecretArn: string;
  /** Run in order as ONE transaction (at most 40). */
  readonly Sqls: readonly string[];
}

/** The Provider framework's event, as far as the seed reads it. */
export interface SeedEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: SeedProperties & { readonly ServiceToken?: string };
  readonly PhysicalResourceId?: string;
}

/** The physical id of a seed names its statement: `seed:<statement id>`. */
const PREFIX = 'seed:';

/**
 * Create (and Update, which the test never does) sends the seed as one Data API batch and answers
 * at once; `isComplete` then polls it. Delete does nothing: the namespace goes with the stack.
 */
export async function onEvent(
  event: SeedEvent,
  client: RedshiftDataClient,
): Promise<{ PhysicalResourceId: string }> {
  if (event.RequestType === 'Delete')
    return { PhysicalResourceId: event.PhysicalResourceId ?? `${PREFIX}none` };
  const { WorkgroupName, ClusterIdentifier, Database, SecretArn, Sqls } = event.ResourceProperties;
  const { Id } = await client.send(
    new BatchExecuteStatementCommand({
      ...(WorkgroupName ? { WorkgroupName } : { ClusterIdentifier }),
      Database,
      SecretArn,
      Sqls: [...Sqls],
      StatementName: 'redshift-archive-integ.seed',
    }),
  );
  if (!Id) throw new Error('the Data API returned no statement id for the seed');
  return { PhysicalResourceId: `${PREFIX}${Id}` };
}

/**
 * Whether the seed's batch has ended: FINISHED completes the resource, FAILED or ABORTED fails it
 * with the Data API's error (the deploy rolls back), anything else asks again later.
 */
export async function isComplete(
  event: SeedEvent,
  client: RedshiftDataClient,
): Promise<{ IsComplete: boolean }> {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const id = (event.PhysicalResourceId ?? '').slice(PREFIX.length);
  const described = await client.send(new DescribeStatementCommand({ Id: id }));
  if (described.Status === 'FAILED' || described.Status === 'ABORTED') {
    const failed = described.SubStatements?.find((s) => s.Status === 'FAILED');
    throw new Error(
      `the seed ${described.Status}: ${failed?.Error ?? described.Error ?? 'no error reported'}`,
    );
  }
  return { IsComplete: described.Status === 'FINISHED' };
}

/**
 * Where, as whom and what the count function counts (its environment): `TARGET` is the JSON of
 * `{ WorkgroupName }` or `{ ClusterIdentifier }`.
 */
export interface CountEnvironment {
  readonly TARGET: string;
  readonly DATABASE: string;
  readonly SECRET_ARN: string;
  readonly SQL: string;
}

/**
 * Runs one `SELECT COUNT(*)` as the admin and waits for it in the same invocation: the Data API
 * lets only the IAM identity that ran a statement describe it and read its result
 * (https://docs.aws.amazon.com/redshift/latest/mgmt/data-api.html, "Considerations"), so the
 * assertions' own calls, made by two providers with two roles, could not wait for it.
 * @returns the count; throws with the Data API's error when the statement failed
 */
export async function countRows(
  env: CountEnvironment,
  client: RedshiftDataClient,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((done) => setTimeout(done, ms)),
): Promise<{ count: number }> {
  const { Id } = await client.send(
    new ExecuteStatementCommand({
      ...(JSON.parse(env.TARGET) as Record<string, string>),
      Database: env.DATABASE,
      SecretArn: env.SECRET_ARN,
      Sql: env.SQL,
      StatementName: 'redshift-archive-integ.count',
    }),
  );
  if (!Id) throw new Error('the Data API returned no statement id for the count');
  for (;;) {
    const described = await client.send(new DescribeStatementCommand({ Id }));
    if (described.Status === 'FINISHED') break;
    if (described.Status === 'FAILED' || described.Status === 'ABORTED')
      throw new Error(`the count ${described.Status}: ${described.Error ?? 'no error reported'}`);
    await sleep(1_000);
  }
  const result = await client.send(new GetStatementResultCommand({ Id }));
  const value = result.Records?.[0]?.[0]?.longValue;
  if (value === undefined) throw new Error(`the count returned no number: ${JSON.stringify(result.Records)}`);
  return { count: value };
}
