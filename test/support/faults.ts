import type { ArchiveDeps } from '../../src/protocol/archive';
import type { Catalog, Lake, Warehouse } from '../../src/protocol/ports';

/** What a process that died mid-run looks like to the code that was running. */
export class CrashError extends Error {
  override readonly name = 'CrashError';
}

/** What a run that was crashed rejects with: the crash itself, or the failure it caused. */
export const CRASHED = /crash (before|after)|process is gone/;

/** Where to crash: before or after the call with this index (0-based, over all ports), or the first whose label starts so. */
export interface CrashPoint {
  readonly at: number | string;
  readonly when: 'before' | 'after';
}

/**
 * Wraps the three ports so that every call is counted and named, a crash can be injected before
 * or after any one of them (after which every call fails, as in a dead process), and a test can
 * act between two calls (another session inserting rows, say).
 */
export class Faults {
  readonly calls: string[] = [];
  private crashed = false;

  constructor(
    private readonly crash?: CrashPoint,
    private readonly between?: (label: string, index: number) => Promise<void>,
  ) {}

  private async call<T>(label: string, run: () => Promise<T>): Promise<T> {
    const index = this.calls.length;
    this.calls.push(label);
    if (this.crashed) throw new CrashError(`process is gone (${label})`);
    const at = this.crash?.at;
    const here = at === index || (typeof at === 'string' && label.startsWith(at));
    if (here && this.crash?.when === 'before') {
      this.crashed = true;
      throw new CrashError(`crash before ${label}`);
    }
    const result = await run();
    if (here && this.crash?.when === 'after') {
      this.crashed = true;
      throw new CrashError(`crash after ${label}`);
    }
    await this.between?.(label, index);
    return result;
  }

  /** The ports of `deps`, wrapped. */
  wrap = (deps: ArchiveDeps): ArchiveDeps => {
    const { warehouse: w, lake: l, catalog: c } = deps;
    const warehouse: Warehouse = {
      dialect: w.dialect,
      query: (sql, step) => this.call(`query ${step}`, () => w.query(sql, step)),
      execute: (sql, step, options) =>
        this.call(`execute ${step}: ${sql.slice(0, 40)}`, () => w.execute(sql, step, options)),
      transaction: (sqls, step, options) =>
        this.call(`transaction ${step}`, () => w.transaction(sqls, step, options)),
    };
    const short = (location: string) => location.split('/').slice(-4).join('/');
    const lake: Lake = {
      root: l.root,
      batchRoot: (table, year, runId) => l.batchRoot(table, year, runId),
      legacyRunLocation: (table, runId) => l.legacyRunLocation(table, runId),
      clear: (location) => this.call(`lake.clear ${short(location)}`, () => l.clear(location)),
      readManifest: (location) =>
        this.call(`lake.manifest ${short(location)}`, () => l.readManifest(location)),
      listFiles: (location) => this.call(`query lake.list ${short(location)}`, () => l.listFiles(location)),
      writeReport: (runId, report) => this.call(`lake.report ${runId}`, () => l.writeReport(runId, report)),
    };
    const catalog: Catalog = {
      where: c.where,
      ...(c.recreate
        ? { recreate: () => this.call('catalog.recreate', () => (c.recreate as () => Promise<void>)()) }
        : {}),
      ensureTable: (table) => this.call(`catalog.ensure ${table}`, () => c.ensureTable(table)),
      tableColumns: (table) => this.call(`query catalog.columns ${table}`, () => c.tableColumns(table)),
      partitions: (table) => this.call(`query catalog.partitions ${table}`, () => c.partitions(table)),
      addPartition: (table, p) => this.call(`catalog.add ${table} ${p.year}`, () => c.addPartition(table, p)),
      removePartitions: (table, runId, year) =>
        this.call(`catalog.remove ${table} ${year ?? ''}`.trim(), () =>
          c.removePartitions(table, runId, year),
        ),
    };
    return { ...deps, warehouse, lake, catalog };
  };
}
