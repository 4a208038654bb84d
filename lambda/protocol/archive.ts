import { ArchiveConfig, isRootTable, PARTITION_KEYS, TableConfig } from '../config/config';
import type { RunTarget } from '../core/cutoff';
import { InputError, RunFailedError, show, StillRunningError, VerificationError } from '../core/errors';
import { ArchiveSql } from '../sql/statements';
import { count, ExportRecord, LedgerView, readExports, readLedger, RunRecord } from './ledger';
import type { Catalog, Lake, Manifest, Row, Warehouse } from './ports';

/** The phases of DESIGN section 1, plus the commands around them. */
export type Phase = 'setup' | 'plan' | 'stage' | 'export' | 'verify' | 'publish' | 'finish' | 'abort';

/** One line of progress: a phase, optionally one table, and its figures. */
export interface ProgressEvent {
  readonly phase: Phase;
  readonly runId?: string;
  readonly table?: string;
  readonly message: string;
  readonly rows?: number;
  readonly files?: number;
  readonly bytes?: number;
}

/** What the protocol needs; the engine is whatever implements the ports. */
export interface ArchiveDeps {
  readonly config: ArchiveConfig;
  readonly warehouse: Warehouse;
  readonly lake: Lake;
  readonly catalog: Catalog;
  /** Receives one event per phase and table. */
  readonly progress?: (event: ProgressEvent) => void;
  /** Waits between attempts of the stage transaction (tests pass a fake). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Ledger reads after a failed stage transaction, looking for a run that started at the same time. */
const STAGE_CHECKS = 4;

/** Rows of one table and year. */
export interface YearFigures {
  readonly year: number;
  readonly rows: number;
}

/** Rows, files and bytes of one table and year of a run. */
export interface YearReport extends YearFigures {
  readonly files: number;
  readonly bytes: number;
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
  }[];
  readonly rows: number;
  /** An unfinished run that a `run` would resume instead of starting this one. */
  readonly activeRun?: string;
  readonly statements: readonly {
    readonly phase: Phase;
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
  readonly location: string | null;
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
  readonly warnings: readonly string[];
  /** Where the JSON report was written in the lake. */
  readonly reportLocation?: string;
}

/** The ledger, for `status`. */
export interface StatusReport {
  readonly active?: RunRecord;
  readonly runs: readonly (RunRecord & { readonly rows: number })[];
}

/** A second run that lost the lock to a run started at the same time, and changed nothing. */
export class RunBusyError extends RunFailedError {
  constructor(readonly active: RunRecord) {
    super(
      `run ${active.runId} (cutoff ${active.cutoff}) is active (${active.state}); this invocation changed nothing`,
    );
  }
}

/**
 * The archive protocol of DESIGN section 1, once, for every engine. Each phase reads the ledger
 * to know where the run stands, so any invocation can resume any run after a crash anywhere.
 */
export class Archiver {
  private readonly sql: ArchiveSql;
  private readonly tables: TableConfig[];

  constructor(private readonly deps: ArchiveDeps) {
    this.sql = new ArchiveSql(deps.config, deps.warehouse.dialect);
    this.tables = this.sql.tables;
  }

  private emit(event: ProgressEvent): void {
    this.deps.progress?.(event);
  }

  /**
   * Idempotent: schemas, ledger tables, external tables and union views as the ledger says
   * they should be. What the custom resource does at deploy time.
   */
  async setup(): Promise<void> {
    await this.prepare();
    const ledger = await readLedger(this.deps.warehouse, this.sql);
    const active = ledger.active;
    const stageRunId = active && active.state !== 'published' ? active.runId : undefined;
    await this.deps.warehouse.transaction(
      this.tables.flatMap((t) =>
        this.sql.viewStatements(t, { stageRunId, publishedRuns: ledger.publishedRuns(t.name) }),
      ),
      'setup.views',
    );
    this.emit({ phase: 'setup', message: `views defined for ${this.tables.length} tables` });
  }

