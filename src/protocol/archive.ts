import { ArchiveConfig, isRootTable, TableConfig, tablePath } from '../config/config';
import { sameType } from '../core/column-types';
import { nextRunId, type RunTarget } from '../core/cutoff';
import { InputError, RunFailedError, show, StillRunningError } from '../core/errors';
import { isLayoutYear } from '../core/lake-layout';
import { ArchiveSql, BatchKey, PlannedBatch } from '../sql/statements';
import { BatchSteps, CommitFailure } from './batch';
import { checkArchive, checkViews, lostBatches, repairCatalog, RepairReport } from './consistency';
import {
  batchOrder,
  count,
  inspectLedger,
  LedgerShape,
  LedgerView,
  nextBatch,
  readLedger,
  readRestoreChecks,
  RunRecord,
} from './ledger';
import { migrateLegacyRuns } from './legacy';
import { audit, AuditReport } from './audit';
import { ExtraChecks, preflight, PreflightReport } from './preflight';
import { restore, restoredFamilies, RestoreReport, RestoreRequest } from './restore';
import type { Catalog, Lake, Row, Warehouse } from './ports';
import {
  batchProgress,
  between,
  emptyReport,
  LostBatch,
  PlanReport,
  ProgressEvent,
  restoreRecords,
  runReport,
  RunReport,
  statusReport,
  StatusReport,
  YearFigures,
} from './report';
import { checkSchema } from './schema-guard';
import { pricesOf } from '../config/prices';
import { lakeBytesPerRow, savings, tableSizes, totalSavings, warehouseShare, type TableSize } from './costs';

export type { AuditReport } from './audit';
export type { CommitFailure } from './batch';
export type { RepairReport } from './consistency';
export type { RestoreReport, RestoreRequest } from './restore';
export type {
  LostBatch,
  Phase,
  PlanReport,
  ProgressEvent,
  RestoreRecord,
  RunReport,
  Savings,
  StatusReport,
  TableReport,
} from './report';

/** What the protocol needs; the engine is whatever implements the ports. */
export interface ArchiveDeps {
  readonly config: ArchiveConfig;
  readonly warehouse: Warehouse;
  readonly lake: Lake;
  readonly catalog: Catalog;
  /** Receives one event per phase, table and year. */
  readonly progress?: (event: ProgressEvent) => void;
  /** Waits between attempts (tests pass a fake). */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * How many milliseconds this invocation may still work (on AWS, the Lambda's remaining time less
   * its margin); unset where no invocation ends the work (the embedded engine). A run that has
   * taken a batch hands over to a fresh invocation at the next batch boundary when little is left.
   */
  readonly remainingMs?: () => number;
  /**
   * The engine's clock: it timestamps runs, batches and steps in the ledger (tests pass a fake).
   * No statement reads the warehouse's clock, and none of its readings decides what a run moves.
   * @default the system clock
   */
  readonly clock?: () => Date;
  /** Checks that only this engine can make, added to preflight's (role association, quotas). */
  readonly extraChecks?: ExtraChecks;
  /**
   * The first run sets up the ledger, the catalog's tables and the union views (the embedded
   * engine, which has no deploy step); otherwise deploying the stack does.
   */
  readonly setUpByFirstRun?: boolean;
}

/** What an entry point that writes checks first, and what it read to do so. */
interface Checked {
  readonly shape: LedgerShape;
  readonly ledger: LedgerView;
}

/** Ledger reads after a failed start, looking for a run that started at the same time. */
const START_CHECKS = 4;
/** Transactions that redefine views outside a run are tried this often when they lose a race. */
const VIEW_RETRIES = 3;
/**
 * A run hands over to a fresh invocation at a batch boundary when less time is left than this, or
 * than the longest batch of the run so far: a read or ledger write that no event announces must
 * never be in flight when the invocation's time runs out (that would stop the run until an
 * operator runs it again).
 */
const HAND_OVER_MS = 120_000;

/** A second run that lost the lock to a run started at the same time, and changed nothing. */
export class RunBusyError extends RunFailedError {
  constructor(readonly active: RunRecord) {
    super(
      `run ${active.runId} (cutoff ${active.cutoff}) is active (${active.state}); this invocation changed nothing`,
    );
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The key of a run's batch of one family and year, from the ledger (its source: hot, or v1's stage). */
function batchKey(run: RunRecord, ledger: LedgerView, root: TableConfig, year: number): BatchKey {
  const record = ledger.batch(run.runId, root.alias, year) ?? ledger.batchesOf(run.runId)[0];
  return { runId: run.runId, cutoff: run.cutoff as BatchKey['cutoff'], year, source: record.source };
}
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const sum = <T>(items: readonly T[], of: (item: T) => number) =>
  items.reduce((total, item) => total + of(item), 0);

/**
 * The archive protocol (protocol v2: export, verify, then swap, one family and year at a time),
 * once, for every engine. Each step reads the ledger to know where the run stands, so any
 * invocation can resume any run after a crash anywhere.
 */
export class Archiver {
  private readonly sql: ArchiveSql;
  private readonly steps: BatchSteps;

  constructor(private readonly deps: ArchiveDeps) {
    this.sql = new ArchiveSql(deps.config, deps.warehouse.dialect);
    this.steps = new BatchSteps({
      ...deps,
      sql: this.sql,
      emit: (event) => this.emit(event),
      sleep: deps.sleep ?? delay,
      clock: () => this.now(),
    });
  }

  /** The engine's clock (see {@link ArchiveDeps.clock}). */
  private now(): Date {
    return this.deps.clock ? this.deps.clock() : new Date();
  }

  private get prices() {
    return pricesOf(this.deps.config);
  }

