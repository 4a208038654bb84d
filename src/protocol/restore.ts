import {
  families,
  findTable,
  isRootTable,
  qualifiedName,
  tableNamed,
  type ArchiveConfig,
  type TableConfig,
} from '../config/config';
import { InputError, RunFailedError, show, StillRunningError } from '../core/errors';
import type { ArchiveSql, Figures } from '../sql/statements';
import { readLedger, type BatchRecord, type LedgerView } from './ledger';
import type { Catalog, Lake, Warehouse } from './ports';
import type { ProgressEvent } from './report';
import { checkSchema } from './schema-guard';

/** What to put back into the hot tables. */
export interface RestoreRequest {
  /** The archive year whose committed batches are restored. */
  readonly year: number;
  /** One root table (its family), by its alias or as schema.name; every family when absent. */
  readonly table?: string;
  /** Also delete the batches' files from the lake once the catalog no longer lists them. */
  readonly deleteFiles: boolean;
  /** Names the restore in the ledger's checks (16 characters at most). */
  readonly restoreId: string;
}

/** One table's part of a restore. */
export interface RestoredTable {
  readonly table: string;
  readonly rows: number;
  /** The runs whose batches of the year were put back. */
  readonly runs: readonly string[];
}

/** What a restore did. */
export interface RestoreReport {
  readonly year: number;
  readonly tables: readonly RestoredTable[];
  readonly rows: number;
  /** Partitions that left the catalog (this restore's and any an interrupted one left). */
  readonly partitionsRemoved: number;
  readonly filesDeleted: boolean;
}

/** What a restore reads and writes. */
export interface RestoreDeps {
  readonly config: ArchiveConfig;
  readonly warehouse: Warehouse;
  readonly lake: Lake;
  readonly catalog: Catalog;
  readonly emit: (event: ProgressEvent) => void;
}

/** A restore transaction that lost a race to another view change is tried this often. */
const RETRIES = 3;
const RESTORE_ID = /^[A-Za-z0-9_-]{1,16}$/;

/**
 * The inverse of a commit, family by family: ONE transaction puts the year's archived rows back
 * into the hot tables with their exact values and types, checks them against the ledger, takes
 * the batches out of the union views and marks them restored (see
 * {@link ArchiveSql.restoreTransaction}); then their partitions leave the catalog, and their files
 * the lake only when asked. Every step is idempotent, so a restore interrupted at any point is
 * finished by running it again. Children always move with their parents.
 */
export async function restore(
  deps: RestoreDeps,
  sql: ArchiveSql,
  read: LedgerView,
  request: RestoreRequest,
): Promise<RestoreReport> {
  const chosen = restoredFamilies(deps.config, request);
  let ledger = read;
  if (ledger.active) {
    throw new RunFailedError(
      `restore: run ${ledger.active.runId} is active (${ledger.active.state}); nothing changed. Let it finish, or abort it, then restore`,
    );
  }
  await checkSchema(deps.config, deps.warehouse, sql, ledger);
  const tables: RestoredTable[] = [];
  for (const family of chosen) {
    const batches = new Map(
      family.map((t) => [t, ledger.archived(t.alias).filter((b) => b.year === request.year)]),
    );
    if ([...batches.values()].every((b) => b.length === 0)) continue;
    refuseChangedColumns(sql, batches);
    ledger = await commitRestore(deps, sql, ledger, family, request, batches);
    for (const [table, restored] of batches) {
      const rows = restored.reduce((sum, b) => sum + (b.rows ?? 0), 0);
      tables.push({ table: table.alias, rows, runs: restored.map((b) => b.runId) });
    }
  }
  const partitionsRemoved = await cleanUp(deps, ledger, chosen, request);
  return {
    year: request.year,
    tables,
    rows: tables.reduce((sum, t) => sum + t.rows, 0),
    partitionsRemoved,
    filesDeleted: request.deleteFiles,
  };
}

/**
 * The id of a restore asked for at `instant`: `R` and the instant's UTC date and time to the
 * second, 15 characters that sort in time order.
 */
export function restoreIdAt(instant: Date): string {
  return `R${instant.toISOString().replace(/\D/g, '').slice(0, 14)}`;
}

