import type { z } from 'zod';
import {
  manualEvent,
  METRICS,
  RESUME_IDLE_AFTER_MS,
  scheduleEvent,
  STALLED_AFTER_MS,
  statusChangeEvent,
  type ManualEvent,
} from '../contract';
import { CalendarDate, isRunId, parseCalendarDate, runTarget } from '../core/cutoff';
import { InputError, RunFailedError, show, StillRunningError } from '../core/errors';
import {
  DescribedStatement,
  statementFailed,
  UnannouncedStatementError,
} from '../engines/aws/data-api-warehouse';
import {
  Archiver,
  AuditReport,
  PlanReport,
  RepairReport,
  RestoreReport,
  RunReport,
  StatusReport,
} from '../protocol/archive';
import { isCommitStep } from '../protocol/batch';
import type { PreflightReport } from '../protocol/preflight';
import { RestoreRequest, restoredFamilies, restoreIdAt } from '../protocol/restore';
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
  | ManualRequest;

/** An operator's (or a rule's) manual event, validated, with its defaults. */
type ManualRequest = { readonly kind: 'manual' } & (
  | { readonly action: 'plan' | 'run'; readonly cutoff?: CalendarDate }
  | { readonly action: 'status' | 'abort' | 'preflight' | 'watchdog' }
  | { readonly action: 'repair'; readonly acceptLost: boolean }
  | { readonly action: 'audit'; readonly deep: boolean }
  | {
      readonly action: 'restore';
      readonly year: number;
      readonly table?: string;
      readonly deleteFiles: boolean;
    }
);

type StatementRequest = Extract<UnloadRequest, { kind: 'statement' }>;

/** What an invocation did. */
export type UnloadOutcome =
  | { readonly outcome: 'run'; readonly report: RunReport }
  | { readonly outcome: 'plan'; readonly plan: PlanReport }
  | { readonly outcome: 'status'; readonly status: StatusReport }
  | { readonly outcome: 'preflight'; readonly preflight: PreflightReport }
  | { readonly outcome: 'aborted'; readonly runId: string | null }
  /** Read only, even while statements run; the metric counts its damaged batches (the alarm). */
  | { readonly outcome: 'audit'; readonly audit: AuditReport }
  | { readonly outcome: 'restored'; readonly restore: RestoreReport }
  /** The catalog registers every committed batch again, as the ledger records it. */
  | { readonly outcome: 'repaired'; readonly repair: RepairReport }
  | {
      readonly outcome: 'waiting';
      readonly statements: readonly { readonly id: string; readonly name: string }[];
    }
  /** A status-change event that is not a pending step of the active run: nothing was done. */
  | { readonly outcome: 'dropped'; readonly statementName: string; readonly reason: string }
  | WatchdogOutcome;

/**
 * The watchdog's status, and whether it resumed the unfinished run because a completion event
 * was lost ({@link onWatchdog}).
 */
export interface WatchdogOutcome {
  readonly outcome: 'watchdog';
  /** The ledger as the watchdog found it, before any resume (the alarms read it). */
  readonly status: StatusReport;
  readonly resumed: boolean;
  /** Why it resumed the run, or why it only reported status. */
  readonly reason: string;
  /** When resumed: what the lost event's delivery did (advanced the run, or left it to a statement). */
  readonly resume?: UnloadOutcome;
}

const ALLOWED_EVENTS =
  'an EventBridge "Scheduled Event", a "Redshift Data Statement Status Change" event, ' +
  '{"action": "plan" | "run", "cutoff"?: "YYYY-MM-DD"}, {"action": "status" | "abort" | "preflight" | "watchdog"}, ' +
  '{"action": "repair", "acceptLost"?: true | false}, {"action": "audit", "deep"?: true | false} ' +
  'or {"action": "restore", "year": YYYY, "table"?: "<root table>", "deleteFiles"?: true | false}';

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
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const field = issue?.code === 'custom' ? issue.path[0] : undefined;
    // A field's value is refused in its own words, as a wrong cutoff always was.
    if (typeof field === 'string') {
      throw new InputError(`${field}: ${show(e[field])} is not allowed; allowed: ${issue.message}`);
    }
    refuse(event, why(parsed.error, issue?.code === 'custom'));
  }
  return manualRequest(parsed.data);
}

