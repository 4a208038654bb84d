import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError, show } from '../../core/errors';
import type { DuckDbWarehouse } from './duckdb-warehouse';

const SAMPLE = resolve(__dirname, '../../../sql/contabyx');

/**
 * Loads the contabyx sample (sql/contabyx) into an empty embedded warehouse: its schema, and
 * generated data over the four years before `currentYear` and `currentYear` itself.
 */
export async function loadContabyxSample(warehouse: DuckDbWarehouse, currentYear: number): Promise<void> {
  if (!Number.isInteger(currentYear) || currentYear < 1905 || currentYear > 9998) {
    throw new InputError(
      `current year: ${show(currentYear)} is not allowed; allowed: a whole year from 1905 to 9998`,
    );
  }
  await warehouse.execute(readFileSync(resolve(SAMPLE, 'schema.sql'), 'utf8'));
  await warehouse.execute(`SET VARIABLE current_year = ${currentYear}`);
  await warehouse.execute(readFileSync(resolve(SAMPLE, 'generate.duckdb.sql'), 'utf8'));
}

/** Row count and an order-independent checksum of every row a view returns. */
export interface Fingerprint {
  readonly rows: number;
  readonly checksum: string;
}

/**
 * The fingerprint of a relation in the embedded warehouse: equal fingerprints mean (short of a
 * 64-bit hash collision) the same multiset of rows.
 * @param relation - an already quoted, schema-qualified name
 */
export async function fingerprint(warehouse: DuckDbWarehouse, relation: string): Promise<Fingerprint> {
  const [row] = await warehouse.query(
    `SELECT COUNT(*) AS row_count, CAST(COALESCE(SUM(hash(r)), 0) AS VARCHAR) AS checksum FROM ${relation} r`,
  );
  return { rows: Number(row.row_count), checksum: String(row.checksum) };
}
