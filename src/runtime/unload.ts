import type { z } from 'zod';
import {
  MANUAL_ACTIONS,
  manualEvent,
  METRICS,
  scheduleEvent,
  statusChangeEvent,
  type ManualAction,
} from '../contract';
import { CalendarDate, isRunId, parseCalendarDate, runTarget } from '../core/cutoff';
import { InputError, RunFailedError, show, StillRunningError } from '../core/errors';
import { DescribedStatement, UnannouncedStatementError } from '../engines/aws/data-api-warehouse';
import { Archiver, PlanReport, RunReport, StatusReport } from '../protocol/archive';
import type { AuditReport, RestoreReport } from '../protocol/archive';
import type { PreflightReport } from '../protocol/preflight';
import type { AwsEngine } from '../engines/aws/engine';

/** The three kinds of event the unload Lambda accepts, validated. */
export type UnloadRequest =
  | { readonly kind: 'schedule'; readonly time: Date }
  | {
      readonly kind: 'statement';
      /** As the event names it; another stack's statement is dropped, not refused. */
      readonly statementName: string;
      readonly statementId: string;
      readonly state: 'FINISHED' | 'FAILED' | 'ABORTED';
    }
  | {
      readonly kind: 'manual';
      readonly action: ManualAction;
      readonly cutoff?: CalendarDate;
    };

type StatementRequest = Extract<UnloadRequest, { kind: 'statement' }>;

/** What an invocation did. */
export type UnloadOutcome =
  | { readonly outcome: 'run'; readonly report: RunReport }
  | { readonly outcome: 'plan'; readonly plan: PlanReport }
  | { readonly outcome: 'status'; readonly status: StatusReport }
  | { readonly outcome: 'preflight'; readonly preflight: PreflightReport }
  | { readonly outcome: 'aborted'; readonly runId: string | null }
  | { readonly outcome: 'audit'; readonly audit: AuditReport }
  | { readonly outcome: 'restored'; readonly restore: RestoreReport }
  | {
      readonly outcome: 'waiting';
      readonly statements: readonly { readonly id: string; readonly name: string }[];
    }
  /** A status-change event that is not a pending step of the active run: nothing was done. */
  | { readonly outcome: 'dropped'; readonly statementName: string; readonly reason: string };

const ALLOWED_EVENTS =
  'an EventBridge "Scheduled Event", a "Redshift Data Statement Status Change" event, ' +
  `or {"action": ${MANUAL_ACTIONS.map((a) => `"${a}"`).join(' | ')}, "cutoff"?: "YYYY-MM-DD"}`;

function refuse(event: unknown, why?: string): never {
  throw new InputError(
    `event: ${show(event)} is not allowed${why ? ` (${why})` : ''}; allowed: ${ALLOWED_EVENTS}`,
  );
}

/** The reason a custom check gave, if the failure is one of ours and not a shape mismatch. */
function why(error: z.ZodError, own: boolean): string | undefined {
  return own ? error.issues[0]?.message : undefined;
}

/** Validates an invocation's event; anything else is refused before anything runs. */
export function parseUnloadEvent(event: unknown): UnloadRequest {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) refuse(event);
  const e = event as Record<string, unknown>;
  if (e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event') {
    const parsed = scheduleEvent.safeParse(event);
    if (!parsed.success) refuse(event, why(parsed.error, true));
    return { kind: 'schedule', time: new Date(parsed.data.time) };
  }
  if (e.source === 'aws.redshift-data' && e['detail-type'] === 'Redshift Data Statement Status Change') {
    const parsed = statusChangeEvent.safeParse(event);
    if (!parsed.success) refuse(event, why(parsed.error, true));
    const { statementName, statementId, state } = parsed.data.detail;
    return { kind: 'statement', statementName, statementId, state };
  }
  const parsed = manualEvent.safeParse(event);
  if (!parsed.success) refuse(event, why(parsed.error, parsed.error.issues[0]?.code === 'custom'));
  const { action, cutoff } = parsed.data;
  return {
    kind: 'manual',
    action,
    ...(cutoff === undefined ? {} : { cutoff: parseCalendarDate(cutoff, 'cutoff') }),
  };
}

