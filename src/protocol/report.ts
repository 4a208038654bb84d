import type { TableConfig } from '../config/config';
import type { LedgerView, RunRecord } from './ledger';
import type { PreflightReport } from './preflight';

/** The phases of a run, plus the commands around them. */
export type Phase =
  'setup' | 'plan' | 'start' | 'export' | 'verify' | 'commit' | 'finish' | 'abort' | 'restore' | 'repair';

/** One line of progress: a phase, optionally one table and year, and its figures. */
export interface ProgressEvent {
  readonly phase: Phase;
  readonly runId?: string;
  readonly table?: string;
  readonly year?: number;
  readonly message: string;
  readonly rows?: number;
  readonly files?: number;
  readonly bytes?: number;
}

/** Rows of one table and year. */
export interface YearFigures {
  readonly year: number;
  readonly rows: number;
}

/** One table and year of a run: rows, files, bytes, and how many exports it took. */
export interface YearReport extends YearFigures {
  readonly files: number;
  readonly bytes: number;
  readonly attempts: number;
  readonly committed: boolean;
}

/** What a run would move, and the exact SQL it would send. Nothing is written to produce it. */
export interface PlanReport {
  readonly runId: string;
  readonly cutoff: string;
  readonly tables: readonly {
    readonly table: string;
    readonly rows: number;
    readonly years: readonly YearFigures[];
    /** Root tables only: rows that stay hot because the archive column is NULL. */
    readonly nullRows?: number;
    /**
     * Child tables only: rows whose parent is archived and no longer hot. A child moves only with
     * a hot parent, so these stay hot (a late child of an archived parent).
     */
    readonly lateChildren?: number;
  }[];
  readonly rows: number;
  /** The batches, in the order a run takes them: oldest year first, then family. */
  readonly batches: readonly { readonly family: string; readonly year: number; readonly rows: number }[];
  /** An unfinished run that a `run` would resume instead of starting this one. */
  readonly activeRun?: string;
  /** Would the run work: preflight's checks, run first. */
  readonly preflight: PreflightReport;
  readonly statements: readonly {
    readonly phase: Phase;
    readonly batch?: string;
    readonly transactional: boolean;
    readonly sql: readonly string[];
  }[];
}

/** How an invocation of `run` ended. */
export type Outcome = 'finished' | 'nothing-to-do' | 'already-done';

/** One table of a run: rows, files and bytes per year and in total. */
export interface TableReport {
  readonly table: string;
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
  readonly verified: boolean;
  readonly years: readonly YearReport[];
}

/** The report of a run. */
export interface RunReport {
  readonly outcome: Outcome;
  readonly runId: string;
  readonly cutoff: string;
  readonly state: string;
  readonly resumed: boolean;
  readonly tables: readonly TableReport[];
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
  /** Batches committed (one family, one year each). */
  readonly batches: number;
  readonly warnings: readonly string[];
  /** Where the JSON report was written in the lake. */
  readonly reportLocation?: string;
}

/** A committed batch whose files an operator recorded as lost (`repair --accept-lost`). */
export interface LostBatch {
  readonly runId: string;
  readonly table: string;
  readonly year: number;
  /** The rows the batch held: gone from the lake, and long gone from the hot table. */
  readonly rows: number;
  /** What the ledger records: that the loss was accepted, and how the files differed. */
  readonly reason: string;
}

/** The ledger, for `status`. */
export interface StatusReport {
  /** The ledger's schema when it does not exist yet: nothing was ever set up there. */
  readonly notSetUp?: string;
  /** With `notSetUp`: what creates the ledger, the embedded engine's first run or the stack's deployment. */
  readonly setUpBy?: 'first run' | 'deployment';
  readonly active?: RunRecord;
  /** Committed batches recorded as lost (only when there are any). */
  readonly lost?: readonly LostBatch[];
  readonly runs: readonly (RunRecord & {
    readonly rows: number;
    readonly batches: number;
    readonly committed: number;
  })[];
}

const sum = <T>(items: readonly T[], of: (item: T) => number) =>
  items.reduce((total, item) => total + of(item), 0);

/** A run's report, from the ledger: what each table and year moved. */
export function runReport(
  tables: readonly TableConfig[],
  ledger: LedgerView,
  run: RunRecord,
  outcome: Outcome,
  resumed: boolean,
  warnings: readonly string[],
): RunReport {
  const reports = tables.map((table): TableReport => {
    const years = ledger.batchesOf(run.runId, table.alias).map((b) => ({
      year: b.year,
      rows: b.rows ?? b.plannedRows,
      files: b.files ?? 0,
      bytes: b.bytes ?? 0,
      attempts: b.attempt,
      committed: b.committed,
    }));
    return {
      table: table.alias,
      rows: sum(years, (y) => y.rows),
      files: sum(years, (y) => y.files),
      bytes: sum(years, (y) => y.bytes),
      verified: years.length > 0 && years.every((y) => y.committed),
      years,
    };
  });
  const batches = new Set(
    ledger
      .batchesOf(run.runId)
      .filter((b) => b.committed)
      .map((b) => `${b.family}/${b.year}`),
  );
  return {
    outcome,
    runId: run.runId,
    cutoff: run.cutoff,
    state: run.state,
    resumed,
    tables: reports,
    rows: sum(reports, (t) => t.rows),
    files: sum(reports, (t) => t.files),
    bytes: sum(reports, (t) => t.bytes),
    batches: batches.size,
    warnings,
  };
}

/** The report of a run that found nothing to archive. */
export function emptyReport(tables: readonly TableConfig[], runId: string, cutoff: string): RunReport {
  return {
    outcome: 'nothing-to-do',
    runId,
    cutoff,
    state: 'none',
    resumed: false,
    tables: tables.map((t) => ({ table: t.alias, rows: 0, files: 0, bytes: 0, verified: false, years: [] })),
    rows: 0,
    files: 0,
    bytes: 0,
    batches: 0,
    warnings: [],
  };
}

/** The ledger's runs, each with its rows and batches. */
export function statusReport(
  ledger: LedgerView,
  schema: string,
  setUpBy: NonNullable<StatusReport['setUpBy']>,
): StatusReport {
  return {
    ...(ledger.exists ? {} : { notSetUp: schema, setUpBy }),
    ...(ledger.active ? { active: ledger.active } : {}),
    ...(ledger.lost().length ? { lost: lostBatches(ledger) } : {}),
    runs: ledger.runs.map((r) => {
      const batches = ledger.batchesOf(r.runId);
      const families = (list: typeof batches) => new Set(list.map((b) => `${b.family}/${b.year}`)).size;
      return {
        ...r,
        rows: sum(batches, (b) => b.rows ?? b.plannedRows),
        batches: families(batches),
        committed: families(batches.filter((b) => b.committed)),
      };
    }),
  };
}

/** The batches the ledger records as lost, as `status` and `audit` list them. */
export function lostBatches(ledger: LedgerView): LostBatch[] {
  return ledger.lost().map((b) => ({
    runId: b.runId,
    table: b.table,
    year: b.year,
    rows: b.rows ?? 0,
    reason: b.error ?? 'recorded lost',
  }));
}