  private async prepare(): Promise<void> {
    await this.deps.warehouse.transaction(this.sql.setupStatements(), 'setup.ledger');
    for (const table of this.tables) await this.deps.catalog.ensureTable(table.name);
  }

  /** Read only: what a run with this target would move, and the SQL it would send. */
  async plan(target: RunTarget, ledger?: LedgerView): Promise<PlanReport> {
    ledger ??= await readLedger(this.deps.warehouse, this.sql);
    const read = ledger;
    const tables = [];
    for (const table of this.tables) {
      const rows = await this.deps.warehouse.query(
        this.sql.planQuery(table, target.cutoff),
        `plan.${table.name}`,
      );
      const years = rows.map((r) => ({ year: count(r.year), rows: count(r.row_count) }));
      const total = years.reduce((sum, y) => sum + y.rows, 0);
      const nullRows = isRootTable(table)
        ? count(
            (await this.deps.warehouse.query(this.sql.nullRowsQuery(table), `plan.${table.name}.nulls`))[0]
              .row_count,
          )
        : undefined;
      tables.push({ table: table.name, rows: total, years, ...(nullRows === undefined ? {} : { nullRows }) });
      this.emit({
        phase: 'plan',
        table: table.name,
        rows: total,
        message: `rows older than ${target.cutoff}`,
      });
    }
    const published = (t: TableConfig) => read.publishedRuns(t.name);
    const withRun = (t: TableConfig) => read.publishedRuns(t.name).concat(target.runId);
    return {
      runId: target.runId,
      cutoff: target.cutoff,
      tables,
      rows: tables.reduce((sum, t) => sum + t.rows, 0),
      ...(ledger.active ? { activeRun: ledger.active.runId } : {}),
      statements: [
        {
          phase: 'stage',
          transactional: true,
          sql: this.sql.stageTransaction(target.runId, target.cutoff, published),
        },
        {
          phase: 'export',
          transactional: false,
          sql: this.tables.flatMap((t) =>
            this.sql.unloadStatements(t, target.runId, this.deps.lake.runLocation(t.name, target.runId)),
          ),
        },
        { phase: 'publish', transactional: true, sql: this.sql.publishTransaction(target.runId, withRun) },
        { phase: 'finish', transactional: false, sql: this.maintenance() },
        { phase: 'finish', transactional: true, sql: this.sql.finishTransaction(target.runId) },
      ],
    };
  }

  private maintenance(): string[] {
    return this.deps.config.maintenance.vacuum ? this.sql.maintenanceStatements() : [];
  }

  /**
   * Resumes the unfinished run if there is one; otherwise starts `target` if it has rows to move.
   * @throws RunBusyError when another invocation started a run at the same time
   * @throws RunFailedError when a phase fails; the ledger records why, and the data is safe
   */
  async run(target: RunTarget): Promise<RunReport> {
    await this.prepare();
    const ledger = await readLedger(this.deps.warehouse, this.sql);
    const resumed = await this.resume(ledger);
    if (resumed) return resumed;
    const done = ledger.run(target.runId);
    if (done) return this.report(ledger, done, 'already-done', false, []);
    const plan = await this.plan(target, ledger);
    if (plan.rows === 0) return this.emptyReport(target);
    const staged = await this.stage(target, ledger);
    return this.advance(staged.run(target.runId) as RunRecord, false, staged);
  }

  /**
   * Advances the unfinished run, if there is one; never starts a run. What a completion event of
   * one of the run's statements does.
   * @returns undefined when there is no unfinished run (a stale or repeated event)
   */
  async resume(read?: LedgerView): Promise<RunReport | undefined> {
    const ledger = read ?? (await readLedger(this.deps.warehouse, this.sql));
    const active = ledger.active;
    if (!active) return undefined;
    this.emit({
      phase: 'stage',
      runId: active.runId,
      message: `resuming run ${active.runId} (${active.state})`,
    });
    return this.advance(active, true, ledger);
  }

