import { CalendarDate, parseCalendarDate, runTarget } from '../core/cutoff';
import { InputError, RunFailedError, show, StillRunningError } from '../core/errors';
import { STATEMENT_PREFIX } from '../engines/aws/data-api-warehouse';
import { Archiver, PlanReport, RunReport, StatusReport } from '../protocol/archive';
import type { AwsEngine } from './aws-engine';

/** The three kinds of event the unload Lambda accepts, validated. */
export type UnloadRequest =
  | { readonly kind: 'schedule'; readonly time: Date }
  | {
      readonly kind: 'statement';
      readonly statementName: string;
      readonly statementId: string;
      readonly state: 'FINISHED' | 'FAILED' | 'ABORTED';
    }
  | {
      readonly kind: 'manual';
      readonly action: 'plan' | 'run' | 'status' | 'abort';
      readonly cutoff?: CalendarDate;
    };

/** What an invocation did. */
export type UnloadOutcome =
  | { readonly outcome: 'run'; readonly report: RunReport }
  | { readonly outcome: 'plan'; readonly plan: PlanReport }
  | { readonly outcome: 'status'; readonly status: StatusReport }
  | { readonly outcome: 'aborted'; readonly runId: string | null }
  | {
      readonly outcome: 'waiting';
      readonly statements: readonly { readonly id: string; readonly name: string }[];
    }
  | { readonly outcome: 'stale-event'; readonly statementName: string };

const ALLOWED_EVENTS =
  'an EventBridge "Scheduled Event", a "Redshift Data Statement Status Change" event of a statement named ' +
  `${STATEMENT_PREFIX}*, or {"action": "plan" | "run" | "status" | "abort", "cutoff"?: "YYYY-MM-DD"}`;
const ACTIONS = ['plan', 'run', 'status', 'abort'];
const STATES = ['FINISHED', 'FAILED', 'ABORTED'];

function refuse(event: unknown, why?: string): never {
  throw new InputError(
    `event: ${show(event)} is not allowed${why ? ` (${why})` : ''}; allowed: ${ALLOWED_EVENTS}`,
  );
}

/** Validates an invocation's event; anything else is refused before anything runs. */
export function parseUnloadEvent(event: unknown): UnloadRequest {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) refuse(event);
  const e = event as Record<string, unknown>;
  if (e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event') {
    const time = new Date(String(e.time));
    if (typeof e.time !== 'string' || Number.isNaN(time.getTime())) refuse(event, 'no valid time');
    return { kind: 'schedule', time };
  }
  if (e.source === 'aws.redshift-data' && e['detail-type'] === 'Redshift Data Statement Status Change') {
    const d = (e.detail ?? {}) as Record<string, unknown>;
    if (typeof d.statementName !== 'string' || !d.statementName.startsWith(STATEMENT_PREFIX)) {
      refuse(event, 'not a statement of this app');
    }
    if (typeof d.statementId !== 'string' || !STATES.includes(String(d.state)))
      refuse(event, 'no statement id or state');
    return {
      kind: 'statement',
      statementName: d.statementName,
      statementId: d.statementId,
      state: d.state as 'FINISHED' | 'FAILED' | 'ABORTED',
    };
  }
  const keys = Object.keys(e);
  if (ACTIONS.includes(String(e.action)) && keys.every((k) => k === 'action' || k === 'cutoff')) {
    if (e.cutoff !== undefined && (e.action === 'status' || e.action === 'abort'))
      refuse(event, `no cutoff with ${e.action}`);
    return {
      kind: 'manual',
      action: e.action as 'plan' | 'run' | 'status' | 'abort',
      ...(e.cutoff === undefined ? {} : { cutoff: parseCalendarDate(e.cutoff, 'cutoff') }),
    };
  }
  return refuse(event);
}

/**
 * One invocation: reads the ledger through the protocol and advances the run as far as it can.
 * A statement still running when time is short is left to its completion event.
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
  if (request.kind === 'manual' && request.action === 'status')
    return { outcome: 'status', status: await archiver.status() };
  // One thing at a time: while a statement of this app runs, its completion event comes next.
  const running = await engine.warehouse.inFlight();
  if (running.length > 0)
    return { outcome: 'waiting', statements: running.map(({ id, name }) => ({ id, name })) };
  try {
    switch (request.kind) {
      case 'schedule':
        return { outcome: 'run', report: await archiver.run(runTarget(request.time, retention)) };
      case 'statement': {
        if (request.state !== 'FINISHED') {
          const why = await engine.warehouse.describeFailure(request.statementId);
          const reason = `statement ${request.statementName} ${request.state}: ${why}`;
          const run = await archiver.recordFailure(reason);
          throw new RunFailedError(`${run ? `run ${run.runId} stopped: ` : ''}${reason}`);
        }
        const report = await archiver.resume();
        return report
          ? { outcome: 'run', report }
          : { outcome: 'stale-event', statementName: request.statementName };
      }
      case 'manual':
        switch (request.action) {
          case 'plan':
            return {
              outcome: 'plan',
              plan: await archiver.plan(runTarget(now(), retention, request.cutoff)),
            };
          case 'abort':
            return { outcome: 'aborted', runId: (await archiver.abort())?.runId ?? null };
          default:
            return {
              outcome: 'run',
              report: await archiver.run(runTarget(now(), retention, request.cutoff)),
            };
        }
    }
  } catch (error) {
    if (error instanceof StillRunningError) {
      return {
        outcome: 'waiting',
        statements: [{ id: error.statementId, name: `${STATEMENT_PREFIX}${error.step}` }],
      };
    }
    throw error;
  }
}

/** The figures an invocation reports as metrics: rows and bytes archived, and how long it took. */
export function outcomeMetrics(
  outcome: UnloadOutcome,
  durationMs: number,
): { name: string; unit: 'Count' | 'Bytes' | 'Milliseconds'; value: number }[] {
  const metrics: { name: string; unit: 'Count' | 'Bytes' | 'Milliseconds'; value: number }[] = [
    { name: 'InvocationDuration', unit: 'Milliseconds', value: Math.round(durationMs) },
  ];
  if (outcome.outcome === 'status') {
    // The daily watchdog asks for status: an alarm on this says a run has not finished for days.
    metrics.push({ name: 'UnfinishedRun', unit: 'Count', value: outcome.status.active ? 1 : 0 });
  }
  if (outcome.outcome === 'run' && outcome.report.outcome === 'finished') {
    metrics.push(
      { name: 'RowsArchived', unit: 'Count', value: outcome.report.rows },
      { name: 'BytesArchived', unit: 'Bytes', value: outcome.report.bytes },
      { name: 'RunsFinished', unit: 'Count', value: 1 },
    );
  }
  return metrics;
}
