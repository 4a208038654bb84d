import type { ArchiveConfig, TableConfig } from '../config/config';
import { InputError, show } from '../core/errors';
import type { ArchiveSql } from '../sql/statements';
import { count, LedgerView } from './ledger';
import type { Catalog, Lake, Row, Warehouse } from './ports';

/**
 * Protocol v1 copied a run's rows into stage tables, exported those, then published them. A
 * ledger it left behind is taken into v2's ledger, once, so that every run is resumed by the
 * same code: a published or finished v1 run becomes committed batches (the views already read
 * them), and an unfinished one becomes a running v2 run whose batches sit in its stage tables,
 * where the commit checks them, deletes them, and drops the stage tables at the end.
 */
export async function migrateLegacyRuns(
  deps: {
    readonly config: ArchiveConfig;
    readonly warehouse: Warehouse;
    readonly lake: Lake;
    readonly catalog: Catalog;
  },
  sql: ArchiveSql,
  ledger: LedgerView,
): Promise<boolean> {
  const waiting = ledger.runs.filter((r) => r.state !== 'aborted' && ledger.batchesOf(r.runId).length === 0);
  if (waiting.length === 0) return false;
  if ((await deps.warehouse.query(sql.legacyLedgerQuery(), 'ledger.legacy')).length === 0) return false;
  const years = await deps.warehouse.query(sql.legacyYearsQuery(), 'ledger.legacy.years');
  // Every row is matched to its table before anything is written: a refusal changes nothing.
  const rowsOf = new Map(
    waiting.map((run) => [
      run.runId,
      years.filter((y) => y.run_id === run.runId).flatMap((y) => legacyRow(sql, y)),
    ]),
  );
  for (const run of waiting) {
    const finished = run.state === 'published' || run.state === 'finished';
    const rows = rowsOf.get(run.runId) ?? [];
    if (!finished) {
      // What v1 exported or registered for this run was never published: v2 exports again.
      for (const table of sql.tables) {
        await deps.catalog.removePartitions(table.alias, run.runId);
        await deps.lake.clear(deps.lake.legacyRunLocation(table.name, run.runId));
      }
    }
    await deps.warehouse.transaction(sql.migrateLegacyRun(run.runId, finished, rows), `${run.runId}.migrate`);
  }
  return true;
}

function legacyRow(
  sql: ArchiveSql,
  y: Row,
): {
  table: TableConfig;
  year: number;
  rows: number;
  location: string | null;
  files: number;
  bytes: number;
}[] {
  const table = legacyTable(sql.tables, String(y.table_name));
  // A table that left the configuration has no view any more; its batches stay in the lake.
  if (!table) return [];
  const year = count(y.year);
  const perYear = y.year_files
    ? (JSON.parse(y.year_files) as Record<string, { files: number; bytes: number }>)
    : {};
  return [
    {
      table,
      year,
      rows: count(y.row_count),
      location: y.location ? `${y.location}year=${year}/` : null,
      files: perYear[year]?.files ?? 0,
      bytes: perYear[year]?.bytes ?? 0,
    },
  ];
}

/**
 * The configured table a v1 ledger row names. v1 recorded no schema and named its Glue tables and
 * lake folders after the table: where two schemas now hold that name, v1's table is the one whose
 * alias is still that name (the default); if neither keeps it, which one v1 archived cannot be
 * known, and taking the wrong one would put its rows under the other table's view: refused.
 *
 * @throws InputError naming the tables and the alias the one v1 archived must keep
 */
export function legacyTable(tables: readonly TableConfig[], v1Name: string): TableConfig | undefined {
  const lower = v1Name.toLowerCase();
  const named = tables.filter((t) => t.name.toLowerCase() === lower);
  if (named.length <= 1) return named[0];
  const kept = named.find((t) => t.alias.toLowerCase() === lower);
  if (kept) return kept;
  throw new InputError(
    `the protocol v1 ledger archived a table ${show(v1Name)}, and ${named.map((t) => `${t.schema}.${t.name} (alias ${show(t.alias)})`).join(' and ')} ` +
      `are named so; allowed: the alias ${show(v1Name)} on the one v1 archived (v1's Glue table and lake folder are named ${show(v1Name)}); nothing was changed`,
  );
}