  private get tables(): TableConfig[] {
    return this.sql.tables;
  }

  private emit(event: ProgressEvent): void {
    this.deps.progress?.(event);
  }

  /**
   * Everything an entry point that writes reads and checks first; when it throws, nothing has
   * been written. The ledger as it is (a missing one reads as empty, an older one as far as it
   * goes), the schema guard, a configuration that reads another ledger or catalog than the union
   * views (refused, naming both), and a lake or catalog that lacks what the ledger records
   * (refused, naming what and where) (docs/design.md §5).
   */
  private async checked(
    options: {
      readonly guard?: boolean;
      readonly archive: 'all' | 'lake' | 'none';
      readonly database?: boolean;
    },
    read?: Checked,
  ): Promise<Checked> {
    const { shape, ledger } = read ?? (await this.inspect());
    if (options.guard !== false) await checkSchema(this.deps.config, this.deps.warehouse, this.sql, ledger);
    await checkViews(this.deps, this.sql, ledger, { database: options.database !== false });
    await checkArchive(this.deps, this.sql, ledger, {
      lake: options.archive !== 'none',
      catalog: options.archive === 'all',
    });
    return { shape, ledger };
  }

  /** Read only: the ledger's shape, and the ledger as it is (empty when it does not exist yet). */
  private async inspect(): Promise<Checked> {
    const shape = await inspectLedger(this.deps.warehouse, this.sql);
    return { shape, ledger: await readLedger(this.deps.warehouse, this.sql, shape) };
  }

  /**
   * The ledger made ready for writing: its schema and tables created, the columns of later
   * versions added (one transaction), and any run protocol v1 left taken in. Writes only what is
   * missing.
   */
  private async ready({ shape, ledger }: Checked): Promise<LedgerView> {
    if (!shape.current) await this.upgrade(shape);
    const read = shape.current ? ledger : await readLedger(this.deps.warehouse, this.sql);
    if (!(await migrateLegacyRuns(this.deps, this.sql, read))) return read;
    return readLedger(this.deps.warehouse, this.sql);
  }

  /**
   * Creates what the ledger lacks and adds the columns of later versions, in one transaction. Two
   * writers may upgrade at once (a deploy and a run, say): the one whose `ADD COLUMN` finds the
   * column added fails, reads the shape again and sends only what is still missing, as
   * {@link defineViews} does after a lost race; a failure that changed nothing is thrown.
   */
  private async upgrade(read: LedgerShape): Promise<void> {
    const missing = (shape: LedgerShape) =>
      [
        ...this.sql.ledgerTables.filter((t) => !shape.hasTable(t)),
        ...this.sql.upgradeStatements(shape.has),
      ].join('\n');
    let shape = read;
    for (let attempt = 1; !shape.current; attempt++) {
      try {
        await this.deps.warehouse.transaction(
          [...this.sql.setupStatements(), ...this.sql.upgradeStatements(shape.has)],
          'setup.ledger',
        );
        return;
      } catch (error) {
        if (error instanceof StillRunningError) throw error;
        const after = await inspectLedger(this.deps.warehouse, this.sql);
        if (attempt >= VIEW_RETRIES || missing(after) === missing(shape)) throw error;
        shape = after;
      }
    }
  }

  /** The external tables: defined on the embedded engine, checked against the configuration on Glue. */
  private async ensureTables(): Promise<void> {
    for (const table of this.tables) await this.deps.catalog.ensureTable(table.alias);
  }

  /**
   * What the custom resource does at deploy time, idempotently: the checks, the ledger, every
   * committed batch's partition registered again at its recorded location (`repair`: a deploy is
   * an operator's act, and the ledger is the truth, so a catalog that lost partitions, or a new
   * Glue database, gets them back), the external tables, and the union views as the ledger says.
   * The lake is not checked here: a lost file must not keep the stack from deploying; the monthly
   * audit's alarm names it, and every run refuses to go on until it is back.
   * @param retired - statements that belong to the same transaction as the views (a deployment's
   *   drops of views whose tables left, revokes from readers who left)
   */
  async setup(retired: readonly string[] = []): Promise<RepairReport> {
    const checked = await this.checked({ archive: 'none', database: false });
    const ledger = await this.ready(checked);
    const report = await repairCatalog(this.deps, this.sql, ledger);
    await this.defineViews(ledger, retired);
    return report;
  }

  /**
   * Registers every committed batch's partition again from the ledger (and rebuilds a catalog
   * that cannot be read), then defines the external tables and the union views from the ledger.
   * The way out when a run refuses a catalog that lacks partitions. The lake must hold the files;
   * where it cannot any more (a bucket version expired, a bucket without versions),
   * `acceptLost` records the batches whose files differ as lost, naming each with its rows:
   * in ONE transaction with the views, which stop reading them; their partitions then leave the
   * catalog, so no reader fails on them, and every check passes over them from then on.
   * @throws ArchiveMismatchError naming every damaged batch and its rows, without `acceptLost`
   */
  async repair(options: { readonly acceptLost?: boolean } = {}): Promise<RepairReport> {
    const checked = await this.checked({ archive: 'none', database: false });
    const lost = await lostBatches(this.deps, this.sql, checked.ledger, options.acceptLost === true);
    let ledger = await this.ready(checked);
    if (lost.length > 0) {
      await this.defineViews(ledger, [], lost);
      ledger = await readLedger(this.deps.warehouse, this.sql);
    }
    const report = { ...(await repairCatalog(this.deps, this.sql, ledger)), lost };
    await this.defineViews(ledger);
    const rows = sum(lost, (b) => b.rows);
    this.emit({
      phase: 'repair',
      message:
        `${report.registered} partitions registered again in ${report.catalog}; ${report.removed} removed` +
        (lost.length ? `; ${lost.length} batches (${rows} rows) recorded lost` : ''),
    });
    return report;
  }

