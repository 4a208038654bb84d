import type { TableConfig } from '../config/config';
import { ArchiveSql } from '../sql/statements';
import { audit, type AuditDeps, type AuditReport } from './audit';
import {
  inspectLedger,
  readLedger,
  type BatchRecord,
  type LedgerShape,
  type LedgerView,
  type RunRecord,
} from './ledger';
import { runReport, statusReport, type RunReport, type StatusReport } from './report';

/** A run as the ledger has it now: its record, its report so far and its batches. */
export interface RunState {
  readonly run: RunRecord;
  readonly report: RunReport;
  readonly batches: readonly BatchRecord[];
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

  /** The ledger's runs and what each moved. */
  async status(): Promise<StatusReport> {
    // The function's ledger: the stack's deployment creates it.
    return statusReport(await this.ledger(), this.deps.config.ledger.schema, 'deployment');
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
   * that the function drives.
   * @returns undefined when there is no such run
   */
  async runState(runId?: string): Promise<RunState | undefined> {
    const ledger = await this.ledger();
    const run = runId === undefined ? ledger.active : ledger.run(runId);
    if (!run) return undefined;
    return {
      run,
      report: runReport(this.tables, ledger, run, 'finished', false, []),
      batches: ledger.batchesOf(run.runId),
    };
  }
}
