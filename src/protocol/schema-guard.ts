import { columnPath, tablePath, type ArchiveConfig, type TableConfig } from '../config/config';
import { refusedTypeReason, sameType, STAYS_HOT, typeName } from '../core/column-types';
import type { Dialect } from '../sql/dialect';
import { InputError } from '../core/errors';
import type { ArchiveSql } from '../sql/statements';
import type { LedgerView } from './ledger';
import type { Row, Warehouse } from './ports';

/**
 * The configuration is never trusted over the warehouse: before anything is written, every
 * configured table must have exactly the configured columns, in the same order, as the
 * warehouse's own catalog reports them, each with exactly its type. A column that the
 * configuration forgot would otherwise be deleted with the row without ever being exported, and
 * a narrower type would change values on the way.
 *
 * The order matters too: Parquet files and the Glue table list columns in the configured order,
 * and a column added later (Redshift appends it) is read as NULL from older files only if it
 * comes last.
 */

const lower = (s: string | null | undefined) => String(s ?? '').toLowerCase();

/** Every difference between the configuration and the warehouse, one line each. */
export async function schemaDifferences(
  config: ArchiveConfig,
  warehouse: Warehouse,
  sql: ArchiveSql,
  ledger?: LedgerView,
): Promise<string[]> {
  const rows = await warehouse.query(sql.catalogQuery('tables'), 'guard.columns');
  const problems: string[] = [];
  for (const table of config.tables) {
    problems.push(...tableDifferences(table, rows, warehouse.dialect));
    if (ledger) problems.push(...archivedColumnProblems(table, tablePath(table), ledger, sql));
  }
  return problems;
}

/**
 * Every difference between a configured table and its columns in `rows` (the warehouse's catalog,
 * as {@link Dialect.catalogColumnsQuery} reads it, of any tables), one line each, naming the table
 * and the column as the configuration file does.
 */
export function tableDifferences(
  table: Pick<TableConfig, 'schema' | 'name' | 'columns'>,
  rows: readonly Row[],
  dialect: Pick<Dialect, 'catalogType'>,
): string[] {
  const real = rows.filter(
    (r) => lower(r.table_schema) === lower(table.schema) && lower(r.table_name) === lower(table.name),
  );
  const at = tablePath(table);
  const name = `${table.schema}.${table.name}`;
  if (real.length === 0) {
    return [`${at}: table ${name} does not exist in the warehouse (or this database user may not see it)`];
  }
  const problems: string[] = [];
  const configured = new Map(table.columns.map((c) => [lower(c.name), { column: c }]));
  const actual = new Set(real.map((r) => lower(r.column_name)));
  for (const r of real) {
    if (!configured.has(lower(r.column_name))) {
      problems.push(
        `${at}.columns: ${JSON.stringify(r.column_name)} (${typeText(r)}) is in table ${name} but not in the configuration; ` +
          'allowed: every column of the table, in its order (a column left out would be deleted without being archived)',
      );
    }
  }
  for (const [key, { column }] of configured) {
    if (!actual.has(key)) {
      problems.push(`${columnPath(table, column.name)}: is in the configuration but not in table ${name}`);
      continue;
    }
    const r = real.find((x) => lower(x.column_name) === key) as Row;
    const type = dialect.catalogType(r);
    if (!type) {
      const why = refusedTypeReason(String(r.data_type));
      problems.push(
        `${columnPath(table, column.name, 'type')}: is ${typeText(r)} in table ${name}, a type this project cannot archive` +
          (why ? ` (${why}): ${STAYS_HOT}` : ''),
      );
    } else if (!sameType(column.type, type)) {
      problems.push(
        `${columnPath(table, column.name, 'type')}: is ${typeName(column.type)} in the configuration but ` +
          `${typeText(r)} in table ${name}; allowed: the table's type`,
      );
    }
  }
  if (problems.length === 0) {
    const order = real.map((r) => lower(r.column_name));
    if (order.join(',') !== table.columns.map((c) => lower(c.name)).join(',')) {
      problems.push(
        `${at}.columns: the configuration lists the columns in another order than table ${name} (${real
          .map((r) => r.column_name)
          .join(', ')}); allowed: the table's order`,
      );
    }
  }
  return problems;
}

function typeText(r: Row): string {
  const type = String(r.data_type);
  if (r.char_length !== null && r.char_length !== undefined) return `${type}(${r.char_length})`;
  if (lower(type) === 'numeric') return `numeric(${r.num_precision},${r.num_scale})`;
  return type;
}

/**
 * Archived batches hold the columns they were exported with, and the catalog's table and the
 * union view read them all by position: the columns of every committed batch must still lead
 * the configuration, in their order (schema evolution may only append).
 */
function archivedColumnProblems(
  table: TableConfig,
  at: string,
  ledger: LedgerView,
  sql: ArchiveSql,
): string[] {
  const now = sql.columnsSignature(table).split(', ');
  const lost = new Map<string, Set<string>>();
  for (const b of ledger.batches) {
    const gone = b.state === 'restored' || b.state === 'lost';
    if (lower(b.table) !== lower(table.alias) || !b.committed || gone || !b.columns) continue;
    b.columns.split(', ').forEach((column, k) => {
      if (now[k] !== column)
        lost.set(column, (lost.get(column) ?? new Set()).add(`run ${b.runId} year ${b.year}`));
    });
  }
  return [...lost].map(
    ([column, batches]) =>
      `${at}.columns: ${JSON.stringify(column)} is held by archived batches (${[...batches].sort().join(', ')}) but is ` +
      'not at its place in the configuration; allowed: every archived column where it was, new columns after them. ' +
      'A column that archived rows hold cannot leave the table: add it back (nullable, at the same position; ' +
      'ALTER TABLE ... ADD COLUMN appends it) and to the configuration',
  );
}

/**
 * Refuses to go on when the configuration and the warehouse differ: an InputError (exit 2)
 * naming each difference. Nothing has been written when it throws.
 */
export async function checkSchema(
  config: ArchiveConfig,
  warehouse: Warehouse,
  sql: ArchiveSql,
  ledger?: LedgerView,
): Promise<void> {
  const problems = await schemaDifferences(config, warehouse, sql, ledger);
  if (problems.length > 0) {
    throw new InputError(
      `schema: the configuration does not match the warehouse's own catalog; nothing was changed\n${problems
        .map((p) => `  ${p}`)
        .join('\n')}`,
    );
  }
}