  /**
   * The union views as the ledger says they should be (the external tables defined already). A view whose
   * columns stay the same is replaced (its grants stay); one whose columns changed is re-created
   * and granted again. The views change only in a transaction that raises their version, so this
   * never overwrites a commit that it did not see.
   *
   * USAGE on the external schema is granted first, each grant its own statement (no GRANT on an
   * external resource runs in a transaction): a grant that fails (a reader that does not exist)
   * leaves the views as they were, instead of failing after they changed.
   * @param lost - batches recorded lost in the same transaction, which the views no longer read
   */
  private async defineViews(
    read: LedgerView,
    retired: readonly string[] = [],
    lost: readonly LostBatch[] = [],
  ): Promise<void> {
    for (const grant of this.sql.externalSchemaGrants())
      await this.deps.warehouse.execute(grant, 'setup.grants');
    let ledger = read;
    for (let attempt = 1; ; attempt++) {
      const existing = await this.deps.warehouse.query(this.sql.catalogQuery('views'), 'setup.views.columns');
      const views = lost.length > 0 ? ledger.losing(lost) : ledger;
      const statements = [
        this.sql.bumpVersion(ledger.version),
        ...this.tables.flatMap((t) =>
          // A reader added to views.readers is granted here too (GRANT is idempotent).
          this.sameViewColumns(t, existing)
            ? [this.sql.replaceView(t, views.viewState(t)), ...this.sql.viewGrants(t)]
            : this.sql.recreateView(t, views.viewState(t)),
        ),
        ...retired,
        ...lost.map((b) => this.sql.recordLost(b, b.reason)),
      ];
      try {
        await this.deps.warehouse.transaction(statements, 'setup.views');
        break;
      } catch (error) {
        if (error instanceof StillRunningError) throw error;
        // Another session's transaction that redefines the views may not have committed yet.
        const conflict = this.deps.warehouse.dialect.isConflict(message(error));
        if (conflict) await (this.deps.sleep ?? delay)(100 * attempt);
        const after = await readLedger(this.deps.warehouse, this.sql);
        if (attempt >= VIEW_RETRIES || (after.version === ledger.version && !conflict)) throw error;
        ledger = after;
      }
    }
    this.emit({ phase: 'setup', message: `views defined for ${this.tables.length} tables` });
  }

  /** Whether the union view of `table` exists with the configured columns (names and types). */
  private sameViewColumns(table: TableConfig, catalog: readonly Row[]): boolean {
    const view = `${this.deps.config.views.prefix}${table.alias}`.toLowerCase();
    const columns = catalog.filter(
      (r) =>
        String(r.table_schema).toLowerCase() === this.deps.config.views.schema.toLowerCase() &&
        String(r.table_name).toLowerCase() === view,
    );
    return (
      columns.length === table.columns.length &&
      table.columns.every((c, i) => {
        const real = this.deps.warehouse.dialect.catalogType(columns[i]);
        return (
          String(columns[i].column_name).toLowerCase() === c.name.toLowerCase() &&
          real !== undefined &&
          sameType(c.type, real)
        );
      })
    );
  }

  /**
   * Read only: the warehouse's own sizes of the configured tables; a warehouse that will not tell
   * (SVV_TABLE_INFO shows only superusers and those granted SELECT on it) leaves them unknown, and
   * says why.
   */
  private async sizes(): Promise<{ sizes: Map<string, TableSize>; note?: string }> {
    let sizes: Map<string, TableSize>;
    try {
      sizes = tableSizes(await this.deps.warehouse.query(this.sql.tableSizesQuery(), 'plan.sizes'));
    } catch (error) {
      if (error instanceof StillRunningError) throw error;
      return {
        sizes: new Map(),
        note: `the warehouse's table sizes could not be read: ${message(error).split('\n')[0]}`,
      };
    }
    const missing = this.tables.filter((t) => !sizes.has(`${t.schema}.${t.name}`.toLowerCase()));
    if (missing.length === 0) return { sizes };
    return {
      sizes,
      note:
        `the warehouse gave no size for ${missing.map((t) => `${t.schema}.${t.name}`).join(', ')}` +
        (this.deps.warehouse.dialect.name === 'redshift'
          ? ' (SVV_TABLE_INFO has no row for an empty table, and shows rows only to superusers and users granted SELECT on it)'
          : ' (empty, or not yet written to disk)'),
    };
  }

  /** Read only: what each table would move per year, and the batches, for a run with this cutoff. */
  private async planBatches(
    target: RunTarget,
    sizes: ReadonlyMap<string, TableSize> = new Map(),
  ): Promise<{ planned: PlannedBatch[]; nullRows: Map<TableConfig, number> }> {
    const { warehouse } = this.deps;
    const planned: PlannedBatch[] = [];
    const nullRows = new Map<TableConfig, number>();
    const figures = (rows: Row[]): YearFigures[] =>
      rows.map((r) => ({ year: count(r.year), rows: count(r.row_count) }));
    for (const family of this.sql.families) {
      const [root] = family;
      const rootYears = figures(
        await warehouse.query(this.sql.rootYearsQuery(root, target.cutoff), `plan.${root.alias}`),
      );
      if (rootYears.some((y) => !isLayoutYear(y.year))) await this.refuseYear(root);
      const [nulls] = await warehouse.query(this.sql.nullRowsQuery(root), `plan.${root.alias}.nulls`);
      nullRows.set(root, count(nulls.row_count));
      const years = rootYears.map((y) => y.year);
      for (const table of family) {
        const counts =
          table === root || years.length === 0
            ? rootYears
            : figures(
                await warehouse.query(
                  this.sql.yearsQuery(table, years, target.cutoff),
                  `plan.${table.alias}`,
                ),
              );
        const size = sizes.get(`${table.schema}.${table.name}`.toLowerCase());
        for (const year of years) {
          const rows = counts.find((c) => c.year === year)?.rows ?? 0;
          const hotBytes = warehouseShare(size, rows);
          planned.push({ table, year, rows, ...(hotBytes === undefined ? {} : { hotBytes }) });
        }
      }
    }
    return { planned, nullRows };
  }