/** A valid manual event as a request: the cutoff parsed, the defaults filled in. */
function manualRequest(event: ManualEvent): ManualRequest {
  switch (event.action) {
    case 'plan':
    case 'run':
      return {
        kind: 'manual',
        action: event.action,
        ...(event.cutoff === undefined ? {} : { cutoff: parseCalendarDate(event.cutoff, 'cutoff') }),
      };
    case 'audit':
      return { kind: 'manual', action: 'audit', deep: event.deep ?? false };
    case 'repair':
      return { kind: 'manual', action: 'repair', acceptLost: event.acceptLost ?? false };
    case 'restore':
      return {
        kind: 'manual',
        action: 'restore',
        year: event.year,
        ...(event.table === undefined ? {} : { table: event.table }),
        deleteFiles: event.deleteFiles ?? false,
      };
    default:
      return { kind: 'manual', action: event.action };
  }
}

/**
 * A status-change event's statement as the Data API describes it, with its step and how often a
 * statement of the same name failed before it; or why the event is dropped.
 */
type Pending =
  | { readonly statement: DescribedStatement; readonly step: string; readonly failedBefore: number }
  | { readonly drop: string };

const ENDED_BADLY = ['FAILED', 'ABORTED'];

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
  const others = (await warehouse.statements(`${runId}.`)).filter((s) => s.id !== statement.id);
  const later = others.filter(
    // Not before: two statements of one run are never sent in the same instant, and dropping is
    // the safe side (a resume next to a running export could clear the files it writes).
    (s) => s.createdAt.getTime() >= statement.createdAt.getTime(),
  );
  if (later.length === 0) {
    // The same commit sent again after a conflict has the same name: its earlier failures count
    // against the conflict retries, across invocations.
    const failedBefore = others.filter(
      (s) => s.name === request.statementName && ENDED_BADLY.includes(s.status),
    ).length;
    return { statement, step, failedBefore };
  }
  const latest = later.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
  return {
    drop: `run ${runId} went on after this statement (${later.length} later statements, the latest ${latest.name})`,
  };
}

/** Whether the request is one that advances a run (and so may leave it stopped). */
function advancesRun(request: UnloadRequest): boolean {
  return request.kind !== 'manual' || request.action === 'run';
}

/**
 * The outcome of an invocation that must leave a statement of this stack running. One with an
 * event is left to it (`waiting`). One without fails the invocation: nothing would announce its
 * end, and a silent return would leave the run waiting for nothing.
 */
async function stillRunning(
  error: StillRunningError,
  request: UnloadRequest,
  engine: AwsEngine,
  archiver: Archiver,
): Promise<UnloadOutcome> {
  if (!(error instanceof UnannouncedStatementError)) {
    return {
      outcome: 'waiting',
      statements: [{ id: error.statementId, name: `${engine.warehouse.statementPrefix}${error.step}` }],
    };
  }
  const reason = `${error.message}, and this invocation ran out of time; ${outlivedAdvice(request)}`;
  if (advancesRun(request)) await recordStop(archiver, reason, error.step);
  throw new RunFailedError(reason, { cause: error });
}

/**
 * What the operator does about a statement without an event that outlived the invocation.
 *
 * A restore sends its change as ONE transaction (`restoreTransaction`): the rows go back into the
 * hot tables, the batches are marked restored and the union views stop reading them, all at its
 * commit or not at all, and it holds the run lock until then, so nothing else starts meanwhile
 * (and this stack's run, abort and restore answer `waiting` while it is in flight). So a restore
 * transaction left running cannot show a row twice in the views, whichever way it ends; nothing
 * waits for it, and the invocation fails loudly rather than report a restore it cannot see. The
 * same restore, invoked again once it has ended, finds the batches restored and removes their
 * partitions (and files), or restores them if the transaction rolled back. Until then Athena
 * still lists the restored batches, as after a restore interrupted anywhere else; it never reads
 * the hot tables, so it shows no row twice either.
 */
function outlivedAdvice(request: UnloadRequest): string {
  if (request.kind !== 'manual' || request.action === 'run') {
    return 'the run resumes with the next run (redshift-archive run) once the statement has ended';
  }
  if (request.action === 'restore') {
    return (
      'a restore changes the warehouse in ONE transaction, which commits or rolls back whole, so every row ' +
      'stays in exactly one place in the union views. Invoke the same restore again once it has ended: it ' +
      'finishes what is left, or restores again if the transaction rolled back'
    );
  }
  return `invoke the same ${request.action} again once it has ended`;
}

