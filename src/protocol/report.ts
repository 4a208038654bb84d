import type { TableConfig } from '../config/config';
import type { Prices } from '../config/prices';
import { savings, totalSavings, type Savings } from './costs';
import type { BatchRecord, LedgerView, RunRecord } from './ledger';
import type { Row } from './ports';
import type { PreflightReport } from './preflight';

export type { LakeBasis, Savings } from './costs';

/** The phases of a run, plus the commands around them; `batch` says where a run stands. */
export type Phase =
  | 'setup'
  | 'plan'
  | 'start'
  | 'batch'
  | 'export'
  | 'verify'
  | 'commit'
  | 'finish'
  | 'abort'
  | 'restore'
  | 'repair';

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
  /** A `batch` event: the batch's place in the run's order (1-based), and how many there are. */
  readonly batch?: number;
  readonly batches?: number;
  /** A `batch` event: time since the run started, and an estimate of what is left. */
  readonly elapsedMs?: number;
  readonly leftMs?: number;
}

/** Rows of one table and year. */
export interface YearFigures {
  readonly year: number;
  readonly rows: number;
}

/** How long a batch's steps took for one table, in milliseconds; null where the ledger has no instant. */
export interface StepDurations {
  /** From the end of the step before (the batch's start, or the family's previous table) to the export's end. */
  readonly exportMs: number | null;
  readonly verifyMs: number | null;
  /** The family's commit: from the last verification to the commit's end. */
  readonly commitMs: number | null;
}

/** One table and year of a run: rows, files, bytes, and how many exports it took. */
export interface YearReport extends YearFigures {
  readonly files: number;
  readonly bytes: number;
  readonly attempts: number;
  readonly committed: boolean;
  /** When the batch (the family's year) began, ISO 8601 UTC; null before, or in an older ledger. */
  readonly startedAt: string | null;
  /** From the batch's start to its commit's end (every attempt, and any wait in between). */
  readonly durationMs: number | null;
  readonly steps: StepDurations;
  /** The warehouse bytes these rows occupied when the run started (null when the warehouse did not say). */
  readonly warehouseBytes: number | null;
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
    /** What the rows free in the warehouse, add to the lake, and what that means a year. */
    readonly savings: Savings;
  }[];
  readonly rows: number;
  /** The tables' savings added up. */
  readonly savings: Savings;
  /** The prices of the dollar figures. */
  readonly prices: Prices;
  /** Why the warehouse's sizes are unknown, when they are (a user who may not read them, say). */
  readonly sizesNote?: string;
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
  /** The committed years' warehouse bytes (from the run's start) and lake bytes (measured). */
  readonly savings: Savings;
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
  /** When the run started and ended (ISO 8601 UTC; null where the ledger has no instant), and how long it took. */
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  /** What the committed batches freed in the warehouse and hold in the lake, measured, and a year's dollars. */
  readonly savings: Savings;
  readonly prices: Prices;
}

/** A restore that committed: its id (which holds its instant), its year, and what each table got back. */
export interface RestoreRecord {
  readonly restoreId: string;
  /** When it was asked for (ISO 8601 UTC), from its id. */
  readonly at: string | null;
  readonly year: number;
  readonly tables: readonly { readonly table: string; readonly rows: number }[];
  readonly rows: number;
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
  /**
   * For the unfinished run: milliseconds from the last instant it recorded (its start, a batch's
   * start, a step's end) to the status's instant; null when it recorded none (an earlier version
   * started it). The watchdog's stalled-run alarm reads it.
   */
  readonly idleMs?: number | null;
  /** Committed batches recorded as lost (only when there are any). */
  readonly lost?: readonly LostBatch[];
  readonly runs: readonly (RunRecord & {
    readonly rows: number;
    readonly batches: number;
    readonly committed: number;
    /** Rows of committed batches still in the lake: a restored year no longer counts. */
    readonly archivedRows: number;
    /** Rows of this run's batches that a restore put back into the hot tables. */
    readonly restoredRows: number;
    /** From the start to the end, or to the status's instant for an unfinished run. */
    readonly durationMs: number | null;
  })[];
  /** The restores that committed, oldest first. */
  readonly restores: readonly RestoreRecord[];
}

const sum = <T>(items: readonly T[], of: (item: T) => number) =>
  items.reduce((total, item) => total + of(item), 0);