  /** Records why the unfinished run stopped (a statement that failed outside this process). */
  async recordFailure(reason: string): Promise<RunRecord | undefined> {
    const active = (await readLedger(this.deps.warehouse, this.sql)).active;
    if (active)
      await this.deps.warehouse.execute(
        this.sql.recordFailure(active.runId, reason),
        `${active.runId}.failed`,
      );
    return active;
  }

  private async stage(target: RunTarget, ledger: LedgerView): Promise<LedgerView> {
    const statements = this.sql.stageTransaction(target.runId, target.cutoff, (t) =>
      ledger.publishedRuns(t.name),
    );
    try {
      await this.deps.warehouse.transaction(statements, `${target.runId}.stage`);
    } catch (error) {
      if (error instanceof StillRunningError) throw error;
      await this.explainStageFailure(target, ledger, error);
    }
    const after = await readLedger(this.deps.warehouse, this.sql);
    for (const table of this.tables) {
      const rows = after.yearsOf(target.runId, table.name).reduce((sum, y) => sum + y.rows, 0);
      this.emit({
        phase: 'stage',
        runId: target.runId,
        table: table.name,
        rows,
        message: `${rows} rows staged`,
      });
    }
    return after;
  }

  /**
   * After a failed stage transaction: it may have committed before the error reached us (then
   * go on), or lost the lock to a run that started at the same time. Some engines fail at once
   * on the lock instead of waiting for the other transaction, so the rival may take a moment to
   * appear in the ledger.
   */
  private async explainStageFailure(target: RunTarget, before: LedgerView, error: unknown): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const after = await readLedger(this.deps.warehouse, this.sql);
      if (after.active?.runId === target.runId) return;
      const rival = after.runs.find((r) => r.runId !== target.runId && !before.run(r.runId));
      if (rival) throw new RunBusyError(rival);
      if (attempt === STAGE_CHECKS) {
        throw new RunFailedError(
          `run ${target.runId} failed in phase stage, nothing changed: ${message(error)}`,
        );
      }
      await (this.deps.sleep ?? delay)(100 * 2 ** attempt);
    }
  }

  private async advance(start: RunRecord, resumed: boolean, read: LedgerView): Promise<RunReport> {
    let run = start;
    let phase: Phase | undefined;
    const warnings: string[] = [];
    let reportLocation: string | undefined;
    let ledger = read;
    try {
      for (; ; ledger = await readLedger(this.deps.warehouse, this.sql)) {
        run = ledger.run(run.runId) as RunRecord;
        switch (run.state) {
          case 'staged':
            phase = 'export';
            await this.export(run, ledger);
            phase = 'verify';
            await this.verify(run, ledger);
            break;
          case 'verified':
            phase = 'publish';
            await this.publish(run, ledger);
            break;
          case 'published':
            phase = 'finish';
            reportLocation = await this.finish(run, ledger, warnings);
            break;
          default: {
            const report = await this.report(ledger, run, 'finished', resumed, warnings);
            return { ...report, ...(reportLocation ? { reportLocation } : {}) };
          }
        }
      }
    } catch (error) {
      if (error instanceof InputError || error instanceof StillRunningError) throw error;
      const reason = `run ${run.runId} failed in phase ${phase ?? 'export'}: ${message(error)}`;
      try {
        await this.deps.warehouse.execute(
          this.sql.recordFailure(run.runId, reason),
          `${run.runId}.${phase}.failed`,
        );
      } catch {
        // The warehouse is unreachable; the ledger's state is still right, only the reason is lost.
      }
      throw new RunFailedError(
        `${reason}\nEvery row is still in exactly one visible place; run again to resume, or abort.`,
        { cause: error },
      );
    }
  }

  private tablesWithRows(
    run: RunRecord,
    ledger: LedgerView,
  ): { table: TableConfig; rows: number; years: YearFigures[] }[] {
    return this.tables
      .map((table) => {
        const years = ledger.yearsOf(run.runId, table.name).map((y) => ({ year: y.year, rows: y.rows }));
        return { table, years, rows: years.reduce((sum, y) => sum + y.rows, 0) };
      })
      .filter((t) => t.rows > 0);
  }

  private async export(run: RunRecord, ledger: LedgerView): Promise<void> {
    const { warehouse, lake } = this.deps;
    const done = new Set(
      (await readExports(warehouse, this.sql, run.runId)).map((e) => e.table.toLowerCase()),
    );
    for (const { table } of this.tablesWithRows(run, ledger)) {
      if (done.has(table.name.toLowerCase())) continue;
      const step = `${run.runId}.export.${table.name}`;
      const location = lake.runLocation(table.name, run.runId);
      // An export that completed after an earlier invocation stopped waiting for it left its
      // manifest: it is recorded, not redone (nothing of this run is running now, and verify
      // reads it all back). Otherwise a retry starts from an empty prefix of this run alone.
      let manifest = await lake.readManifest(location);
      if (!manifest) {
        await lake.clearRunLocation(location);
        for (const statement of this.sql.unloadStatements(table, run.runId, location)) {
          await warehouse.execute(statement, step);
        }
        manifest = await lake.readManifest(location);
      }
      if (!manifest)
        throw new VerificationError(`${table.name}: the export wrote no manifest under ${location}`);
      checkManifestLocations(manifest, location);
      const totals = { files: manifest.entries.length, bytes: sumOf(manifest, 'bytes'), rows: manifest.rows };
      await warehouse.execute(
        this.sql.recordExport(
          run.runId,
          table,
          location,
          totals,
          JSON.stringify(filesPerYear(manifest, location)),
        ),
        step,
      );
      this.emit({
        phase: 'export',
        runId: run.runId,
        table: table.name,
        rows: manifest.rows,
        files: manifest.entries.length,
        bytes: sumOf(manifest, 'bytes'),
        message: `exported to ${location}`,
      });
    }
  }

  /**
   * Reads each table's new partitions back through the external table and compares rows and
   * per-column checksums, year by year, with what the stage transaction recorded of the rows it
   * moved. Nothing is published unless every table matches.
   */
  private async verify(run: RunRecord, ledger: LedgerView): Promise<void> {
    const { warehouse, catalog } = this.deps;
    const exports = await readExports(warehouse, this.sql, run.runId);
    for (const { table, rows, years } of this.tablesWithRows(run, ledger)) {
      const step = `${run.runId}.verify.${table.name}`;
      const exported = exports.find((e) => e.table.toLowerCase() === table.name.toLowerCase());
      try {
        if (!exported) throw new VerificationError(`${table.name}: no export is recorded`);
        if (exported.rows !== rows) {
          throw new VerificationError(
            `${table.name}: the manifest lists ${exported.rows} rows; the run moved ${rows}`,
          );
        }
        await catalog.addPartitions(
          table.name,
          years.map((y) => ({
            year: y.year,
            runId: run.runId,
            location: `${exported.location}${PARTITION_KEYS.year}=${y.year}/`,
          })),
        );
        const archived = await warehouse.query(this.sql.archiveCheckQuery(table, run.runId), step);
        const figures = archived.map((r: Row) => ({ year: count(r.year), rows: count(r.row_count) }));
        expectSame(`${table.name}: rows per year read back through the external table`, figures, years);
        for (const moved of ledger.yearsOf(run.runId, table.name)) {
          const read = archived.find((r) => count(r.year) === moved.year)?.checksum ?? '';
          const differing = table.columns.filter(
            (_, i) => read.split('|')[i] !== moved.checksum.split('|')[i],
          );
          if (differing.length > 0) {
            throw new VerificationError(
              `${table.name}: ${moved.year}: the rows read back differ from the rows moved in ${differing.map((c) => c.name).join(', ')}`,
            );
          }
        }
        if (catalog.countRows) {
          const counted = await catalog.countRows(table.name, run.runId);
          expectSame(`${table.name}: rows per year counted through the catalog`, counted, years);
        }
        this.emit({
          phase: 'verify',
          runId: run.runId,
          table: table.name,
          rows,
          message: 'rows and checksums match',
        });
      } catch (error) {
        // The next attempt exports this table again instead of trusting files that did not match.
        if (!(error instanceof StillRunningError)) {
          await this.deps.lake.clearRunLocation(this.deps.lake.runLocation(table.name, run.runId));
          await warehouse.execute(this.sql.forgetExport(run.runId, table), step);
        }
        throw error;
      }
    }
    await warehouse.execute(this.sql.setState(run.runId, 'verified'), `${run.runId}.verify`);
  }

  private async publish(run: RunRecord, ledger: LedgerView): Promise<void> {
    await this.deps.warehouse.transaction(
      this.sql.publishTransaction(run.runId, (t) => ledger.publishedRuns(t.name, run.runId)),
      `${run.runId}.publish`,
    );
    this.emit({
      phase: 'publish',
      runId: run.runId,
      message: 'views read the new batch; stage tables dropped',
    });
  }

  private async finish(run: RunRecord, ledger: LedgerView, warnings: string[]): Promise<string> {
    for (const statement of this.maintenance()) {
      try {
        await this.deps.warehouse.execute(statement, `${run.runId}.finish.maintenance`);
      } catch (error) {
        if (error instanceof StillRunningError) throw error;
        // Space is reclaimed by the next maintenance; the archive itself is complete.
        warnings.push(`maintenance skipped (${statement}): ${message(error)}`);
      }
    }
    const report = await this.report(ledger, { ...run, state: 'finished' }, 'finished', false, warnings);
    const location = await this.deps.lake.writeReport(run.runId, report);
    await this.deps.warehouse.transaction(this.sql.finishTransaction(run.runId), `${run.runId}.finish`);
    this.emit({ phase: 'finish', runId: run.runId, message: `report written to ${location}` });
    return location;
  }

  /** The ledger's runs and what each moved. */
  async status(): Promise<StatusReport> {
    await this.prepare();
    const ledger = await readLedger(this.deps.warehouse, this.sql);
    return {
      ...(ledger.active ? { active: ledger.active } : {}),
      runs: ledger.runs.map((r) => ({
        ...r,
        rows: ledger.years.filter((y) => y.runId === r.runId).reduce((sum, y) => sum + y.rows, 0),
      })),
    };
  }

  /**
   * Moves the unfinished run's staged rows back into the hot tables (one transaction), then
   * removes its partitions and files. A published run is history and is refused.
   * @returns the aborted run, or undefined when there was nothing to abort
   */
  async abort(): Promise<RunRecord | undefined> {
    await this.prepare();
    const ledger = await readLedger(this.deps.warehouse, this.sql);
    const active = ledger.active;
    if (active?.state === 'published') {
      throw new InputError(
        `abort: run ${active.runId} is published and is not aborted; allowed: abort before publish. Run again to finish it.`,
      );
    }
    if (active) {
      await this.deps.warehouse.transaction(
        this.sql.abortTransaction(active.runId, (t) => ledger.publishedRuns(t.name)),
        `${active.runId}.abort`,
      );
      this.emit({ phase: 'abort', runId: active.runId, message: 'staged rows moved back to the hot tables' });
    }
    // Also clears what an earlier abort left behind if it stopped after its transaction.
    const aborted = ledger.runs.filter((r) => r.state === 'aborted' || r.runId === active?.runId);
    for (const run of aborted) {
      for (const table of this.tables) {
        await this.deps.catalog.removePartitions(table.name, run.runId);
        await this.deps.lake.clearRunLocation(this.deps.lake.runLocation(table.name, run.runId));
      }
    }
    return active && { ...active, state: 'aborted' };
  }

  private async report(
    ledger: LedgerView,
    run: RunRecord,
    outcome: Outcome,
    resumed: boolean,
    warnings: string[],
  ): Promise<RunReport> {
    const exports: ExportRecord[] = await readExports(this.deps.warehouse, this.sql, run.runId);
    const tables = this.tables.map((table): TableReport => {
      const exported = exports.find((e) => e.table.toLowerCase() === table.name.toLowerCase());
      const years = ledger.yearsOf(run.runId, table.name).map((y) => ({
        year: y.year,
        rows: y.rows,
        files: exported?.yearFiles[y.year]?.files ?? 0,
        bytes: exported?.yearFiles[y.year]?.bytes ?? 0,
      }));
      return {
        table: table.name,
        rows: years.reduce((sum, y) => sum + y.rows, 0),
        files: exported?.files ?? 0,
        bytes: exported?.bytes ?? 0,
        location: exported?.location ?? null,
        verified: years.length > 0 && ['verified', 'published', 'finished'].includes(run.state),
        years,
      };
    });
    return {
      outcome,
      runId: run.runId,
      cutoff: run.cutoff,
      state: run.state,
      resumed,
      tables,
      rows: tables.reduce((sum, t) => sum + t.rows, 0),
      files: tables.reduce((sum, t) => sum + t.files, 0),
      bytes: tables.reduce((sum, t) => sum + t.bytes, 0),
      warnings,
    };
  }

  private emptyReport(target: RunTarget): RunReport {
    this.emit({ phase: 'plan', message: `nothing older than ${target.cutoff} to archive` });
    return {
      outcome: 'nothing-to-do',
      runId: target.runId,
      cutoff: target.cutoff,
      state: 'none',
      resumed: false,
      tables: this.tables.map((t) => ({
        table: t.name,
        rows: 0,
        files: 0,
        bytes: 0,
        location: null,
        verified: false,
        years: [],
      })),
      rows: 0,
      files: 0,
      bytes: 0,
      warnings: [],
    };
  }
}