  /**
   * A row dated before the year 1000 (a minimum-date sentinel, say) has no place in the lake's
   * `year=YYYY` layout: refused before anything is written, naming the table, the column and a
   * row, so it can be fixed (NULL stays hot).
   */
  private async refuseYear(root: TableConfig): Promise<never> {
    const [row] = await this.deps.warehouse.query(this.sql.earlyRowQuery(root), `plan.${root.alias}.early`);
    const column = isRootTable(root) ? root.archiveBy.column : '';
    const value = String(row?.value ?? '');
    throw new InputError(
      `${tablePath(root, 'archiveBy', 'column')}: ${show(column)} of ${root.schema}.${root.name} holds ` +
        `${value} (year ${Number(/^(\d+)-/.exec(value)?.[1] ?? 0)}) in the row whose ${root.columns[0].name} is ${row?.key ?? 'NULL'}; ` +
        'allowed: a year from 1000 to 9999, which the lake layout (year=YYYY) can hold. Change that value (NULL stays hot); ' +
        'nothing was changed',
    );
  }

  /**
   * Read only: per child table whose parent has committed batches, the rows whose parent key is
   * found only among the parent's archived rows. They stay hot: a child moves only with a hot
   * parent. A read that fails (no access to the views, say) leaves the count out.
   */
  private async lateChildren(ledger: LedgerView): Promise<Map<TableConfig, number>> {
    const counts = new Map<TableConfig, number>();
    for (const table of this.tables.filter((t) => !isRootTable(t))) {
      if (ledger.committed(this.sql.parentTable(table).alias).length === 0) continue;
      try {
        const [row] = await this.deps.warehouse.query(
          this.sql.lateChildrenQuery(table),
          `plan.${table.alias}.late`,
        );
        counts.set(table, count(row.row_count));
      } catch (error) {
        if (error instanceof StillRunningError) throw error;
      }
    }
    return counts;
  }

  /** Read only: would the next run work, and if not, what must change? */
  async preflight(): Promise<PreflightReport> {
    return preflight(this.deps, this.sql, this.deps.extraChecks);
  }

  /**
   * Read only: preflight's checks first, then what a run with this target would move per table
   * and year, the batches, and the exact SQL of each step (the commit's figures are those
   * verification reads back, shown as placeholders). Refuses, naming every difference, when the
   * configuration does not match the warehouse.
   */
  async plan(target: RunTarget): Promise<PlanReport> {
    const checks = await this.preflight();
    const ledger = await this.read();
    await checkSchema(this.deps.config, this.deps.warehouse, this.sql, ledger);
    const { sizes, note } = await this.sizes();
    const { planned, nullRows } = await this.planBatches(target, sizes);
    const late = await this.lateChildren(ledger);
    for (const table of this.tables) {
      const rows = sum(
        planned.filter((p) => p.table === table),
        (p) => p.rows,
      );
      this.emit({ phase: 'plan', table: table.alias, rows, message: `rows older than ${target.cutoff}` });
    }
    return {
      ...this.planReport(target, ledger, planned, nullRows, late),
      ...(note ? { sizesNote: note } : {}),
      preflight: checks,
    };
  }

  private planReport(
    target: RunTarget,
    ledger: LedgerView,
    planned: readonly PlannedBatch[],
    nullRows: ReadonlyMap<TableConfig, number>,
    late: ReadonlyMap<TableConfig, number>,
  ): Omit<PlanReport, 'preflight'> {
    const batches = batchOrder(
      this.deps.config,
      planned.map((p) => ({ family: this.sql.familyOf(p.table)[0].alias, year: p.year })),
    );
    const statements = this.batchStatements(target, ledger, planned, batches);
    const prices = this.prices;
    const tables = this.tables.map((table) => {
      const parts = planned.filter((p) => p.table === table);
      const years = parts.map((p) => ({ year: p.year, rows: p.rows }));
      const nulls = nullRows.get(table);
      const children = late.get(table);
      const rows = sum(years, (y) => y.rows);
      return {
        table: table.alias,
        rows,
        years,
        ...(nulls === undefined ? {} : { nullRows: nulls }),
        ...(children === undefined ? {} : { lateChildren: children }),
        savings: this.planned(table, parts, ledger),
      };
    });
    return {
      runId: target.runId,
      cutoff: target.cutoff,
      tables,
      rows: sum(tables, (t) => t.rows),
      savings: totalSavings(
        tables.map((t) => t.savings),
        prices,
      ),
      prices,
      batches: batches.map(({ family, year }) => ({
        family: family[0].alias,
        year,
        rows: sum(
          planned.filter((p) => p.year === year && family.includes(p.table)),
          (p) => p.rows,
        ),
      })),
      ...(ledger.active ? { activeRun: ledger.active.runId } : {}),
      statements: [
        ...statements,
        { phase: 'finish', transactional: true, sql: this.sql.finishTransaction(target.runId, undefined) },
        ...(this.deps.config.maintenance.vacuum
          ? [{ phase: 'finish' as const, transactional: false, sql: this.sql.maintenanceStatements() }]
          : []),
      ],
    };
  }