/**
 * Records in the ledger why the run stopped, as a failed statement's event does, so that `status`
 * says it: for the run the statement's step names, or else (a ledger read, which names none) for
 * the unfinished run. The invocation's time is already short: the statement is sent, and the Data
 * API runs it to its end even if nobody waits; if the warehouse does not take it, the failure
 * that is thrown next still says why (the log, the alarm).
 */
async function recordStop(archiver: Archiver, reason: string, step: string): Promise<void> {
  const runId = step.split('.')[0];
  try {
    await archiver.recordFailure(reason, isRunId(runId) ? runId : undefined);
  } catch {
    // Only the record is lost; the ledger's state is still right.
  }
}

/**
 * A statement's completion event. A FINISHED one resumes the run. A FAILED or ABORTED commit gets
 * the rule of a commit that fails while its invocation waits (`BatchSteps`): retried after a
 * conflict, exported again when the commit check failed, anything else fails the run (the reason
 * recorded, the alarm). Any other FAILED or ABORTED statement records why in the ledger and fails
 * the invocation, which raises the alarm. A stale one does nothing.
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
  const resumed = (report: RunReport | undefined): UnloadOutcome =>
    report ? { outcome: 'run', report } : dropped('no unfinished run');
  const pending = await pendingStep(request, engine);
  if ('drop' in pending) return dropped(pending.drop);
  const { statement, step } = pending;
  if (request.state === 'FINISHED') return resumed(await archiver.resume());
  if (isCommitStep(step)) {
    // In the words the invocation waiting for it would have thrown, so the rule reads the same.
    const error = statementFailed(step, request.state, statement.error);
    return resumed(await archiver.resume({ step, sent: statement.sql, error, before: pending.failedBefore }));
  }
  const failure = `statement ${request.statementName} ${request.state}: ${statement.error}`;
  // The recorded failure is a later statement of the run: a repeated event is dropped, and the
  // alarm fires once.
  const run = await archiver.recordFailure(failure);
  if (!run) return dropped('no unfinished run');
  throw new RunFailedError(`run ${run.runId} stopped: ${failure}`);
}

/**
 * The yearly schedule starts the year's run. It is no statement's event, so no later statement
 * can tell that a step is under way: while a statement of this stack runs, a resume could clear
 * the files of a running export. Answering `waiting` then, as an operator's run does, would lose
 * the year's run without a word: completion events only resume a run that has started. So the
 * schedule waits for those statements to end, as long as the invocation may, then starts; if they
 * still run, it fails loudly (the alarm), and Lambda's retries of the failed asynchronous
 * invocation start the run if they have ended by then.
 * @throws RunFailedError naming the statements still running, and what to do
 */
async function onSchedule(
  request: Extract<UnloadRequest, { kind: 'schedule' }>,
  engine: AwsEngine,
  archiver: Archiver,
): Promise<UnloadOutcome> {
  const target = runTarget(request.time, engine.config.retention);
  const running = await engine.warehouse.untilQuiet();
  if (running.length > 0) {
    throw new RunFailedError(
      `the yearly run ${target.runId} (cutoff ${target.cutoff}) did not start: statements of this stack are ` +
        `still running (${running.map((s) => `${s.name} ${s.id}`).join(', ')}), and this invocation ran out of ` +
        'time waiting for them; nothing changed. Run `redshift-archive run` (on AWS: invoke {"action": "run"}) ' +
        'once they end',
    );
  }
  return { outcome: 'run', report: await archiver.run(target, 'schedule') };
}

/**
 * `waiting`, naming them, while statements of this stack run: an operator's action that writes
 * (run, abort, restore) must not start then. An operator is no statement's event either (see
 * onSchedule); the operator sees the answer and invokes again once they have ended.
 */
async function busy(engine: AwsEngine): Promise<UnloadOutcome | undefined> {
  const running = await engine.warehouse.inFlight();
  if (running.length === 0) return undefined;
  return { outcome: 'waiting', statements: running.map(({ id, name }) => ({ id, name })) };
}

const ENDED: readonly StatementRequest['state'][] = ['FINISHED', 'FAILED', 'ABORTED'];

const minutes = (ms: number) => `${Math.floor(ms / 60_000)} min`;

