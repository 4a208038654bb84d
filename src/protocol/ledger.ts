import { families, type ArchiveConfig, type TableConfig } from '../config/config';
import { InternalError } from '../core/errors';
import {
  LEDGER_UPGRADES,
  type ArchiveSql,
  type BatchSource,
  type BatchState,
  type CommittedBatch,
  type LedgerTable,
  type RunState,
  type ViewState,
} from '../sql/statements';
import type { Row, Warehouse } from './ports';

/** One run as the ledger records it. */
export interface RunRecord {
  readonly runId: string;
  readonly cutoff: string;
  readonly state: RunState;
  /** Why the last attempt failed, until a later attempt gets further. */
  readonly error: string | null;
  /** When the run started (ISO 8601, UTC), by the engine's clock; null in a ledger of an earlier version. */
  readonly startedAt: string | null;
  /** When the run finished or was aborted; null while it runs. */
  readonly endedAt: string | null;
}

/** One table's part of one batch (one run, one family, one archive year). */
export interface BatchRecord {
  readonly runId: string;
  readonly table: string;
  readonly family: string;
  readonly year: number;
  readonly source: BatchSource;
  readonly state: BatchState;
  /** Attempts start at 1; a failed commit check discards the export and adds one. */
  readonly attempt: number;
  /** Rows the plan counted when the run started. */
  readonly plannedRows: number;
  /** The partition's location, once exported with rows. */
  readonly location: string | null;
  /** Rows exported (manifest), then read back (verified). */
  readonly rows: number | null;
  /** The archive's checksum, read back through the external table. */
  readonly checksum: string | null;
  readonly files: number | null;
  readonly bytes: number | null;
  /** The columns the batch's files hold (`name type, ...`); null for a v1 batch. */
  readonly columns: string | null;
  readonly error: string | null;
  /** The digest of the files verification read (null before, or when verified by an earlier version). */
  readonly filesDigest: string | null;
  /** The hot table's schema; null when unknown (a row of a table that left the configuration before it was recorded). */
  readonly tableSchema: string | null;
  /** The commit's check passed: the rows left the hot table and the views read the batch. */
  readonly committed: boolean;
  /** When the batch (its family and year) began, as ISO 8601 UTC; null before, or in an older ledger. */
  readonly startedAt: string | null;
  /** When this table's export ended (this attempt). */
  readonly exportedAt: string | null;
  /** When this table's verification ended (this attempt). */
  readonly verifiedAt: string | null;
  /** When the batch's commit ended (as the run learned it). */
  readonly endedAt: string | null;
  /** The warehouse bytes the rows occupied when the run started (the table's size, scaled). */
  readonly hotBytes: number | null;
}

const UNFINISHED: readonly RunState[] = ['running', 'staged', 'verified', 'published'];

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * A read of the ledger: the runs, their batches and the views' version. Every entry point starts
 * from one, so a run is resumed from what the warehouse itself says, never from memory.
 */
export class LedgerView {
  constructor(
    readonly runs: readonly RunRecord[],
    readonly batches: readonly BatchRecord[],
    readonly version: number,
    /** False when the ledger's tables do not exist yet (nothing was ever set up). */
    readonly exists = true,
  ) {}

  /** The unfinished run, if there is one (the lock allows at most one). */
  get active(): RunRecord | undefined {
    return this.runs.find((r) => UNFINISHED.includes(r.state));
  }

  run(runId: string): RunRecord | undefined {
    return this.runs.find((r) => r.runId === runId);
  }

  /** The batch rows of one run, optionally of one table. */
  batchesOf(runId: string, table?: string): BatchRecord[] {
    return this.batches.filter((b) => b.runId === runId && (table === undefined || sameName(b.table, table)));
  }

  /** One table's part of one batch. */
  batch(runId: string, table: string, year: number): BatchRecord | undefined {
    return this.batches.find((b) => b.runId === runId && sameName(b.table, table) && b.year === year);
  }

  /**
   * Batches whose rows live only in the lake: committed, holding rows, neither restored nor
   * recorded lost (optionally of one table). What the views read, what an audit checks and what
   * a restore puts back.
   */
  archived(table?: string): BatchRecord[] {
    return this.batches.filter(
      (b) =>
        (table === undefined || sameName(b.table, table)) &&
        b.committed &&
        b.state !== 'restored' &&
        b.state !== 'lost' &&
        (b.rows ?? 0) > 0,
    );
  }

  /**
   * Committed batches whose files an operator recorded as lost (`repair --accept-lost`): their
   * rows are gone from the lake, and no view, catalog or check reads them any more.
   */
  lost(): BatchRecord[] {
    return this.batches.filter((b) => b.committed && b.state === 'lost');
  }