  /**
   * What a table's planned rows free and add: the warehouse's bytes scaled by the rows that leave,
   * and the lake's estimated from the bytes per row of its earlier batches (without any, as many
   * bytes as the warehouse frees, said as an assumption).
   */
  private planned(table: TableConfig, parts: readonly PlannedBatch[], ledger: LedgerView) {
    const rows = sum(parts, (p) => p.rows);
    const warehouse = parts.every((p) => p.hotBytes !== undefined)
      ? sum(parts, (p) => p.hotBytes ?? 0)
      : null;
    const perRow = lakeBytesPerRow(ledger, table.alias);
    const lake =
      rows === 0
        ? { bytes: 0, basis: 'earlier batches' as const }
        : perRow !== undefined
          ? { bytes: Math.round(perRow * rows), basis: 'earlier batches' as const }
          : warehouse !== null
            ? { bytes: warehouse, basis: 'assumed as the warehouse' as const }
            : { bytes: null, basis: 'unknown' as const };
    return savings(warehouse, lake, this.prices);
  }

  /** The exact SQL of each batch of the plan: its export, then its commit transaction. */
  private batchStatements(
    target: RunTarget,
    ledger: LedgerView,
    planned: readonly PlannedBatch[],
    batches: ReturnType<typeof batchOrder>,
  ): PlanReport['statements'] {
    return batches.flatMap(({ family, year }) => {
      const key: BatchKey = { runId: target.runId, cutoff: target.cutoff, year, source: 'hot' };
      const name = `${family[0].alias} ${year}`;
      const rows = (t: TableConfig) => planned.find((p) => p.table === t && p.year === year)?.rows ?? 0;
      return [
        {
          phase: 'export' as const,
          batch: name,
          transactional: false,
          sql: family.flatMap((t) =>
            this.sql.unloadStatements(t, key, this.deps.lake.batchRoot(t.alias, year, target.runId)),
          ),
        },
        {
          phase: 'commit' as const,
          batch: name,
          transactional: true,
          sql: this.sql.commitTransaction(family, key, 1, new Map(), ledger.version, (t) =>
            ledger.viewState(t, { runId: target.runId, year, rows: rows(t) }),
          ),
        },
      ];
    });
  }

  /**
   * Resumes the unfinished run if there is one; otherwise starts `target` if it has rows to move.
   * An explicit run also gives a batch whose attempts ran out a fresh set.
   * @param trigger - `operator` (the CLI, a manual `run`): a run id that an aborted run took gets
   *   the next free second, so `abort` then `run` starts a new run; `schedule`: the id is the
   *   schedule's own time, and the same event delivered again after an operator's `abort` answers
   *   that the run is already aborted, starting nothing
   * @throws InputError when the configuration does not match the warehouse (nothing changed)
   * @throws RunBusyError when another invocation started a run at the same time
   * @throws RunFailedError when a step fails; the ledger records why, and the data is safe
   */
  async run(target: RunTarget, trigger: 'operator' | 'schedule' = 'operator'): Promise<RunReport> {
    const checked = await this.checked({ archive: 'all' });
    if (checked.ledger.active) {
      const ledger = await this.setUp(await this.ready(checked), checked.shape);
      return this.advance(ledger.active as RunRecord, true, ledger, true);
    }
    const done = checked.ledger.run(target.runId);
    if (done && (done.state !== 'aborted' || trigger === 'schedule')) {
      return runReport(this.tables, checked.ledger, done, 'already-done', false, [], this.prices);
    }
    // An operator's `abort` then `run` in the same second: the new run gets the next free second.
    const own = done
      ? { ...target, runId: nextRunId(target.runId, (id: string) => !!checked.ledger.run(id)) }
      : target;
    const { planned: counted } = await this.planBatches(own);
    const roots = counted.filter((p) => p.table === this.sql.familyOf(p.table)[0]);
    const moves = roots.some((p) => p.rows > 0);
    // The warehouse bytes of the rows that leave, recorded with the plan: what the run frees.
    const planned = moves ? await this.withSizes(counted) : counted;
    const ledger =
      moves || this.deps.setUpByFirstRun
        ? await this.setUp(await this.ready(checked), checked.shape)
        : checked.ledger;
    if (!moves) {
      this.emit({ phase: 'plan', message: `nothing older than ${own.cutoff} to archive` });
      return emptyReport(this.tables, own.runId, own.cutoff, this.prices);
    }
    const started = await this.start(own, planned, ledger);
    return this.advance(started.run(own.runId) as RunRecord, false, started, true);
  }

  /** The planned batches with the warehouse bytes of their rows, where the warehouse tells its sizes. */
  private async withSizes(planned: readonly PlannedBatch[]): Promise<PlannedBatch[]> {
    const { sizes } = await this.sizes();
    return planned.map((p) => {
      const hotBytes = warehouseShare(sizes.get(`${p.table.schema}.${p.table.name}`.toLowerCase()), p.rows);
      return hotBytes === undefined ? p : { ...p, hotBytes };
    });
  }

  /**
   * The external tables before a run writes: on Glue a check that they have the configured
   * columns; on the embedded engine, which has no deploy step, their definition, and the union
   * views' when they are missing or lack their columns (what setup does on AWS), after the checks.
   */
  private async setUp(ledger: LedgerView, shape: LedgerShape): Promise<LedgerView> {
    await this.ensureTables();
    // The views change with the ledger, in the same transactions: they need defining only when
    // the ledger was just created or upgraded, or a view lacks the configured columns.
    if (!this.deps.setUpByFirstRun || (shape.current && (await this.viewsHaveColumns()))) return ledger;
    await this.defineViews(ledger);
    // The views' version moved: what follows is built from the ledger as it is now.
    return readLedger(this.deps.warehouse, this.sql);
  }