/**
 * The watchdog (the hourly rule): status, and the resume of a run whose completion event was
 * lost. EventBridge delivers Data API events on a best-effort basis, and a run between two
 * invocations waits for nothing else. It resumes the unfinished run only when all hold:
 * - no error is recorded: a failed run waits for its operator (resuming it every hour could
 *   repeat a failing step); the error stays until the run finishes or is aborted;
 * - it recorded no step for {@link RESUME_IDLE_AFTER_MS} (or no instant at all);
 * - no statement of this stack runs: a running statement sends its own event.
 * Then it delivers the lost event itself: that of the run's latest statement, through the path a
 * status-change event takes ({@link onStatement}), so a statement that FAILED gets the same rule;
 * when the Data API no longer lists any statement of the run (a day old), the run resumes as a
 * FINISHED event resumes it. It never starts a run. An event that still arrives later is stale:
 * the resume sent later statements of the run, so it is dropped.
 */
async function onWatchdog(engine: AwsEngine, archiver: Archiver): Promise<UnloadOutcome> {
  const status = await archiver.status();
  const only = (reason: string): UnloadOutcome => ({ outcome: 'watchdog', status, resumed: false, reason });
  const { active, idleMs } = status;
  if (!active) return only('no unfinished run');
  const run = `run ${active.runId}`;
  if (active.error !== null)
    return only(`${run} failed and waits for its operator (run or abort): ${active.error}`);
  if (typeof idleMs === 'number' && idleMs < RESUME_IDLE_AFTER_MS) {
    return only(
      `${run} recorded a step ${minutes(idleMs)} ago (resumed after ${minutes(RESUME_IDLE_AFTER_MS)} idle)`,
    );
  }
  const running = await engine.warehouse.inFlight();
  if (running.length > 0) {
    return only(
      `${run} is idle, but statements of this stack run and send their own events: ${running.map((s) => s.name).join(', ')}`,
    );
  }
  const idle = typeof idleMs === 'number' ? `for ${minutes(idleMs)}` : 'since an earlier version started it';
  const statements = await engine.warehouse.statements(`${active.runId}.`);
  const latest = statements.reduce<(typeof statements)[number] | undefined>(
    (a, b) => (a === undefined || b.createdAt > a.createdAt ? b : a),
    undefined,
  );
  const state = ENDED.find((s) => s === latest?.status);
  // As the event's own invocation would: a statement left running when time is short is left to
  // its event, or, without one, stops the run with the reason recorded.
  const deliver = async (request: UnloadRequest, work: () => Promise<UnloadOutcome | undefined>) => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof StillRunningError) return stillRunning(error, request, engine, archiver);
      throw error;
    }
  };
  const resumed = (reason: string, resume: UnloadOutcome | undefined): UnloadOutcome => ({
    outcome: 'watchdog',
    status,
    resumed: true,
    reason,
    ...(resume ? { resume } : {}),
  });
  if (latest && state) {
    const request = { kind: 'statement', statementName: latest.name, statementId: latest.id, state } as const;
    return resumed(
      `${run} recorded no step ${idle} and no statement of this stack runs: the completion event of its latest statement, ${latest.name} (${state}), was lost`,
      await deliver(request, () => onStatement(request, engine, archiver)),
    );
  }
  // No statement to replay: what a FINISHED event does once it is known to be the run's next step.
  const explicit = { kind: 'manual', action: 'run' } as const;
  const resume = await deliver(explicit, async () => {
    const report = await archiver.resume();
    return report && { outcome: 'run', report };
  });
  return resumed(
    `${run} recorded no step ${idle}, no statement of this stack runs, and the Data API lists none of the run's (it forgets them after a day): resumed from the ledger`,
    resume,
  );
}

/** A restore as the protocol takes it, named by the invocation's instant, and validated. */
function restoreRequest(
  request: Extract<ManualRequest, { action: 'restore' }>,
  engine: AwsEngine,
  instant: Date,
): RestoreRequest {
  const { year, table, deleteFiles } = request;
  const restore = { year, deleteFiles, restoreId: restoreIdAt(instant), ...(table ? { table } : {}) };
  // A table that is not a configured root is refused before anything is asked of the warehouse.
  restoredFamilies(engine.config, restore);
  return restore;
}

/**
 * An operator's action, or a rule's (the watchdog, the monthly preflight and audit). Status,
 * preflight, plan and audit only read, and run even while statements of this stack run;
 * run, abort, restore and repair wait for them ({@link busy}). A restore takes the run lock as on the
 * embedded engine: it refuses while a run is active.
 */
