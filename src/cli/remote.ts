import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { isRunId } from '../core/cutoff';
import { InputError, RunFailedError } from '../core/errors';
import type { BatchRecord } from '../protocol/ledger';
import type { ArchiveReader, RunState } from '../protocol/reader';
import type { ProgressEvent } from '../protocol/report';
import type { UnloadOutcome } from '../runtime/unload';

/** What following the deployed function needs; tests pass mocked clients and a clock that does not wait. */
export interface RemoteDeps {
  readonly lambda: LambdaClient;
  readonly functionName: string;
  /** The stack's statement prefix: the names of the function's statements start with it. */
  readonly statementPrefix: string;
  /** Reads the ledger with the operator's credentials while the function works. */
  readonly reader: ArchiveReader;
  /** Each change of a batch, as a progress line. */
  readonly progress: (event: ProgressEvent) => void;
  readonly sleep: (ms: number) => Promise<void>;
  /** How often the ledger is read while following. */
  readonly pollMs: number;
  /** The clock the elapsed time and the estimate of what is left are read from. */
  readonly clock: () => Date;
}

/** What the function's error says: its type decides the exit code, its message is the reason. */
function functionError(payload: { errorType?: string; errorMessage?: string }, functionName: string): Error {
  const reason = payload.errorMessage ?? 'no message';
  if (payload.errorType === 'InputError') return new InputError(reason);
  return new RunFailedError(`${functionName} failed (${payload.errorType ?? 'error'}): ${reason}`);
}

/**
 * Invokes the function and waits for its answer (`RequestResponse`: the function's own checks,
 * such as the schema guard, come back as they are). The client must wait as long as the function
 * may run (`cliClients` sets it).
 * @throws InputError when the function refused the request, RunFailedError when it failed
 */
export async function invokeFunction(
  lambda: LambdaClient,
  functionName: string,
  event: Record<string, unknown>,
): Promise<UnloadOutcome> {
  const answer = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    }),
  );
  const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : 'null';
  const payload = JSON.parse(text) as unknown;
  if (answer.FunctionError) throw functionError((payload ?? {}) as Record<string, string>, functionName);
  return payload as UnloadOutcome;
}

const PHASE_OF: Record<string, ProgressEvent['phase']> = {
  pending: 'start',
  exported: 'export',
  verified: 'verify',
  committed: 'commit',
  discarded: 'export',
  restored: 'restore',
};

/** Turns successive ledger reads into one progress line per change of a batch. */
class BatchWatcher {
  private readonly seen = new Map<string, string>();
  private position?: string;

  constructor(private readonly progress: (event: ProgressEvent) => void) {}

  /** A run as read now: a line for each batch that changed, and one when the run takes another batch. */
  observeRun(state: RunState | undefined): void {
    if (!state) return;
    this.observe(state.batches);
    const at = state.progress ? `${state.progress.batch}/${state.progress.batches}` : undefined;
    if (state.progress && at !== this.position) this.progress(state.progress);
    this.position = at;
  }

  observe(batches: readonly BatchRecord[]): void {
    for (const b of batches) {
      const key = `${b.runId}/${b.table}/${b.year}`;
      const state = b.committed ? 'committed' : b.state;
      const now = `${state}/${b.attempt}`;
      if (this.seen.get(key) === now) continue;
      this.seen.set(key, now);
      this.progress({
        phase: PHASE_OF[state] ?? 'start',
        runId: b.runId,
        table: b.table,
        year: b.year,
        message: state === 'discarded' ? `discarded after attempt ${b.attempt}; exported again` : state,
        rows: b.rows ?? b.plannedRows,
        ...(b.files === null ? {} : { files: b.files }),
        ...(b.bytes === null ? {} : { bytes: b.bytes }),
      });
    }
  }
}

/** The run a waiting function left to its statements' completion events, from their names. */
function waitingRun(outcome: UnloadOutcome, prefix: string): string | undefined {
  if (outcome.outcome !== 'waiting') return undefined;
  return outcome.statements
    .map((s) => (s.name.startsWith(prefix) ? s.name.slice(prefix.length).split('.')[0] : ''))
    .find(isRunId);
}

/**
 * Follows a run that the function goes on with through its statements' completion events, until
 * it finishes, is aborted, or records a new error.
 * @throws RunFailedError with the ledger's reason when the run stopped
 */
async function follow(deps: RemoteDeps, runId: string, watcher: BatchWatcher): Promise<RunState> {
  let baseline: string | null | undefined;
  for (;;) {
    const state = await deps.reader.runState(runId, deps.clock());
    if (!state) throw new RunFailedError(`run ${runId} is not in the ledger`);
    watcher.observeRun(state);
    if (state.run.state === 'finished') return state;
    if (state.run.state === 'aborted')
      throw new RunFailedError(`run ${runId} was aborted while it was followed`);
    if (baseline === undefined) baseline = state.run.error;
    else if (state.run.error !== null && state.run.error !== baseline) {
      const reason = state.run.error;
      throw new RunFailedError(
        `${reason.startsWith(`run ${runId}`) ? reason : `run ${runId} stopped: ${reason}`}; ` +
          'the data is safe, and `run` resumes it once the cause is fixed',
      );
    }
    await deps.sleep(deps.pollMs);
  }
}

/** What the function answered, and the run it finished after the invocation, if it went on. */
export interface RemoteResult {
  readonly outcome: UnloadOutcome;
  /** The run as the ledger has it at the end, when the function left it to completion events. */
  readonly followed?: RunState;
}

/**
 * Has the deployed function do `event` (run, abort, restore, preflight), printing each batch's
 * progress from the ledger while it works, and, when it leaves a run to its statements'
 * completion events, follows the ledger until that run is done.
 */
export async function runRemotely(deps: RemoteDeps, event: Record<string, unknown>): Promise<RemoteResult> {
  const watcher = new BatchWatcher(deps.progress);
  let answer: { outcome: UnloadOutcome } | { error: unknown } | undefined;
  const invocation = invokeFunction(deps.lambda, deps.functionName, event).then(
    (outcome) => (answer = { outcome }),
    (error: unknown) => (answer = { error }),
  );
  const watching = event.action === 'run';
  while (answer === undefined) {
    if (watching) watcher.observeRun(await deps.reader.runState(undefined, deps.clock()));
    await Promise.race([invocation, deps.sleep(deps.pollMs)]);
  }
  if ('error' in answer) throw answer.error;
  const runId = waitingRun(answer.outcome, deps.statementPrefix);
  if (!watching || runId === undefined) return { outcome: answer.outcome };
  return { outcome: answer.outcome, followed: await follow(deps, runId, watcher) };
}
