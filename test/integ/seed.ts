import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
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