async function onManual(
  request: ManualRequest,
  engine: AwsEngine,
  archiver: Archiver,
  now: () => Date,
): Promise<UnloadOutcome> {
  const retention = engine.config.retention;
  switch (request.action) {
    case 'status':
      return { outcome: 'status', status: await archiver.status() };
    case 'watchdog':
      return onWatchdog(engine, archiver);
    case 'preflight':
      return { outcome: 'preflight', preflight: await archiver.preflight() };
    case 'plan':
      return { outcome: 'plan', plan: await archiver.plan(runTarget(now(), retention, request.cutoff)) };
    case 'audit':
      return { outcome: 'audit', audit: await archiver.audit(request.deep) };
    case 'restore': {
      const restore = restoreRequest(request, engine, now());
      return (await busy(engine)) ?? { outcome: 'restored', restore: await archiver.restore(restore) };
    }
    case 'abort':
      return (await busy(engine)) ?? { outcome: 'aborted', runId: (await archiver.abort())?.runId ?? null };
    case 'repair':
      return (
        (await busy(engine)) ?? {
          outcome: 'repaired',
          repair: await archiver.repair({ acceptLost: request.acceptLost }),
        }
      );
    case 'run': {
      const target = runTarget(now(), retention, request.cutoff);
      return (await busy(engine)) ?? { outcome: 'run', report: await archiver.run(target) };
    }
  }
}

/**
 * One invocation: advances the run as far as it can, or does what an operator asked. A
 * status-change event that is not a pending step of the active run is dropped before any SQL is
 * sent. A statement still running when time is short is left to its completion event.
 * @param now - the clock, read only for a manual run, plan or restore (a schedule carries its own time)
 * @throws RunFailedError when a statement failed: the reason goes to the ledger, the alarm fires
 */
export async function handleUnload(
  request: UnloadRequest,
  engine: AwsEngine,
  now: () => Date,
): Promise<UnloadOutcome> {
  const archiver = new Archiver(engine);
  try {
    if (request.kind === 'statement') return await onStatement(request, engine, archiver);
    if (request.kind === 'schedule') return await onSchedule(request, engine, archiver);
    return await onManual(request, engine, archiver, now);
  } catch (error) {
    if (error instanceof StillRunningError) return stillRunning(error, request, engine, archiver);
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
 * is unfinished (the watchdog), failed preflight checks, damaged batches (the audit), events
 * dropped, and how long it took. Failures are counted by the handler (`METRICS.runFailures`).
 */
export function outcomeMetrics(outcome: UnloadOutcome, durationMs: number): Metric[] {
  return [
    { name: METRICS.invocationDuration, unit: 'Milliseconds', value: Math.round(durationMs) },
    ...workMetrics(outcome),
  ];
}

/** The metrics of what an invocation did, without its duration. */
function workMetrics(outcome: UnloadOutcome): Metric[] {
  const metrics: Metric[] = [];
  if (outcome.outcome === 'status' || outcome.outcome === 'watchdog') {
    // A run may take days (a long backlog's first run), so the alarm reads whether it moves on,
    // not whether it is unfinished. The watchdog's figures are the ledger's before its resume.
    const { active, idleMs } = outcome.status;
    const stalled =
      active !== undefined && (idleMs === null || idleMs === undefined || idleMs >= STALLED_AFTER_MS);
    metrics.push(
      { name: METRICS.unfinishedRun, unit: 'Count', value: active ? 1 : 0 },
      { name: METRICS.stalledRun, unit: 'Count', value: stalled ? 1 : 0 },
    );
  }
  if (outcome.outcome === 'watchdog') {
    metrics.push({ name: METRICS.runsResumedByWatchdog, unit: 'Count', value: outcome.resumed ? 1 : 0 });
    // A resume that finished the run reports its rows, as the event would have.
    if (outcome.resume?.outcome === 'run') metrics.push(...workMetrics(outcome.resume));
  }
  if (outcome.outcome === 'dropped') metrics.push({ name: METRICS.eventsDropped, unit: 'Count', value: 1 });
  if (outcome.outcome === 'preflight') {
    // The monthly preflight: an alarm on this says the next run would not work, and why is in its output.
    const failures = outcome.preflight.checks.filter((c) => !c.ok).length;
    metrics.push({ name: METRICS.preflightFailures, unit: 'Count', value: failures });
  }
  if (outcome.outcome === 'audit') {
    // The monthly audit: an alarm on this says the lake or the catalog no longer holds what the
    // ledger recorded, and the report names each damaged batch and what differs.
    const damaged = outcome.audit.batches.filter((b) => b.problems.length > 0).length;
    metrics.push({ name: METRICS.auditFailures, unit: 'Count', value: damaged });
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
