import type { TableConfig } from '../config/config';
import { ArchiveSql } from '../sql/statements';
import { audit, type AuditDeps, type AuditReport } from './audit';
import {
  inspectLedger,
  nextBatch,
  readLedger,
  readRestoreChecks,
  type BatchRecord,
  type LedgerShape,
  type LedgerView,
  type RunRecord,
} from './ledger';
import {
  batchProgress,
  restoreRecords,
  runReport,
  statusReport,
  type ProgressEvent,
  type RunReport,
  type StatusReport,
} from './report';
import { pricesOf } from '../config/prices';

/** A run as the ledger has it now: its record, its report so far and its batches. */
export interface RunState {
  readonly run: RunRecord;
  readonly report: RunReport;
  readonly batches: readonly BatchRecord[];
  /** The batch it takes now (`batch n of N`, elapsed, an estimate of what is left); none once all are committed. */
  readonly progress?: ProgressEvent;
}

/**
 * The ledger and the archive read with someone else's credentials: the operator's, from the
 * command line's AWS mode, while the deployed function does the writing. Unlike `Archiver`, it
 * sends no statement that writes, not even the ledger's idempotent setup or the take-over of a
 * protocol v1 run (the function does both), so a read-only database user is enough.
 */
export class ArchiveReader {
  private readonly sql: ArchiveSql;

  constructor(private readonly deps: AuditDeps) {
    this.sql = new ArchiveSql(deps.config, deps.warehouse.dialect);
  }

  private get tables(): TableConfig[] {
    return this.sql.tables;
  }

  /** The ledger's runs and what each moved, and the restores; durations of unfinished runs up to `now`. */
  async status(now: Date): Promise<StatusReport> {
    const shape = (this.shape ??= await inspectLedger(this.deps.warehouse, this.sql));
    const ledger = await this.ledger();
    return statusReport(
      ledger,
      this.deps.config.ledger.schema,
      // The function's ledger: the stack's deployment creates it.
      'deployment',
      restoreRecords(await readRestoreChecks(this.deps.warehouse, this.sql, shape)),
      now,
    );
  }

  /** See `Archiver.audit`. */
  async audit(deep: boolean): Promise<AuditReport> {
    return audit(this.deps, this.sql, await this.ledger(), deep);
  }

  /**
   * The ledger as the function left it: its shape is read once, so a ledger that the deployed
   * function has not set up, or not upgraded to this version's columns, reads all the same.
   */
  private async ledger(): Promise<LedgerView> {
    this.shape ??= await inspectLedger(this.deps.warehouse, this.sql);
    return readLedger(this.deps.warehouse, this.sql, this.shape);
  }

  private shape?: LedgerShape;

  /**
   * One run (the unfinished one when `runId` is undefined) and its batches, for following a run
   * that the function drives; where it stands, with the time up to `now`.
   * @returns undefined when there is no such run
   */
  async runState(runId: string | undefined, now: Date): Promise<RunState | undefined> {
    const ledger = await this.ledger();
    const run = runId === undefined ? ledger.active : ledger.run(runId);
    if (!run) return undefined;
    const { order, n, next } = nextBatch(this.deps.config, ledger, run.runId);
    return {
      run,
      report: runReport(this.tables, ledger, run, 'finished', false, [], pricesOf(this.deps.config)),
      batches: ledger.batchesOf(run.runId),
      ...(next && run.state === 'running'
        ? {
            progress: batchProgress(
              ledger,
              run,
              { n: n + 1, total: order.length, name: `${next.family[0].alias} ${next.year}` },
              now,
            ),
          }
        : {}),
    };
  }
}