function sumOf(manifest: Manifest, key: 'bytes' | 'rows'): number {
  return manifest.entries.reduce((sum, e) => sum + e[key], 0);
}

function filesPerYear(
  manifest: Manifest,
  location: string,
): Record<string, { files: number; bytes: number }> {
  const years: Record<string, { files: number; bytes: number }> = {};
  const partition = new RegExp(`^${PARTITION_KEYS.year}=(\\d{4})/`);
  for (const entry of manifest.entries) {
    const year = partition.exec(entry.url.slice(location.length))?.[1];
    if (year === undefined)
      throw new VerificationError(`the manifest lists ${show(entry.url)}, outside any year partition`);
    years[year] = { files: (years[year]?.files ?? 0) + 1, bytes: (years[year]?.bytes ?? 0) + entry.bytes };
  }
  return years;
}

function checkManifestLocations(manifest: Manifest, location: string): void {
  const stray = manifest.entries.find((e) => !e.url.startsWith(location));
  if (stray)
    throw new VerificationError(
      `the manifest lists ${show(stray.url)}, outside the run location ${location}`,
    );
  if (sumOf(manifest, 'rows') !== manifest.rows) {
    throw new VerificationError(
      `the manifest's files hold ${sumOf(manifest, 'rows')} rows but it states ${manifest.rows}`,
    );
  }
}

function expectSame(what: string, actual: YearFigures[], expected: YearFigures[]): void {
  const render = (figures: YearFigures[]) => figures.map((f) => `${f.year}: ${f.rows}`).join(', ') || 'none';
  if (render(actual) !== render(expected)) {
    throw new VerificationError(`${what} are ${render(actual)}; the ledger says ${render(expected)}`);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