  /** Whether every union view exists with the configured columns. */
  private async viewsHaveColumns(): Promise<boolean> {
    const existing = await this.deps.warehouse.query(this.sql.catalogQuery('views'), 'setup.views.columns');
    return this.tables.every((t) => this.sameViewColumns(t, existing));
  }

  /**
   * Advances the unfinished run, if there is one; never starts a run. What a completion event of
   * one of the run's statements does.
   * @param failed - the run's commit that failed after the invocation that sent it stopped
   *   waiting: it gets the same rule as one that fails while waited for (retried, exported again,
   *   or the run fails), then the run goes on
   * A refusal (a check before anything is written, or bad input met on the way) is recorded as
   * the run's error, as a failure is: no operator watches an event-driven resume, and `status`
   * must say why the run stopped.
   * @returns undefined when there is no unfinished run (a stale or repeated event)
   */
  async resume(failed?: CommitFailure): Promise<RunReport | undefined> {
    const read = await this.inspect();
    const active = read.ledger.active;
    if (!active) return undefined;
    let ledger: LedgerView;
    try {
      ledger = await this.ready(await this.checked({ archive: 'all' }, read));
      await this.ensureTables();
    } catch (error) {
      if (!(error instanceof StillRunningError)) await this.record(active.runId, message(error));
      throw error;
    }
    try {
      return await this.advance(ledger.active as RunRecord, true, ledger, false, failed);
    } catch (error) {
      // advance records every other failure itself
      if (error instanceof InputError) await this.record(active.runId, message(error));
      throw error;
    }
  }

  /**
   * Records why a run stopped (a statement that failed, or outlived its invocation, outside this
   * process): the run `runId` names, or else the unfinished one.
   * @returns the run the reason was recorded for; undefined when no run is unfinished
   */
  async recordFailure(reason: string, runId?: string): Promise<Pick<RunRecord, 'runId'> | undefined> {
    const run = runId === undefined ? (await this.read()).active : { runId };
    if (run)
      await this.deps.warehouse.execute(this.sql.recordFailure(run.runId, reason), `${run.runId}.failed`);
    return run;
  }

  private async start(
    target: RunTarget,
    planned: readonly PlannedBatch[],
    before: LedgerView,
  ): Promise<LedgerView> {
    const statements = this.sql.startTransaction(target.runId, target.cutoff, planned, this.now());
    try {
      await this.deps.warehouse.transaction(statements, `${target.runId}.start`);
    } catch (error) {
      if (error instanceof StillRunningError) throw error;
      await this.explainStartFailure(target, before, error);
    }
    const after = await readLedger(this.deps.warehouse, this.sql);
    const batches = new Set(planned.filter((p) => p.rows > 0).map((p) => `${p.table.alias}/${p.year}`));
    this.emit({
      phase: 'start',
      runId: target.runId,
      rows: sum(planned, (p) => p.rows),
      message: `run started: cutoff ${target.cutoff}, ${batchOrder(this.deps.config, after.batchesOf(target.runId)).length} batches (${batches.size} table-years with rows)`,
    });
    return after;
  }