  /** This ledger as it will be once `batches` are recorded lost (what the views are built from). */
  losing(batches: readonly Pick<BatchRecord, 'runId' | 'table' | 'year'>[]): LedgerView {
    const key = (b: Pick<BatchRecord, 'runId' | 'table' | 'year'>) =>
      `${b.runId}/${b.table.toLowerCase()}/${b.year}`;
    const keys = new Set(batches.map(key));
    return new LedgerView(
      this.runs,
      this.batches.map((b) => (keys.has(key(b)) ? { ...b, state: 'lost' as const } : b)),
      this.version,
      this.exists,
    );
  }

  /** Committed batches of `table` that hold rows and were not restored: what its view reads. */
  committed(table: string): CommittedBatch[] {
    return this.archived(table).map((b) => ({ runId: b.runId, year: b.year }));
  }

  /** The v1 run whose stage tables the views still read, while it is finished. */
  get stageRunId(): string | undefined {
    const active = this.active;
    return active && this.batchesOf(active.runId).some((b) => b.source === 'stage')
      ? active.runId
      : undefined;
  }

  /**
   * The same ledger after {@link ArchiveSql.markBatches} marked these family-years of `runId` as
   * ended at `at`: what a report built before the next read of the ledger must show.
   */
  withEnded(runId: string, ended: readonly { family: string; year: number }[], at: Date): LedgerView {
    const iso = at.toISOString();
    const batches = this.batches.map((b) =>
      b.runId === runId && ended.some((e) => sameName(e.family, b.family) && e.year === b.year)
        ? { ...b, endedAt: iso }
        : b,
    );
    return new LedgerView(this.runs, batches, this.version, this.exists);
  }

  /** What the union view of `table` reads now, optionally with one more committed batch. */
  viewState(table: TableConfig, also?: CommittedBatch & { rows: number }): ViewState {
    const committed = this.committed(table.alias);
    if (also && also.rows > 0) committed.push({ runId: also.runId, year: also.year });
    const stageRunId = this.stageRunId;
    return { committed, ...(stageRunId ? { stageRunId } : {}) };
  }
}

/** What the warehouse holds of the ledger: whether it exists, and which later tables and columns it lacks. */
export interface LedgerShape {
  /**
   * The configured schema holds a ledger: its `runs` table, which every version had (protocol
   * v1's ledger had `runs`, `run_years` and `run_exports` only; a v2 ledger of an earlier version
   * may lack later tables). One that exists is upgraded by the first command that writes, never
   * taken for none.
   */
  readonly exists: boolean;
  /** Whether the ledger has a table. */
  readonly hasTable: (table: LedgerTable) => boolean;
  /** Whether a ledger table has a column (names in lower case). */
  readonly has: (table: LedgerTable, column: string) => boolean;
  /** Columns of {@link LEDGER_UPGRADES} the batches table lacks: reads select NULL for them. */
  readonly missingBatchColumns: readonly string[];
  /** Columns of {@link LEDGER_UPGRADES} the runs table lacks: reads select NULL for them. */
  readonly missingRunColumns: readonly string[];
  /** Nothing to create or add: the ledger is this version's. */
  readonly current: boolean;
}

/** Reads which ledger tables and columns exist, writing nothing (one read of the catalog). */
export async function inspectLedger(warehouse: Warehouse, sql: ArchiveSql): Promise<LedgerShape> {
  const rows = await warehouse.query(sql.ledgerShapeQuery(), 'ledger.shape');
  const columns = new Set(
    rows.map((r) => `${String(r.table_name).toLowerCase()}.${String(r.column_name).toLowerCase()}`),
  );
  const tables = new Set(rows.map((r) => String(r.table_name).toLowerCase()));
  const hasTable = (table: LedgerTable) => tables.has(table);
  const has = (table: LedgerTable, column: string) => columns.has(`${table}.${column.toLowerCase()}`);
  const missing = (table: LedgerTable) =>
    LEDGER_UPGRADES.filter((u) => u.table === table && !has(u.table, u.column)).map((u) => u.column);
  return {
    exists: hasTable('runs'),
    hasTable,
    has,
    missingBatchColumns: missing('batches'),
    missingRunColumns: missing('runs'),
    current: sql.ledgerTables.every(hasTable) && sql.upgradeStatements(has).length === 0,
  };
}

/**
 * Reads the whole ledger (it holds a few rows per table and year). Given what {@link inspectLedger}
 * found, it reads one that does not exist yet as empty, and one of an earlier version as far as it
 * goes: without the tables it lacks (a v1 ledger: its runs, no batches yet) and with NULL for the
 * columns it lacks. So commands that only read write nothing, not even the ledger.
 */