/** Validates a request (changing nothing): the families it restores. */
export function restoredFamilies(config: ArchiveConfig, request: RestoreRequest): TableConfig[][] {
  if (!Number.isInteger(request.year) || request.year < 1000 || request.year > 9999) {
    throw new InputError(`year: ${show(request.year)} is not allowed; allowed: a year from 1000 to 9999`);
  }
  if (!RESTORE_ID.test(request.restoreId)) {
    throw new InputError(`restoreId: ${show(request.restoreId)} is not allowed; allowed: ${RESTORE_ID}`);
  }
  const all = families(config);
  if (request.table === undefined) return all;
  const roots = all.map((f) => f[0].alias).join(', ');
  const table = findTable(config.tables, request.table);
  if (!table) {
    throw new InputError(
      `table: ${show(request.table)} is not configured; allowed: a root table, by its alias or as schema.name (${roots})`,
    );
  }
  if (!isRootTable(table)) {
    const parent = 'parent' in table.archiveBy ? table.archiveBy.parent : '';
    throw new InputError(
      // the table it names, as two tables may share a name (one archived under an alias)
      `table: ${show(request.table)} is ${qualifiedName(table)}, archived with its parent ${show(parent)}; ` +
        `allowed: a root table, by its alias or as schema.name (${roots}), whose children are restored with it`,
    );
  }
  return all.filter((f) => f[0] === table);
}

/** A batch written before a column change cannot be checked against today's table: refused. */
function refuseChangedColumns(sql: ArchiveSql, batches: ReadonlyMap<TableConfig, BatchRecord[]>): void {
  for (const [table, restored] of batches) {
    const now = sql.columnsSignature(table);
    const other = restored.find((b) => b.columns !== now);
    if (other) {
      throw new InputError(
        `restore: the batch of run ${other.runId}, ${table.alias} ${other.year} holds the columns (${other.columns ?? 'of protocol v1'}); ` +
          `the table now has (${now}); allowed: batches written with the table's current columns. Nothing changed; ` +
          'its rows stay readable through the union view',
      );
    }
  }
}

async function commitRestore(
  deps: RestoreDeps,
  sql: ArchiveSql,
  read: LedgerView,
  family: readonly TableConfig[],
  request: RestoreRequest,
  batches: ReadonlyMap<TableConfig, BatchRecord[]>,
): Promise<LedgerView> {
  const runsOf = (t: TableConfig) => new Set((batches.get(t) ?? []).map((b) => b.runId));
  const figures = new Map(
    [...batches].map(([t, restored]) => [
      t,
      restored.map((b) => ({ runId: b.runId, figures: { rows: b.rows, checksum: b.checksum } as Figures })),
    ]),
  );
  let ledger = read;
  for (let attempt = 1; ; attempt++) {
    const statements = sql.restoreTransaction({
      restoreId: request.restoreId,
      family,
      year: request.year,
      batches: figures,
      version: ledger.version,
      views: (t) => ({
        committed: ledger
          .committed(t.alias)
          .filter((b) => b.year !== request.year || !runsOf(t).has(b.runId)),
      }),
    });
    try {
      await deps.warehouse.transaction(statements, `restore.${request.restoreId}.${family[0].alias}`);
      deps.emit({
        phase: 'restore',
        table: family[0].alias,
        year: request.year,
        rows: [...batches.values()].flat().reduce((sum, b) => sum + (b.rows ?? 0), 0),
        message: `restored: ${family.map((t) => t.alias).join(', ')} ${request.year} are hot again; the views no longer read the batch`,
      });
      return await readLedger(deps.warehouse, sql);
    } catch (error) {
      // Still running is no failure: the transaction commits or rolls back whole, later, and
      // reading the ledger now could not tell which (see the unload function's `stillRunning`).
      if (error instanceof StillRunningError) throw error;
      const after = await readLedger(deps.warehouse, sql);
      if (attempt >= RETRIES || after.version === ledger.version || after.active) {
        throw new RunFailedError(
          `restore of ${family[0].alias} ${request.year} failed, and changed nothing: ${(error as Error).message.split('\n')[0]}`,
          { cause: error },
        );
      }
      ledger = after;
    }
  }
}

/** Partitions of restored batches leave the catalog; their files go only when asked. */
async function cleanUp(
  deps: RestoreDeps,
  ledger: LedgerView,
  chosen: readonly TableConfig[][],
  request: RestoreRequest,
): Promise<number> {
  const restored = ledger.batches.filter(
    (b) =>
      b.year === request.year &&
      b.state === 'restored' &&
      chosen.some((f) => f.some((t) => t.alias.toLowerCase() === b.table.toLowerCase())),
  );
  let removed = 0;
  for (const b of restored) {
    const table = tableNamed(deps.config, b.table);
    const registered = await deps.catalog.partitions(table.alias);
    const listed = registered.some((p) => p.runId === b.runId && p.year === b.year);
    if (listed) removed++;
    // Also when the catalog no longer lists it, before its files go: a restore that died inside
    // the removal may have left a definition that still names them.
    if (listed || request.deleteFiles) await deps.catalog.removePartitions(table.alias, b.runId, b.year);
    if (request.deleteFiles) await deps.lake.clear(deps.lake.batchRoot(table.alias, b.year, b.runId));
  }
  if (restored.length > 0) {
    deps.emit({
      phase: 'restore',
      year: request.year,
      message: `${removed} partitions left the catalog${request.deleteFiles ? '; their files were deleted' : '; their files stay in the lake'}`,
    });
  }
  return removed;
}