/** Milliseconds from one ISO instant to another; null when either is unknown. */
export function between(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  return Date.parse(to) - Date.parse(from);
}

/** A duration as people read it: 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min, 3 d 04 h. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
  return `${Math.floor(s / 86_400)} d ${pad(Math.floor((s % 86_400) / 3600))} h`;
}

/**
 * How long each step of one table's part of a batch took. The steps of a batch follow each
 * other (each table of the family is exported then verified, parents first, then the family
 * commits), so a step starts where the one before ended: the batch's start, the previous table's
 * verification, the last table's verification for the commit.
 */
function stepDurations(part: BatchRecord, before: BatchRecord | undefined, last: BatchRecord): StepDurations {
  return {
    exportMs: between(before ? before.verifiedAt : part.startedAt, part.exportedAt),
    verifyMs: between(part.exportedAt, part.verifiedAt),
    commitMs: part.committed ? between(last.verifiedAt, part.endedAt) : null,
  };
}

/** One table's part of a run: its years (rows, bytes, durations) and what its committed years save. */
function tableReport(
  table: TableConfig,
  tables: readonly TableConfig[],
  ledger: LedgerView,
  runId: string,
  prices: Prices,
): TableReport {
  // The parts of one family's year, in the order the batch takes them (tables are parents first).
  const partsOf = (b: BatchRecord) =>
    tables.flatMap((t) => {
      const part = ledger.batch(runId, t.alias, b.year);
      return part && part.family === b.family ? [part] : [];
    });
  const records = ledger.batchesOf(runId, table.alias);
  const years = records.map((b): YearReport => {
    const parts = partsOf(b);
    const i = parts.findIndex((p) => p.table === b.table);
    return {
      year: b.year,
      rows: b.rows ?? b.plannedRows,
      files: b.files ?? 0,
      bytes: b.bytes ?? 0,
      attempts: b.attempt,
      committed: b.committed,
      startedAt: b.startedAt,
      durationMs: between(b.startedAt, b.endedAt),
      steps: stepDurations(b, parts[i - 1], parts[parts.length - 1]),
      warehouseBytes: b.hotBytes,
    };
  });
  const committed = records.filter((b) => b.committed && b.state !== 'restored');
  const warehouseBytes = committed.some((b) => b.hotBytes === null)
    ? null
    : sum(committed, (b) => b.hotBytes ?? 0);
  return {
    table: table.alias,
    rows: sum(years, (y) => y.rows),
    files: sum(years, (y) => y.files),
    bytes: sum(years, (y) => y.bytes),
    verified: years.length > 0 && years.every((y) => y.committed),
    years,
    savings: savings(
      warehouseBytes,
      { bytes: sum(committed, (b) => b.bytes ?? 0), basis: 'measured' },
      prices,
    ),
  };
}

/** A run's report, from the ledger: what each table and year moved, how long it took, and what it saves. */
export function runReport(
  tables: readonly TableConfig[],
  ledger: LedgerView,
  run: RunRecord,
  outcome: Outcome,
  resumed: boolean,
  warnings: readonly string[],
  prices: Prices,
): RunReport {
  const reports = tables.map((table) => tableReport(table, tables, ledger, run.runId, prices));
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
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    durationMs: between(run.startedAt, run.endedAt),
    savings: totalSavings(
      reports.map((t) => t.savings),
      prices,
    ),
    prices,
  };
}

/**
 * Where a run stands as it takes batch `n` of `total`: the time since it started and, once a
 * batch has ended, an estimate of what is left (the mean of its ended batches, times the batches
 * left, this one included).
 */
