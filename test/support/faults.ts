import type { ArchiveDeps } from '../../lambda/protocol/archive';
import type { Catalog, Lake, Warehouse } from '../../lambda/protocol/ports';

/** What a process that died mid-run looks like to the code that was running. */
export class CrashError extends Error {
  override readonly name = 'CrashError';
}

/** What a run that was crashed rejects with: the crash itself, or the failure it caused. */
export const CRASHED = /crash (before|after)|process is gone/;

/** Where to crash: before or after the call with this index (0-based, over all ports) or label. */
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
    const here = this.crash?.at === index || this.crash?.at === label;
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
      execute: (sql, step) => this.call(`execute ${step}: ${sql.slice(0, 40)}`, () => w.execute(sql, step)),
      transaction: (sqls, step) => this.call(`transaction ${step}`, () => w.transaction(sqls, step)),
    };
    const lake: Lake = {
      runLocation: (table, runId) => l.runLocation(table, runId),
      clearRunLocation: (location) =>
        this.call(`lake.clear ${location.split('/').slice(-3).join('/')}`, () =>
          l.clearRunLocation(location),
        ),
      readManifest: (location) =>
        this.call(`lake.manifest ${location.split('/').slice(-3).join('/')}`, () => l.readManifest(location)),
      writeReport: (runId, report) => this.call(`lake.report ${runId}`, () => l.writeReport(runId, report)),
    };
    const catalog: Catalog = {
      ensureTable: (table) => this.call(`catalog.ensure ${table}`, () => c.ensureTable(table)),
      addPartitions: (table, parts) => this.call(`catalog.add ${table}`, () => c.addPartitions(table, parts)),
      removePartitions: (table, runId) =>
        this.call(`catalog.remove ${table}`, () => c.removePartitions(table, runId)),
    };
    return { ...deps, warehouse, lake, catalog };
  };
}
