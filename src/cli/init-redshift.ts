import type { WarehouseConfig } from '../config/config';
import { redshiftDataClient } from '../engines/aws/clients';
import { DataApiSession } from '../engines/aws/data-api-warehouse';
import { redshiftCatalog } from '../sql/redshift-dialect';
import type { OpenCatalog } from './init';

/**
 * The names of `init`'s statements: an operator's prefix, which no stack's event rule matches
 * (a stack's statements are `redshift-archive.<stack>.`), so reading a catalog resumes no run.
 */
export const INIT_STATEMENT_PREFIX = 'redshift-archive-operator.init.';

/** How long `init` waits for one read of the catalog. */
const READ_BUDGET_MS = 15 * 60_000;

/**
 * A Redshift warehouse's catalog through the Data API, with the operator's credentials (the
 * SDK's default chain) in `region` or the SDK's default Region. `init` only reads.
 */
export function openRedshiftCatalog(warehouse: WarehouseConfig, region: string | undefined): OpenCatalog {
  const client = redshiftDataClient(region ? { region } : {});
  const deadline = Date.now() + READ_BUDGET_MS;
  const session = new DataApiSession({
    client,
    target: warehouse,
    statementPrefix: INIT_STATEMENT_PREFIX,
    remainingMs: () => deadline - Date.now(),
  });
  return { reader: session, dialect: redshiftCatalog, close: () => client.destroy() };
}
