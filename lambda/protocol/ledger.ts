import type { ArchiveSql, RunState } from '../sql/statements';
import type { Warehouse } from './ports';

/** One run as the ledger records it. */
export interface RunRecord {
  readonly runId: string;
  readonly cutoff: string;
  readonly state: RunState;
  /** Why the last attempt failed, until a later attempt gets further. */
  readonly error: string | null;
}

/** Rows one run moved for one table and year. */
export interface YearRecord {
  readonly runId: string;
  readonly table: string;
  readonly year: number;
  readonly rows: number;
  /** Per-column checksums of the rows moved, computed in the stage transaction. */
  readonly checksum: string;
}

/** One table's export of one run, from its manifest. */
export interface ExportRecord {
  readonly table: string;
  readonly location: string;
  readonly files: number;
  readonly bytes: number;
  readonly rows: number;
  /** Files and bytes per year, from the manifest. */
  readonly yearFiles: Readonly<Record<string, { files: number; bytes: number }>>;
}

const UNFINISHED: readonly RunState[] = ['staged', 'verified', 'published'];
const PUBLISHED: readonly RunState[] = ['published', 'finished'];

/**
 * A read of the ledger: the runs and what each moved. Every entry point starts from one, so a
 * run is resumed from what Redshift itself says, never from memory.
 */
export class LedgerView {
  constructor(
    readonly runs: readonly RunRecord[],
    readonly years: readonly YearRecord[],
  ) {}

  /** The unfinished run, if there is one (the lock allows at most one). */
  get active(): RunRecord | undefined {
    return this.runs.find((r) => UNFINISHED.includes(r.state));
  }

  run(runId: string): RunRecord | undefined {
    return this.runs.find((r) => r.runId === runId);
  }

  /** Rows per year that `runId` moved for `table`. */
  yearsOf(runId: string, table: string): YearRecord[] {
    return this.years.filter((y) => y.runId === runId && y.table.toLowerCase() === table.toLowerCase());
  }

  /** Published runs holding rows of `table`, plus `alsoRunId` if it holds some. */
  publishedRuns(table: string, alsoRunId?: string): string[] {
    const published = new Set(
      this.runs.filter((r) => PUBLISHED.includes(r.state) || r.runId === alsoRunId).map((r) => r.runId),
    );
    return [
      ...new Set(
        this.years
          .filter((y) => published.has(y.runId) && y.table.toLowerCase() === table.toLowerCase())
          .map((y) => y.runId),
      ),
    ];
  }
}

/** Reads the whole ledger (it holds a few rows per table and year). */
export async function readLedger(warehouse: Warehouse, sql: ArchiveSql): Promise<LedgerView> {
  const runs = await warehouse.query(sql.runsQuery(), 'ledger.runs');
  const years = await warehouse.query(sql.runYearsQuery(), 'ledger.years');
  return new LedgerView(
    runs.map((r) => ({
      runId: text(r.run_id),
      cutoff: text(r.cutoff),
      state: text(r.state) as RunState,
      error: r.error ?? null,
    })),
    years.map((y) => ({
      runId: text(y.run_id),
      table: text(y.table_name),
      year: count(y.year),
      rows: count(y.row_count),
      checksum: text(y.checksum),
    })),
  );
}

/** Reads the exports recorded for one run. */
export async function readExports(
  warehouse: Warehouse,
  sql: ArchiveSql,
  runId: string,
): Promise<ExportRecord[]> {
  const rows = await warehouse.query(sql.runExportsQuery(runId), `${runId}.ledger.exports`);
  return rows.map((r) => ({
    table: text(r.table_name),
    location: text(r.location),
    files: count(r.file_count),
    bytes: count(r.byte_count),
    rows: count(r.row_count),
    yearFiles: JSON.parse(text(r.year_files)) as ExportRecord['yearFiles'],
  }));
}

function text(value: string | null | undefined): string {
  if (value === null || value === undefined)
    throw new Error('the ledger holds NULL where a value is required');
  return value;
}

/** Parses a count or year that the warehouse returned as text. */
export function count(value: string | null | undefined): number {
  const n = Number(text(value));
  if (!Number.isSafeInteger(n))
    throw new Error(`the warehouse returned ${value} where a whole number was expected`);
  return n;
}