/** A status-change event's statement as the Data API describes it, or why the event is dropped. */
type Pending = { readonly statement: DescribedStatement } | { readonly drop: string };

/**
 * Whether a status-change event is a pending step of the active run, decided from the Data API
 * alone, before any SQL is sent.
 *
 * Statement names are `<stack prefix><run id>.<phase>...`, and one invocation runs at a time
 * (reserved concurrency 1). Whoever handles a statement's end (the invocation still waiting for
 * it, or the one its event starts) goes on with the run, and everything it sends for the run
 * carries the run id: the next read, export or commit, the ledger update after an export, the
 * recorded failure, the finish or the abort. So if the Data API lists a statement of the same run
 * created after the event's statement, the event's work was done (or is under way, by a
 * statement whose own event comes later): the event is stale, repeated or out of order. If it
 * lists none, nothing has handled the statement's end yet, and the event is the run's next step.
 */
async function pendingStep(request: StatementRequest, engine: AwsEngine): Promise<Pending> {
  const { warehouse } = engine;
  const step = warehouse.stepOf(request.statementName);
  if (step === undefined) {
    return { drop: `not a statement of this stack (its names start with ${warehouse.statementPrefix})` };
  }
  const runId = step.split('.')[0];
  if (!isRunId(runId)) return { drop: 'not a statement of a run' };
  const statement = await warehouse.describe(request.statementId);
  if (!statement)
    return { drop: 'the Data API does not know the statement (it expired, or another role ran it)' };
  const later = (await warehouse.statements(`${runId}.`)).filter(
    // Not before: two statements of one run are never sent in the same instant, and dropping is
    // the safe side (a resume next to a running export could clear the files it writes).
    (s) => s.id !== statement.id && s.createdAt.getTime() >= statement.createdAt.getTime(),
  );
  if (later.length === 0) return { statement };
  const latest = later.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
  return {
    drop: `run ${runId} went on after this statement (${later.length} later statements, the latest ${latest.name})`,
  };
}

/** The outcome of an invocation that must leave a statement of this stack to its own event. */
function stillRunning(error: StillRunningError, engine: AwsEngine): UnloadOutcome {
  if (error instanceof UnannouncedStatementError) {
    // Nothing will announce its end: a silent return would leave the run waiting for nothing.
    throw new RunFailedError(
      `${error.message}, and this invocation ran out of time; the run resumes with the next run ` +
        '(redshift-archive run) once the statement has ended',
      { cause: error },
    );
  }
  return {
    outcome: 'waiting',
    statements: [{ id: error.statementId, name: `${engine.warehouse.statementPrefix}${error.step}` }],
  };
}

/**
 * A statement's completion event. A FINISHED one resumes the run; a FAILED or ABORTED one records
 * why in the ledger and fails the invocation, which raises the alarm. A stale one does nothing.
 */
async function onStatement(
  request: StatementRequest,
  engine: AwsEngine,
  archiver: Archiver,
): Promise<UnloadOutcome> {
  const dropped = (reason: string): UnloadOutcome => ({
    outcome: 'dropped',
    statementName: request.statementName,
    reason,
  });
  const pending = await pendingStep(request, engine);
  if ('drop' in pending) return dropped(pending.drop);
  if (request.state === 'FINISHED') {
    const report = await archiver.resume();
    return report ? { outcome: 'run', report } : dropped('no unfinished run');
  }
  const failure = `statement ${request.statementName} ${request.state}: ${pending.statement.error}`;
  // The recorded failure is a later statement of the run: a repeated event is dropped, and the
  // alarm fires once.
  const run = await archiver.recordFailure(failure);
  if (!run) return dropped('no unfinished run');
  throw new RunFailedError(`run ${run.runId} stopped: ${failure}`);
}