export function batchProgress(
  ledger: LedgerView,
  run: RunRecord,
  position: { readonly n: number; readonly total: number; readonly name: string },
  now: Date,
): ProgressEvent {
  const elapsedMs = between(run.startedAt, now.toISOString());
  const ended = new Map<string, number>();
  for (const b of ledger.batchesOf(run.runId)) {
    const ms = between(b.startedAt, b.endedAt);
    if (ms !== null) ended.set(`${b.family}/${b.year}`, ms);
  }
  const mean = ended.size > 0 ? sum([...ended.values()], (ms) => ms) / ended.size : undefined;
  const leftMs = mean === undefined ? undefined : Math.round(mean * (position.total - position.n + 1));
  const timing = [
    elapsedMs === null ? undefined : `elapsed ${formatDuration(elapsedMs)}`,
    leftMs === undefined
      ? 'an estimate of what is left after the first batch'
      : `about ${formatDuration(leftMs)} left`,
  ].filter(Boolean);
  return {
    phase: 'batch',
    runId: run.runId,
    batch: position.n,
    batches: position.total,
    message: `batch ${position.n} of ${position.total}: ${position.name} (${timing.join(', ')})`,
    ...(elapsedMs === null ? {} : { elapsedMs }),
    ...(leftMs === undefined ? {} : { leftMs }),
  };
}

/** The report of a run that found nothing to archive. */
export function emptyReport(
  tables: readonly TableConfig[],
  runId: string,
  cutoff: string,
  prices: Prices,
): RunReport {
  const none = savings(0, { bytes: 0, basis: 'measured' }, prices);
  return {
    outcome: 'nothing-to-do',
    runId,
    cutoff,
    state: 'none',
    resumed: false,
    tables: tables.map((t) => ({
      table: t.alias,
      rows: 0,
      files: 0,
      bytes: 0,
      verified: false,
      years: [],
      savings: none,
    })),
    rows: 0,
    files: 0,
    bytes: 0,
    batches: 0,
    warnings: [],
    startedAt: null,
    endedAt: null,
    durationMs: null,
    savings: none,
    prices,
  };
}

/**
 * The ledger's runs, each with its rows, batches and duration (an unfinished one's up to `now`),
 * and the restores that committed (`restoresQuery` rows).
 */
export function statusReport(
  ledger: LedgerView,
  schema: string,
  setUpBy: NonNullable<StatusReport['setUpBy']>,
  restores: readonly RestoreRecord[],
  now: Date,
): StatusReport {
  const active = ledger.active;
  return {
    ...(ledger.exists ? {} : { notSetUp: schema, setUpBy }),
    ...(active ? { active, idleMs: idleSince(ledger, active, now) } : {}),
    ...(ledger.lost().length ? { lost: lostBatches(ledger) } : {}),
    runs: ledger.runs.map((r) => {
      const batches = ledger.batchesOf(r.runId);
      const families = (list: typeof batches) => new Set(list.map((b) => `${b.family}/${b.year}`)).size;
      const committed = batches.filter((b) => b.committed);
      return {
        ...r,
        rows: sum(batches, (b) => b.rows ?? b.plannedRows),
        batches: families(batches),
        committed: families(committed),
        archivedRows: sum(
          committed.filter((b) => b.state !== 'restored'),
          (b) => b.rows ?? 0,
        ),
        restoredRows: sum(
          committed.filter((b) => b.state === 'restored'),
          (b) => b.rows ?? 0,
        ),
        durationMs: between(r.startedAt, r.endedAt ?? (ledger.active === r ? now.toISOString() : null)),
      };
    }),
    restores,
  };
}

/** Milliseconds since the last instant a run recorded; null when it recorded none. */
function idleSince(ledger: LedgerView, run: RunRecord, now: Date): number | null {
  const instants = [
    run.startedAt,
    ...ledger.batchesOf(run.runId).flatMap((b) => [b.startedAt, b.exportedAt, b.verifiedAt, b.endedAt]),
  ].filter((at): at is string => at !== null);
  if (instants.length === 0) return null;
  return now.getTime() - Math.max(...instants.map((at) => Date.parse(at)));
}

/** The restores that committed, from the rows of `restoresQuery` (one per restore, table and year). */
export function restoreRecords(rows: readonly Row[]): RestoreRecord[] {
  const byId = new Map<string, RestoreRecord>();
  for (const r of rows) {
    const id = String(r.restore_id);
    const year = Number(r.year);
    const rows = Number(r.row_count);
    const known = byId.get(id);
    const tables = [...(known?.tables ?? []), { table: String(r.table_name), rows }];
    byId.set(id, { restoreId: id, at: restoreInstant(id), year, tables, rows: sum(tables, (t) => t.rows) });
  }
  return [...byId.values()];
}

/** The instant a restore id holds (`R` and the UTC date and time to the second); null for another id. */
function restoreInstant(id: string): string | null {
  const m = /^R(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : null;
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