export async function readLedger(
  warehouse: Warehouse,
  sql: ArchiveSql,
  shape?: LedgerShape,
): Promise<LedgerView> {
  if (shape && !shape.exists) return new LedgerView([], [], 0, false);
  const has = (table: LedgerTable) => !shape || shape.hasTable(table);
  const runs = await warehouse.query(sql.runsQuery(shape?.missingRunColumns), 'ledger.runs');
  const batches =
    has('batches') && has('commit_checks')
      ? await warehouse.query(sql.batchesQuery(shape?.missingBatchColumns), 'ledger.batches')
      : [];
  const [version] = has('views_version') ? await warehouse.query(sql.versionQuery(), 'ledger.version') : [];
  return new LedgerView(
    runs.map((r) => ({
      runId: text(r.run_id),
      cutoff: text(r.cutoff),
      state: text(r.state) as RunState,
      error: r.error ?? null,
      startedAt: instant(r.started_at),
      endedAt: instant(r.ended_at),
    })),
    batches.map(batchRecord),
    count(version?.version ?? '0'),
  );
}

/**
 * Read only: the checks of the restores that committed (`restoresQuery`), none while the ledger
 * has no `restore_checks` table (none yet, or one of an earlier version that no command has
 * upgraded). A status reads them; a run never needs them.
 */
export async function readRestoreChecks(
  warehouse: Warehouse,
  sql: ArchiveSql,
  shape: LedgerShape,
): Promise<Row[]> {
  return shape.hasTable('restore_checks') ? warehouse.query(sql.restoresQuery(), 'ledger.restores') : [];
}

function batchRecord(r: Row): BatchRecord {
  const optional = (value: string | null | undefined) =>
    value === null || value === undefined ? null : count(value);
  return {
    runId: text(r.run_id),
    table: text(r.table_name),
    family: text(r.family),
    year: count(r.year),
    source: text(r.source) as BatchSource,
    state: text(r.state) as BatchState,
    attempt: count(r.attempt),
    plannedRows: count(r.planned_rows),
    location: r.location ?? null,
    rows: optional(r.row_count),
    checksum: r.checksum ?? null,
    files: optional(r.file_count),
    bytes: optional(r.byte_count),
    columns: r.columns ?? null,
    error: r.error ?? null,
    filesDigest: r.files_digest ?? null,
    tableSchema: r.table_schema ?? null,
    committed: count(r.committed) === 1,
    startedAt: instant(r.started_at),
    exportedAt: instant(r.exported_at),
    verifiedAt: instant(r.verified_at),
    endedAt: instant(r.ended_at),
    hotBytes: optional(r.hot_bytes),
  };
}

/**
 * A TIMESTAMP the warehouse returned as text (`2026-01-01 00:00:05.123`, fractions of any length
 * or none), as ISO 8601 in UTC to the millisecond: the ledger's instants are UTC.
 */
export function instant(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(?:\+00(?::?00)?|Z)?$/.exec(
    value,
  );
  if (!match) throw new InternalError(`the warehouse returned ${value} where a timestamp was expected`);
  return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
}

/** The batches of a run in the order the protocol takes them: oldest year first, then family. */
export function batchOrder(
  config: ArchiveConfig,
  batches: readonly { readonly family: string; readonly year: number }[],
): { family: TableConfig[]; year: number }[] {
  const all = families(config);
  const keys = new Map<string, { family: TableConfig[]; year: number }>();
  for (const b of batches) {
    const family = all.find((f) => sameName(f[0].alias, b.family));
    if (family) keys.set(`${b.year}/${family[0].alias}`, { family, year: b.year });
  }
  return [...keys.values()].sort((a, b) => a.year - b.year || all.indexOf(a.family) - all.indexOf(b.family));
}

/**
 * Where a run stands: its batches in the order the protocol takes them, and the first whose
 * tables are not all committed (its place in that order), if any is left.
 */
export function nextBatch(
  config: ArchiveConfig,
  ledger: LedgerView,
  runId: string,
): {
  order: { family: TableConfig[]; year: number }[];
  n: number;
  next?: { family: TableConfig[]; year: number };
} {
  const order = batchOrder(config, ledger.batchesOf(runId));
  const n = order.findIndex(({ family, year }) =>
    family.some((t) => {
      const b = ledger.batch(runId, t.alias, year);
      return b !== undefined && !b.committed;
    }),
  );
  return n < 0 ? { order, n: order.length } : { order, n, next: order[n] };
}

function text(value: string | null | undefined): string {
  if (value === null || value === undefined)
    throw new InternalError('the ledger holds NULL where a value is required');
  return value;
}

/** Parses a count or year that the warehouse returned as text. */
export function count(value: string | null | undefined): number {
  const n = Number(text(value));
  if (!Number.isSafeInteger(n))
    throw new InternalError(`the warehouse returned ${value} where a whole number was expected`);
  return n;
}
