import type { ArchiveConfig, TableConfig } from '../config/config';
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
  for (const run of waiting) {
    const finished = run.state === 'published' || run.state === 'finished';
    const rows = years.filter((y) => y.run_id === run.runId).flatMap((y) => legacyRow(sql, y));
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
  const table = sql.tables.find((t) => t.name.toLowerCase() === String(y.table_name).toLowerCase());
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