  /**
   * After a failed start: it may have committed before the error reached us (then go on), or
   * lost the lock to a run that started at the same time. Some engines fail at once on the lock
   * instead of waiting for the other transaction, so the rival may take a moment to appear.
   */
  private async explainStartFailure(target: RunTarget, before: LedgerView, error: unknown): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const after = await readLedger(this.deps.warehouse, this.sql);
      if (after.active?.runId === target.runId) return;
      const rival = after.runs.find((r) => r.runId !== target.runId && !before.run(r.runId));
      if (rival) throw new RunBusyError(rival);
      if (attempt === START_CHECKS) {
        throw new RunFailedError(`run ${target.runId} failed to start, nothing changed: ${message(error)}`);
      }
      await (this.deps.sleep ?? delay)(100 * 2 ** attempt);
    }
  }

  /**
   * Takes the run batch by batch, oldest year first, then finishes it. A failure records its
   * reason in the ledger and leaves every row in exactly one visible place.
   */
  private async advance(
    start: RunRecord,
    resumed: boolean,
    read: LedgerView,
    explicit: boolean,
    failed?: CommitFailure,
  ): Promise<RunReport> {
    if (resumed) {
      this.emit({
        phase: 'start',
        runId: start.runId,
        message: `resuming run ${start.runId} (cutoff ${start.cutoff})`,
      });
    }
    let ledger = read;
    let where = 'start';
    let failure = failed;
    let taken = 0;
    try {
      for (;;) {
        const run = ledger.run(start.runId) as RunRecord;
        if (run.state === 'finished' || run.state === 'aborted') {
          return runReport(this.tables, ledger, run, 'finished', resumed, [], this.prices);
        }
        const { order, n, next } = nextBatch(this.deps.config, ledger, run.runId);
        ledger = await this.mark(
          run,
          ledger,
          next,
          taken > 0 && next !== undefined && this.timeIsShort(ledger, run),
        );
        if (!next) {
          where = 'finish';
          return await this.finish(run, ledger, resumed);
        }
        where = `${next.family[0].alias} ${next.year}`;
        this.emit(batchProgress(ledger, run, { n: n + 1, total: order.length, name: where }, this.now()));
        const key = batchKey(run, ledger, next.family[0], next.year);
        ledger = await this.checkAttempts(key, next.family, ledger, explicit);
        // A failed commit belongs to the first batch taken: the one it was sent for.
        await this.steps.process(key, next.family, ledger, failure);
        taken += 1;
        failure = undefined;
        ledger = await readLedger(this.deps.warehouse, this.sql);
      }
    } catch (error) {
      if (error instanceof InputError || error instanceof StillRunningError) throw error;
      return this.fail(start.runId, `run ${start.runId} failed at ${where}: ${message(error)}`, error);
    }
  }

  /**
   * ONE statement marks, at the engine's instant, the end of the run's batches whose commit has
   * ended since the last mark, and the start of the batch it takes next (once: a resume keeps the
   * first start). Batches begun by an earlier version, which recorded no start, get no end.
   * @returns the ledger as the mark leaves it
   */
  private async mark(
    run: RunRecord,
    ledger: LedgerView,
    next: { family: TableConfig[]; year: number } | undefined,
    handOver: boolean,
  ): Promise<LedgerView> {
    const parts = ledger.batchesOf(run.runId);
    const ended = batchOrder(
      this.deps.config,
      parts.filter((b) => b.committed && b.startedAt !== null && b.endedAt === null),
    );
    const begun =
      next &&
      next.family.every((t) => (ledger.batch(run.runId, t.alias, next.year)?.startedAt ?? null) === null)
        ? next
        : undefined;
    if (ended.length === 0 && !begun) return ledger;
    const at = this.now();
    const sql = this.sql.markBatches(run.runId, at, {
      ended: ended.map((e) => ({ family: e.family[0], year: e.year })),
      ...(begun ? { begun: { family: begun.family[0], year: begun.year } } : {}),
    });
    const { warehouse } = this.deps;
    // The mark is the last statement of this invocation: its completion event starts the next.
    if (handOver && warehouse.handOver) await warehouse.handOver(sql, `${run.runId}.mark`);
    await warehouse.execute(sql, `${run.runId}.mark`);
    return ledger.withEnded(
      run.runId,
      ended.map((e) => ({ family: e.family[0].alias, year: e.year })),
      at,
    );
  }

  /**
   * Whether this invocation should leave the next batch to a fresh one: less time is left than
   * {@link HAND_OVER_MS}, or than the longest batch of the run so far.
   */
  private timeIsShort(ledger: LedgerView, run: RunRecord): boolean {
    const remaining = this.deps.remainingMs?.();
    if (remaining === undefined) return false;
    const longest = Math.max(
      HAND_OVER_MS,
      ...ledger.batchesOf(run.runId).map((b) => between(b.startedAt, b.endedAt) ?? 0),
    );
    return remaining < longest;
  }

  /** Records why the run failed (when the warehouse answers) and throws the operator's message. */
  private async fail(runId: string, reason: string, cause: unknown): Promise<never> {
    await this.record(runId, reason);
    throw new RunFailedError(
      `${reason}\nEvery row is still in exactly one visible place; run again to resume, or abort.`,
      { cause },
    );
  }

  /** Records why the run stopped, when the warehouse answers. */
  private async record(runId: string, reason: string): Promise<void> {
    try {
      await this.deps.warehouse.execute(this.sql.recordFailure(runId, reason), `${runId}.failed`);
    } catch {
      // The warehouse is unreachable; the ledger's state is still right, only the reason is lost.
    }
  }

  /**
   * A batch whose commit check failed `maxAttempts` times stops the run. An explicit `run` (an
   * operator, the yearly schedule) gives it a fresh set of attempts; a completion event does not.
   */
  private async checkAttempts(
    key: BatchKey,
    family: readonly TableConfig[],
    ledger: LedgerView,
    explicit: boolean,
  ): Promise<LedgerView> {
    const records = family.flatMap((t) => ledger.batch(key.runId, t.alias, key.year) ?? []);
    const attempt = Math.max(...records.map((r) => r.attempt));
    if (attempt <= this.deps.config.maxAttempts) return ledger;
    const last = records.find((r) => r.error)?.error ?? 'no reason recorded';
    if (!explicit) {
      throw new RunFailedError(
        `${family[0].alias} ${key.year}: the commit check failed ${attempt - 1} times (maxAttempts ${this.deps.config.maxAttempts}); ${last}`,
      );
    }
    await this.deps.warehouse.execute(
      this.sql.resetAttempts(key, family),
      `${key.runId}.retry.${family[0].alias}.${key.year}`,
    );
    return readLedger(this.deps.warehouse, this.sql);
  }

  /**
   * Ends the run: its report goes to the lake (again, if a crash came before the end), then ONE
   * transaction releases the lock (and finishes a v1 run's stage tables); space is reclaimed
   * last, outside any transaction. A VACUUM that outlasts the invocation is left to finish on its
   * own: nothing waits for it.
   */
  private async finish(run: RunRecord, ledger: LedgerView, resumed: boolean): Promise<RunReport> {
    const at = this.now();
    const finished = { ...run, state: 'finished' as const, endedAt: at.toISOString() };
    const report = runReport(this.tables, ledger, finished, 'finished', resumed, [], this.prices);
    const reportLocation = await this.deps.lake.writeReport(run.runId, report);
    const legacy =
      ledger.stageRunId === run.runId
        ? { version: ledger.version, views: (t: TableConfig) => ({ committed: ledger.committed(t.alias) }) }
        : undefined;
    await this.deps.warehouse.transaction(
      this.sql.finishTransaction(run.runId, at, legacy),
      `${run.runId}.finish`,
    );
    this.emit({
      phase: 'finish',
      runId: run.runId,
      message: `run finished; report written to ${reportLocation}`,
    });
    const warnings = await this.maintain(run);
    return { ...report, warnings, reportLocation };
  }

  private async maintain(run: RunRecord): Promise<string[]> {
    const warnings: string[] = [];
    if (!this.deps.config.maintenance.vacuum) return warnings;
    for (const statement of this.sql.maintenanceStatements()) {
      try {
        await this.deps.warehouse.execute(statement, `${run.runId}.maintenance`);
      } catch (error) {
        // Space is reclaimed by the next maintenance (Redshift also vacuums deletes in the
        // background); the archive itself is complete.
        warnings.push(`maintenance skipped (${statement}): ${message(error)}`);
        if (error instanceof StillRunningError) break;
      }
    }
    this.emit({
      phase: 'finish',
      runId: run.runId,
      message: warnings.length ? warnings.join('; ') : 'space reclaimed',
    });
    return warnings;
  }

  /**
   * Read only: is every committed batch still in the lake and the catalog as the ledger recorded
   * it (and, when `deep`, does it read back with the recorded rows and checksum)?
   */
  async audit(deep: boolean): Promise<AuditReport> {
    return audit(this.deps, this.sql, await this.read(), deep);
  }

  /** Read only: the ledger as it is, empty when it does not exist yet. */
  private async read(): Promise<LedgerView> {
    return (await this.inspect()).ledger;
  }

  /** Puts an archive year back into the hot tables: the inverse of its commits (see `restore.ts`). */
  async restore(request: RestoreRequest): Promise<RestoreReport> {
    restoredFamilies(this.deps.config, request);
    const checked = await this.checked({ archive: 'all' });
    return restore(
      { ...this.deps, emit: (event) => this.emit(event) },
      this.sql,
      checked.ledger.exists ? await this.ready(checked) : checked.ledger,
      request,
    );
  }

  /** Read only: the ledger's runs and what each moved. */
  async status(): Promise<StatusReport> {
    const { shape, ledger } = await this.inspect();
    return statusReport(
      ledger,
      this.deps.config.ledger.schema,
      this.deps.setUpByFirstRun ? 'first run' : 'deployment',
      restoreRecords(await readRestoreChecks(this.deps.warehouse, this.sql, shape)),
      this.now(),
    );
  }

  /**
   * Ends the unfinished run: its batches that are not committed are discarded (ONE transaction),
   * then their partitions and files go. Committed batches are history and stay. Also clears
   * what an earlier abort left behind. The catalog is read before the transaction, so one that
   * cannot be read refuses the abort with nothing changed; a failure after it says that the run
   * was aborted, and that `abort` again removes what is left.
   * @returns the aborted run, or undefined when there was nothing to abort
   * @throws RunFailedError (never an input error) when the clean-up after the transaction fails
   */
  async abort(): Promise<RunRecord | undefined> {
    // No schema guard: abort moves no row, and it must work when a column changed mid-run. It
    // reads no view either (the ones it would redefine may not be readable).
    const checked = await this.checked({ guard: false, archive: 'all' });
    if (!checked.ledger.exists) return undefined;
    const ledger = await this.ready(checked);
    const active = ledger.active;
    if (active && ledger.stageRunId === active.runId) {
      throw new InputError(
        `abort: run ${active.runId} was started by protocol v1 and holds rows in its stage tables; allowed: run, which finishes it`,
      );
    }
    const leftovers = (view: LedgerView) =>
      view.runs
        .filter((r) => r.state === 'aborted' || r.runId === active?.runId)
        // A batch of a year the layout cannot hold (an earlier version planned one) has no files.
        .flatMap((r) => view.batchesOf(r.runId).filter((b) => !b.committed && isLayoutYear(b.year)));
    // What the clean-up will read, read first: the abort must not commit and then fail on it.
    for (const table of new Set(leftovers(ledger).map((b) => b.table.toLowerCase())))
      await this.deps.catalog.partitions(table);
    if (active) await this.discard(active, ledger);
    try {
      const after = await readLedger(this.deps.warehouse, this.sql);
      for (const b of leftovers(after).filter((x) => x.state === 'discarded')) {
        await this.deps.catalog.removePartitions(b.table, b.runId, b.year);
        await this.deps.lake.clear(this.deps.lake.batchRoot(b.table, b.year, b.runId));
      }
    } catch (error) {
      if (error instanceof StillRunningError) throw error;
      const done = active
        ? `run ${active.runId} was aborted: its uncommitted batches are discarded (their rows were never deleted, and no view reads them)`
        : 'the discarded batches of aborted runs stay discarded (no view reads them)';
      throw new RunFailedError(
        `${done}; removing their partitions and files then failed: ${message(error).replace(/; nothing was changed$/, '')}\n` +
          'Fix that, then run `redshift-archive abort` again (on AWS: invoke {"action": "abort"}), which removes what is left.',
        { cause: error },
      );
    }
    return active && { ...active, state: 'aborted' };
  }

  /** The abort's transaction: the unfinished run's uncommitted batches discarded, the run ended. */
  private async discard(active: RunRecord, read: LedgerView): Promise<void> {
    let ledger = read;
    for (let attempt = 1; ; attempt++) {
      const uncommitted = ledger
        .batchesOf(active.runId)
        .filter((b) => !b.committed)
        .map((b) => ({
          table: this.tables.find((t) => t.alias.toLowerCase() === b.table.toLowerCase()) as TableConfig,
          year: b.year,
        }))
        .filter((b) => b.table);
      try {
        await this.deps.warehouse.transaction(
          this.sql.abortTransaction(active.runId, uncommitted, ledger.version, this.now()),
          `${active.runId}.abort`,
        );
        break;
      } catch (error) {
        const after = await readLedger(this.deps.warehouse, this.sql);
        if (
          attempt >= VIEW_RETRIES ||
          after.version === ledger.version ||
          after.active?.runId !== active.runId
        )
          throw error;
        ledger = after;
      }
    }
    this.emit({
      phase: 'abort',
      runId: active.runId,
      message: 'uncommitted batches discarded; committed ones stay',
    });
  }
}