/**
 * One invocation: advances the run as far as it can. A status-change event that is not a pending
 * step of the active run is dropped before any SQL is sent. A statement still running when time
 * is short is left to its completion event.
 * @param now - the clock, read only for a manual run or plan (a schedule carries its own time)
 * @throws RunFailedError when a statement failed: the reason goes to the ledger, the alarm fires
 */
export async function handleUnload(
  request: UnloadRequest,
  engine: AwsEngine,
  now: () => Date,
): Promise<UnloadOutcome> {
  const archiver = new Archiver(engine);
  const retention = engine.config.retention;
  try {
    if (request.kind === 'statement') return await onStatement(request, engine, archiver);
    if (request.kind === 'manual' && request.action === 'status') {
      return { outcome: 'status', status: await archiver.status() };
    }
    if (request.kind === 'manual' && request.action === 'preflight') {
      return { outcome: 'preflight', preflight: await archiver.preflight() };
    }
    if (request.kind === 'manual' && request.action === 'plan') {
      return { outcome: 'plan', plan: await archiver.plan(runTarget(now(), retention, request.cutoff)) };
    }
    // A schedule or an operator is no statement's event, so no later statement can tell that a
    // step is under way: while any statement of this stack runs, its own event comes next (a
    // resume now could clear the files of a running export).
    const running = await engine.warehouse.inFlight();
    if (running.length > 0) {
      return { outcome: 'waiting', statements: running.map(({ id, name }) => ({ id, name })) };
    }
    if (request.kind === 'schedule') {
      return { outcome: 'run', report: await archiver.run(runTarget(request.time, retention)) };
    }
    if (request.action === 'abort')
      return { outcome: 'aborted', runId: (await archiver.abort())?.runId ?? null };
    return { outcome: 'run', report: await archiver.run(runTarget(now(), retention, request.cutoff)) };
  } catch (error) {
    if (error instanceof StillRunningError) return stillRunning(error, engine);
    throw error;
  }
}

/** One metric of an invocation. */
export interface Metric {
  readonly name: string;
  readonly unit: 'Count' | 'Bytes' | 'Milliseconds';
  readonly value: number;
}

/**
 * What an invocation did, as metrics: rows and bytes archived and runs finished, whether a run
 * is unfinished (the watchdog), events dropped, and how long it took. Failures are counted by
 * the handler (`METRICS.runFailures`).
 */
export function outcomeMetrics(outcome: UnloadOutcome, durationMs: number): Metric[] {
  const metrics: Metric[] = [
    { name: METRICS.invocationDuration, unit: 'Milliseconds', value: Math.round(durationMs) },
  ];
  if (outcome.outcome === 'status') {
    // The daily watchdog asks for status: an alarm on this says a run has not finished for days.
    metrics.push({ name: METRICS.unfinishedRun, unit: 'Count', value: outcome.status.active ? 1 : 0 });
  }
  if (outcome.outcome === 'dropped') metrics.push({ name: METRICS.eventsDropped, unit: 'Count', value: 1 });
  if (outcome.outcome === 'preflight') {
    // The monthly preflight: an alarm on this says the next run would not work, and why is in its output.
    const failures = outcome.preflight.checks.filter((c) => !c.ok).length;
    metrics.push({ name: METRICS.preflightFailures, unit: 'Count', value: failures });
  }
  if (outcome.outcome === 'run' && outcome.report.outcome === 'finished') {
    metrics.push(
      { name: METRICS.rowsArchived, unit: 'Count', value: outcome.report.rows },
      { name: METRICS.bytesArchived, unit: 'Bytes', value: outcome.report.bytes },
      { name: METRICS.runsFinished, unit: 'Count', value: 1 },
    );
  }
  return metrics;
}
