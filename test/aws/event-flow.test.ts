import {
  BatchExecuteStatementCommand,
  ExecuteStatementCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { DataApiWarehouse } from '../../src/engines/aws/data-api-warehouse';
import type { AwsEngine } from '../../src/engines/aws/engine';
import { handleUnload, outcomeMetrics, parseUnloadEvent, UnloadOutcome } from '../../src/runtime/unload';
import { duckdbDialect } from '../../src/sql/duckdb-dialect';
import { DataApiOnDuckDb, PREFIX, SimulatedStatement, statusChange } from '../../devkit/scripted-aws';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';
import { parseCalendarDate } from '../../src/core/cutoff';
import { Invariants } from '../support/invariants';
import { random } from '../support/random';

const RUN = '20260101T000000Z';
const SCHEDULE = {
  version: '0',
  id: 'schedule-2026',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-01-01T00:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/RedshiftArchive-Yearly'],
  detail: {},
};
const WATCHDOG = { action: 'watchdog' };
const STATUS = { action: 'status' };
/** Longer than the watchdog's threshold (RESUME_IDLE_AFTER_MS, 30 min). */
const AN_HOUR = 3600_000;
const CUTOFF = parseCalendarDate('2026-01-01', 'test');
/** The commit of transactions 2024 at its first export. */
const COMMIT_2024 = `${RUN}.commit.transactions.2024.a1`;
/** What the Lambda may wait in one invocation, in the simulation's milliseconds. */
const BUDGET_MS = 30_000;

/** What a test scripts about particular statements. */
interface Script {
  /** The statement outlives its invocation (a read too, though it sends no event). */
  readonly outlives?: (statement: SimulatedStatement) => boolean;
  /** The statement fails with this error instead of running. */
  readonly failure?: (statement: SimulatedStatement) => string | undefined;
  /** What other sessions do just before a statement that outlived its invocation ends. */
  readonly ending?: (statement: SimulatedStatement) => Promise<void>;
  /** The protocol is told the invocation's remaining time too (as on Lambda), and every statement takes a poll or two. */
  readonly budgeted?: boolean;
  /** EventBridge loses the statement's completion event. */
  readonly lost?: (statement: SimulatedStatement) => boolean;
}

/** One invocation of the Lambda: the event it got, what it did, and what it sent. */
interface Invocation {
  readonly event: unknown;
  readonly outcome?: UnloadOutcome;
  readonly error?: Error;
  readonly sent: readonly SimulatedStatement[];
}

/**
 * The deployed event flow, played on the embedded engine: the Lambda's runtime (event parsing,
 * the event rule, the protocol) on the Data API adapter, whose Data API runs each statement on
 * DuckDB. Every statement submitted with an event produces its status-change event, at least
 * once and sometimes twice, queued at a random place (so out of order); invocations take one
 * event at a time from the queue (reserved concurrency 1). A statement that outlives its
 * invocation ends between two invocations, sometimes only after several.
 */
class EventFlow {
  readonly queue: unknown[] = [];
  readonly invocations: Invocation[] = [];
  readonly api: DataApiOnDuckDb;
  /** How far the function's clock runs ahead of the system's: the time that passed without an invocation. */
  laterMs = 0;
  private readonly next: () => number;

  private constructor(
    readonly world: World,
    private readonly engine: Omit<AwsEngine, 'warehouse'>,
    session: ConstructorParameters<typeof DataApiOnDuckDb>[0],
    seed: number,
    private readonly script: Script,
  ) {
    this.next = random(seed);
    this.api = new DataApiOnDuckDb(session, {
      // reads end within a few polls; an export or a commit outlives its invocation one time in three
      polls: (s) =>
        script.budgeted
          ? 1 + Math.floor(this.next() * 2)
          : script.outlives?.(s) || (s.withEvent && this.next() < 0.35)
            ? Infinity
            : Math.floor(this.next() * 3),
      ...(script.failure ? { failure: script.failure } : {}),
      ended: (s) => {
        if (script.lost?.(s)) return;
        const event = statusChange(s.fullName, s.id, s.status);
        for (let copies = this.next() < 0.3 ? 2 : 1; copies > 0; copies--) {
          this.queue.splice(Math.floor(this.next() * (this.queue.length + 1)), 0, event);
        }
      },
    });
  }

  static async create(seed: number, script: Script = {}): Promise<EventFlow> {
    const world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
    const local = await world.session();
    const cluster = await world.session();
    const engine = {
      config: CONTABYX,
      lake: local.lake,
      catalog: local.catalog,
      sleep: async () => undefined,
    };
    return new EventFlow(world, engine, cluster.warehouse, seed, script);
  }

  /** One invocation of the Lambda for `event`, with the time budget of a fresh invocation. */
  async invoke(event: unknown): Promise<Invocation> {
    this.api.invocation = this.invocations.length + 1;
    let elapsed = 0;
    const warehouse = new DataApiWarehouse({
      client: new RedshiftDataClient({}),
      target: CONTABYX.warehouse,
      dialect: duckdbDialect,
      statementPrefix: PREFIX,
      procedureSchema: CONTABYX.ledger.schema,
      remainingMs: () => BUDGET_MS - elapsed,
      sleep: async (ms) => {
        elapsed += ms;
      },
    });
    let invocation: Invocation;
    try {
      const remaining = this.script.budgeted ? { remainingMs: () => BUDGET_MS - elapsed } : {};
      const outcome = await handleUnload(
        parseUnloadEvent(event),
        { ...this.engine, warehouse, clock: () => new Date(Date.now() + this.laterMs), ...remaining },
        () => new Date('2026-01-01T00:00:05Z'),
      );
      invocation = { event, outcome, sent: this.sentIn(this.api.invocation) };
    } catch (error) {
      invocation = { event, error: error as Error, sent: this.sentIn(this.api.invocation) };
    }
    this.invocations.push(invocation);
    return invocation;
  }

  private sentIn(invocation: number): SimulatedStatement[] {
    return this.api.statements.filter((s) => s.invocation === invocation);
  }

  /**
   * Delivers events until none is left and no statement runs. Between two invocations, each
   * running statement ends with some chance; when no event is queued, the rest end.
   */
  async drain(limit = 200): Promise<void> {
    while (this.queue.length > 0 || this.api.running().length > 0) {
      if (this.invocations.length >= limit)
        throw new Error(`the flow did not go quiet after ${limit} invocations`);
      for (const statement of this.api.running()) {
        if (this.queue.length > 0 && this.next() >= 0.6) continue;
        await this.script.ending?.(statement);
        await this.api.end(statement);
      }
      const event = this.queue.shift();
      if (event !== undefined) await this.invoke(event);
    }
  }

  /** Data API calls that submit a statement, since the mock was last reset. */
  submissions(): number {
    return (
      this.api.rsd.commandCalls(ExecuteStatementCommand).length +
      this.api.rsd.commandCalls(BatchExecuteStatementCommand).length
    );
  }

  close(): void {
    this.world.close();
  }
}

let flow: EventFlow | undefined;
afterEach(() => flow?.close());

const outcomes = (invocations: readonly Invocation[]) =>
  invocations.map((i) => i.outcome?.outcome ?? `failed: ${i.error?.message}`);

describe('the event flow, as EventBridge delivers it', () => {
  test('(a) from the yearly schedule, a whole contabyx run of three archive years goes quiet, finished, over several invocations', async () => {
    // given the small contabyx set, whose union views read every row
    flow = await EventFlow.create(20260101);
    const before = await flow.world.viewRows();

    // when the yearly schedule fires, and the daily watchdog fires while the run is under way
    flow.queue.push(SCHEDULE);
    await flow.invoke(flow.queue.shift());
    flow.queue.splice(1, 0, WATCHDOG);
    await flow.drain();

    // then the run finished: the ledger says so and every union view reads the same rows
    const invocations = flow.invocations;
    console.log(
      `flow (a): ${invocations.length} invocations (${outcomes(invocations).filter((o) => o === 'run').length} advanced the run, ` +
        `${outcomes(invocations).filter((o) => o === 'dropped').length} dropped an event, ` +
        `${outcomes(invocations).filter((o) => o === 'waiting').length} left a statement to its event), ` +
        `${flow.api.statements.length} statements, ${flow.api.statements.filter((s) => s.withEvent).length} with an event`,
    );
    expect((await flow.world.ledgerRuns()).map((r) => [r.run_id, r.state, r.error])).toEqual([
      [RUN, 'finished', null],
    ]);
    expect(await flow.world.viewRows()).toEqual(before);
    expect((await flow.world.committedBatches()).length).toBe(9);
    // and no event is pending, no statement runs, and no invocation failed
    expect([flow.queue.length, flow.api.running().length]).toEqual([0, 0]);
    expect(invocations.filter((i) => i.error)).toEqual([]);
    // and it took more than one invocation (completion events resumed it), but a bounded number
    expect(invocations.filter((i) => i.outcome?.outcome === 'waiting').length).toBeGreaterThan(0);
    expect(invocations.length).toBeGreaterThan(3);
    expect(invocations.length).toBeLessThanOrEqual(60);
    // and exactly one invocation finished the run, reporting its rows as metrics
    const finished = invocations.filter(
      (i) => i.outcome?.outcome === 'run' && i.outcome.report.outcome === 'finished',
    );
    expect(finished).toHaveLength(1);
    expect(outcomeMetrics(finished[0].outcome as UnloadOutcome, 1).map((m) => m.name)).toEqual([
      'InvocationDuration',
      'RowsArchived',
      'BytesArchived',
      'RunsFinished',
    ]);
    // and every event that advanced nothing was dropped before any SQL was sent
    const dropped = invocations.filter((i) => i.outcome?.outcome === 'dropped');
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.flatMap((i) => i.sent)).toEqual([]);
    // and every statement with an event is an export or a commit of the run, which the rule matches
    const withEvent = flow.api.statements.filter((s) => s.withEvent);
    expect(
      withEvent.every(
        (s) => new RegExp(`^${RUN}\\.(export|commit)\\.`).test(s.name) && s.fullName.startsWith(PREFIX),
      ),
    ).toBe(true);
    // and the watchdog, a moment after a step, only reported status and sent no statement with an event
    const watchdog = invocations.find((i) => i.event === WATCHDOG);
    expect(watchdog?.outcome).toMatchObject({
      outcome: 'watchdog',
      resumed: false,
      reason: expect.stringMatching(
        new RegExp(
          `^run ${RUN} (recorded a step 0 min ago \\(resumed after 30 min idle\\)|is idle, but statements of this stack run)`,
        ),
      ),
    });
    expect(watchdog?.sent.filter((s) => s.withEvent)).toEqual([]);
  });

  test.each([1, 2, 3, 4, 5])(
    '(a) goes quiet and finishes whatever the order of events (seed %d)',
    async (seed) => {
      flow = await EventFlow.create(seed);
      const before = await flow.world.viewRows();
      flow.queue.push(SCHEDULE);
      await flow.drain();
      expect((await flow.world.ledgerRuns()).map((r) => [r.run_id, r.state])).toEqual([[RUN, 'finished']]);
      expect(await flow.world.viewRows()).toEqual(before);
      expect([flow.queue.length, flow.api.running().length]).toEqual([0, 0]);
      expect(flow.invocations.filter((i) => i.error)).toEqual([]);
      expect(flow.invocations.filter((i) => i.outcome?.outcome === 'dropped').flatMap((i) => i.sent)).toEqual(
        [],
      );
    },
  );

  test('(e) a long run hands over to a fresh invocation at a batch boundary before its time runs short: no read is left in flight, no invocation fails', async () => {
    // given invocations of a 30 s budget, less than the time a run keeps in hand for the next batch
    flow = await EventFlow.create(17, { budgeted: true });
    const before = await flow.world.viewRows();
    const invariants = await Invariants.capture(flow.world, CUTOFF);

    // when the yearly schedule fires
    flow.queue.push(SCHEDULE);
    await flow.drain();

    // then each invocation took one batch and left the next to the completion event of the mark
    // that ended it (the batch's end and the next one's start), and none failed
    expect((await flow.world.ledgerRuns()).map((r) => [r.run_id, r.state, r.error])).toEqual([
      [RUN, 'finished', null],
    ]);
    expect(await flow.world.viewRows()).toEqual(before);
    await invariants.check('after the run');
    expect(flow.invocations.filter((i) => i.error)).toEqual([]);
    const handedOver = flow.invocations.filter(
      (i) => i.outcome?.outcome === 'waiting' && i.outcome.statements[0].name === `${PREFIX}${RUN}.mark`,
    );
    expect(handedOver).toHaveLength(2);
    // the mark is the only statement with an event besides the exports and commits, and it ends each such invocation
    expect(handedOver.every((i) => i.sent.at(-1)?.name === `${RUN}.mark` && i.sent.at(-1)?.withEvent)).toBe(
      true,
    );
    expect(
      flow.api.statements
        .filter((s) => s.withEvent)
        .every((s) => new RegExp(`^${RUN}\\.(export|commit|mark)`).test(s.name)),
    ).toBe(true);
  });

  test('(b) the watchdog with no unfinished run reports the ledger, starts no run and submits no statement that emits an event', async () => {
    // given a warehouse that was never archived
    flow = await EventFlow.create(7);

    // when the watchdog fires
    const invocation = await flow.invoke(WATCHDOG);

    // then it only reported status: no run started, nothing sent with an event
    expect(invocation.outcome).toEqual({
      outcome: 'watchdog',
      status: expect.objectContaining({ runs: [] }),
      resumed: false,
      reason: 'no unfinished run',
    });
    expect(invocation.sent.length).toBeGreaterThan(0);
    expect(invocation.sent.filter((s) => s.withEvent)).toEqual([]);
    expect(invocation.sent.filter((s) => !s.name.startsWith('ledger.'))).toEqual([]);
    expect(await flow.world.ledgerRuns()).toEqual([]);
    expect(outcomeMetrics(invocation.outcome as UnloadOutcome, 1).slice(1)).toEqual([
      { name: 'UnfinishedRun', unit: 'Count', value: 0 },
      { name: 'StalledRun', unit: 'Count', value: 0 },
      { name: 'RunsResumedByWatchdog', unit: 'Count', value: 0 },
    ]);
    await flow.drain();
    expect([flow.invocations.length, flow.queue.length]).toEqual([1, 0]);
  });

  test('(c) a stale completion event, repeated after the run finished, is dropped before any SQL is sent', async () => {
    // given a finished run
    flow = await EventFlow.create(11);
    flow.queue.push(SCHEDULE);
    await flow.drain();
    const firstExport = flow.api.statements.find((s) => s.withEvent) as SimulatedStatement;
    const lastCommit = [...flow.api.statements]
      .reverse()
      .find((s) => s.withEvent && s.name.includes('.commit.')) as SimulatedStatement;
    const submitted = flow.submissions();

    // when the first export's and the last commit's events come again, the latter as FAILED
    const stale = await flow.invoke(statusChange(firstExport.fullName, firstExport.id, 'FINISHED'));
    const failed = await flow.invoke(statusChange(lastCommit.fullName, lastCommit.id, 'FAILED'));

    // then both are dropped, having only asked the Data API about the run's statements
    expect(stale.outcome).toEqual({
      outcome: 'dropped',
      statementName: firstExport.fullName,
      reason: expect.stringMatching(
        new RegExp(
          `^run ${RUN} went on after this statement \\(\\d+ later statements, the latest ${PREFIX}${RUN}\\.maintenance\\)$`,
        ),
      ),
    });
    expect(failed.outcome).toMatchObject({ outcome: 'dropped' });
    expect(flow.submissions()).toBe(submitted);
    expect([stale.sent, failed.sent]).toEqual([[], []]);
    await flow.drain();
    expect(flow.queue).toEqual([]);
  });

  test("(d) another stack's event is dropped without a single Data API call", async () => {
    flow = await EventFlow.create(13);
    const other = statusChange(
      `redshift-archive.OtherStack.${RUN}.commit.transactions.2025.a1`,
      '00000000-0000-4000-8000-000000000999',
      'FAILED',
    );
    const invocation = await flow.invoke(other);
    expect(invocation.outcome).toEqual({
      outcome: 'dropped',
      statementName: `redshift-archive.OtherStack.${RUN}.commit.transactions.2025.a1`,
      reason: `not a statement of this stack (its names start with ${PREFIX})`,
    });
    expect(flow.api.rsd.calls()).toHaveLength(0);
    expect(outcomeMetrics(invocation.outcome as UnloadOutcome, 1)).toContainEqual({
      name: 'EventsDropped',
      unit: 'Count',
      value: 1,
    });
    await flow.drain();
    expect([flow.invocations.length, flow.queue.length]).toEqual([1, 0]);
  });

  test('(e) an export that fails after its invocation stopped waiting fails the run once, however often its event comes; a run resumes it', async () => {
    // given the first export of transfers 2024 outlives its invocation, then fails
    const first = (s: SimulatedStatement) =>
      s.name === `${RUN}.export.transfers.2024.a1` &&
      !flow?.api.statements.some((o) => o.name === s.name && o.id < s.id);
    flow = await EventFlow.create(17, {
      outlives: first,
      failure: (s) => (first(s) ? 'S3ServiceException: Access Denied' : undefined),
    });
    const before = await flow.world.viewRows();
    flow.queue.push(SCHEDULE);
    await flow.drain();
    const failing = flow.api.statements.find(first) as SimulatedStatement;
    expect(flow.invocations[failing.invocation - 1].outcome).toMatchObject({ outcome: 'waiting' });

    // then exactly one invocation failed (the alarm), with Redshift's reason, which the ledger keeps
    const failures = flow.invocations.filter((i) => i.error);
    expect(failures.map((i) => i.error?.message)).toEqual([
      `run ${RUN} stopped: statement ${failing.fullName} FAILED: ERROR: S3ServiceException: Access Denied`,
    ]);
    const [run] = await flow.world.ledgerRuns();
    expect([run.state, run.error]).toEqual([
      'running',
      `statement ${failing.fullName} FAILED: ERROR: S3ServiceException: Access Denied`,
    ]);
    expect(await flow.world.viewRows()).toEqual(before);

    // when the same event comes again, it is dropped
    const again = await flow.invoke(statusChange(failing.fullName, failing.id, 'FAILED'));
    expect(again.outcome).toMatchObject({ outcome: 'dropped' });

    // when an operator runs the archive again, the run resumes and finishes
    flow.queue.push({ action: 'run' });
    await flow.drain();
    expect((await flow.world.ledgerRuns()).map((r) => [r.run_id, r.state, r.error])).toEqual([
      [RUN, 'finished', null],
    ]);
    expect(await flow.world.viewRows()).toEqual(before);
    expect(flow.invocations.filter((i) => i.error)).toHaveLength(1);
  });

  /** The first statement of a step: later ones of the same name are a retry. */
  const firstOf = (step: string) => (s: SimulatedStatement) =>
    s.name === step && !flow?.api.statements.some((o) => o.name === s.name && o.id < s.id);

  test.each([
    ['the warehouse reports a conflict', 'conflict with concurrent transaction', false],
    ["another transaction raised the views' version first", undefined, true],
  ])(
    '(f) a commit that outlives its invocation and then fails because %s is sent again, unchanged, and the run finishes',
    async (_, error, raiseVersion) => {
      // given the first commit of transactions 2024 outlives its invocation, then fails on a conflict
      const first = firstOf(COMMIT_2024);
      flow = await EventFlow.create(19, {
        outlives: first,
        failure: (s) => (first(s) ? error : undefined),
        ending: async (s) => {
          // (a deploy's view setup, say, commits while it runs)
          if (raiseVersion && first(s))
            await flow?.world.admin.execute('UPDATE archive_meta.views_version SET version = version + 1');
        },
      });
      const invariants = await Invariants.capture(flow.world, CUTOFF);

      // when the yearly run goes on through its events
      flow.queue.push(SCHEDULE);
      await flow.drain();

      // then the commit's failure came through its event, and the same commit was sent again
      const commits = flow.api.statements.filter((s) => s.name === COMMIT_2024);
      expect(commits.map((s) => s.status)).toEqual(['FAILED', 'FINISHED']);
      expect(flow.invocations[commits[0].invocation - 1].outcome).toMatchObject({ outcome: 'waiting' });
      const retried = flow.invocations.find((i) => i.sent.includes(commits[1]));
      expect(retried?.event).toEqual(statusChange(commits[0].fullName, commits[0].id, 'FAILED'));
      expect(commits[1].sql.slice(1)).toEqual(commits[0].sql.slice(1));
      // and nothing was exported again, no invocation failed, and the run finished with every row in one place
      expect(
        flow.api.statements.filter((s) => s.name.startsWith(`${RUN}.export.transactions.2024.a2`)),
      ).toEqual([]);
      expect(flow.invocations.filter((i) => i.error)).toEqual([]);
      expect((await flow.world.ledgerRuns()).map((r) => [r.state, r.error])).toEqual([['finished', null]]);
      await invariants.check('after the run');
    },
  );

  test('(g) a commit that outlives its invocation and fails its check (the rows changed since the export) discards the batch, which is exported again and committed', async () => {
    // given the first commit of transactions 2024 outlives its invocation, and another session
    // updates an old row of 2024 before it runs
    const first = firstOf(COMMIT_2024);
    flow = await EventFlow.create(23, {
      outlives: first,
      ending: async (s) => {
        if (first(s))
          await flow?.world.admin.execute(
            'UPDATE contabyx.transactions SET amount = 1000.5 WHERE transactionid = 130',
          );
      },
    });
    const invariants = await Invariants.capture(flow.world, CUTOFF);
    const [updated] = await flow.world.rows(
      '(SELECT * FROM contabyx.transactions WHERE transactionid = 130)',
    );

    // when the yearly run goes on through its events
    flow.queue.push(SCHEDULE);
    await flow.drain();
    invariants.removeRows('transactions', [updated]);
    invariants.addLate('transactions', [JSON.stringify({ ...JSON.parse(updated), amount: '1000.5' })]);

    // then the check failed the first commit, whose event discarded the batch for a second export
    const commits = flow.api.statements.filter((s) => s.name.startsWith(`${RUN}.commit.transactions.2024.`));
    expect(commits.map((s) => [s.name, s.status])).toEqual([
      [COMMIT_2024, 'FAILED'],
      [`${RUN}.commit.transactions.2024.a2`, 'FINISHED'],
    ]);
    expect(commits[0].error).toMatch(/NOT NULL constraint failed: commit_checks\.passed/);
    const rule = flow.invocations.find(
      (i) =>
        JSON.stringify(i.event) ===
        JSON.stringify(statusChange(commits[0].fullName, commits[0].id, 'FAILED')),
    );
    expect(rule?.sent.map((s) => s.name)).toContain(`${RUN}.discard.transactions.2024`);
    // and no invocation failed, the run finished, and the changed row went with the second export
    expect(flow.invocations.filter((i) => i.error)).toEqual([]);
    expect((await flow.world.ledgerRuns()).map((r) => [r.state, r.error])).toEqual([['finished', null]]);
    const batches = await flow.world.batches();
    expect(
      batches.filter((b) => b.table_name === 'transactions').map((b) => [b.year, b.attempt, b.committed]),
    ).toEqual([
      ['2023', '1', '1'],
      ['2024', '2', '1'],
      ['2025', '1', '1'],
    ]);
    await invariants.check('after the run');
  });

  test('(h) a commit that outlives its invocation and fails for any other reason fails the run once, with the reason in the ledger; the watchdog leaves the failed run to its operator, and a run resumes it', async () => {
    // given the first commit of transactions 2024 outlives its invocation, then fails on a permission
    const first = firstOf(COMMIT_2024);
    flow = await EventFlow.create(29, {
      outlives: first,
      failure: (s) => (first(s) ? 'permission denied for relation transactions' : undefined),
    });
    const invariants = await Invariants.capture(flow.world, CUTOFF);
    flow.queue.push(SCHEDULE);
    await flow.drain();

    // then exactly one invocation failed (the alarm), and the ledger says why
    const failing = flow.api.statements.find(first) as SimulatedStatement;
    const reason = `run ${RUN} failed at transactions 2024: statement ${COMMIT_2024} FAILED: ERROR: permission denied for relation transactions`;
    expect(flow.invocations.filter((i) => i.error).map((i) => i.error?.message)).toEqual([
      `${reason}\nEvery row is still in exactly one visible place; run again to resume, or abort.`,
    ]);
    expect((await flow.world.ledgerRuns()).map((r) => [r.state, r.error])).toEqual([['running', reason]]);
    await invariants.check('after the failure');
    expect(failing.status).toBe('FAILED');

    // when the watchdog fires an hour later, it leaves the failed run to its operator
    flow.laterMs = AN_HOUR;
    const watchdog = await flow.invoke(WATCHDOG);
    expect(watchdog.outcome).toMatchObject({
      outcome: 'watchdog',
      resumed: false,
      reason: `run ${RUN} failed and waits for its operator (run or abort): ${reason}`,
    });
    expect(watchdog.sent.filter((s) => !s.name.startsWith('ledger.'))).toEqual([]);
    expect((await flow.world.ledgerRuns()).map((r) => [r.state, r.error])).toEqual([['running', reason]]);

    // when an operator runs the archive again, the run resumes and finishes
    flow.queue.push({ action: 'run' });
    await flow.drain();
    expect((await flow.world.ledgerRuns()).map((r) => [r.state, r.error])).toEqual([['finished', null]]);
    await invariants.check('after the resumed run');
  });

  test('(i) a read that outlives its invocation fails it, and status shows why the run stopped; a run resumes it', async () => {
    // given the count before the first export of transfers 2024 outlives its invocation
    const count = `${RUN}.export.transfers.2024.a1.count`;
    const first = firstOf(count);
    flow = await EventFlow.create(31, { outlives: first });
    const invariants = await Invariants.capture(flow.world, CUTOFF);
    flow.queue.push(SCHEDULE);
    await flow.drain();

    // then one invocation failed (the alarm): nothing would announce the read's end
    const read = flow.api.statements.find(first) as SimulatedStatement;
    const reason =
      `statement ${read.id} (${count}) is still running, and no event announces its end, and this invocation ` +
      'ran out of time; the run resumes with the next run (redshift-archive run) once the statement has ended';
    expect(flow.invocations.filter((i) => i.error).map((i) => i.error?.message)).toEqual([reason]);

    // when the operator asks for status, it names the reason
    const status = await flow.invoke(STATUS);
    expect(status.outcome).toMatchObject({
      outcome: 'status',
      status: { active: { runId: RUN, state: 'running', error: reason } },
    });
    await invariants.check('after the failure');

    // and when they run the archive again, the run resumes and finishes
    flow.queue.push({ action: 'run' });
    await flow.drain();
    expect((await flow.world.ledgerRuns()).map((r) => [r.state, r.error])).toEqual([['finished', null]]);
    await invariants.check('after the resumed run');
  });

  /**
   * The yearly run, gone quiet unfinished: the first commit of transactions 2024 outlived its
   * invocation, and EventBridge lost its completion event.
   */
  async function runThatLostAnEvent(seed: number) {
    const first = firstOf(COMMIT_2024);
    flow = await EventFlow.create(seed, { outlives: first, lost: first });
    const invariants = await Invariants.capture(flow.world, CUTOFF);
    flow.queue.push(SCHEDULE);
    await flow.drain();
    expect((await flow.world.ledgerRuns()).map((r) => [r.state, r.error])).toEqual([['running', null]]);
    return { flow, invariants, lost: flow.api.statements.find(first) as SimulatedStatement };
  }

  test('(j) a completion event that EventBridge loses leaves the run idle; the watchdog resumes it once it has been idle 30 minutes, and it finishes with every row in one place', async () => {
    // given the first commit of transactions 2024 outlived its invocation, and its event was lost
    const given = await runThatLostAnEvent(37);
    flow = given.flow;
    const { invariants, lost } = given;
    expect([lost.status, lost.withEvent]).toEqual(['FINISHED', true]);
    const invocations = flow.invocations.length;

    // when the watchdog fires at once, the run has not been idle long enough: status only
    const early = await flow.invoke(WATCHDOG);
    expect(early.outcome).toMatchObject({
      outcome: 'watchdog',
      resumed: false,
      reason: `run ${RUN} recorded a step 0 min ago (resumed after 30 min idle)`,
    });
    expect(early.sent.filter((s) => !s.name.startsWith('ledger.'))).toEqual([]);

    // when it fires an hour later, it delivers the lost event itself
    flow.laterMs = AN_HOUR;
    const watchdog = await flow.invoke(WATCHDOG);
    expect(watchdog.outcome).toMatchObject({
      outcome: 'watchdog',
      resumed: true,
      reason: `run ${RUN} recorded no step for 60 min and no statement of this stack runs: the completion event of its latest statement, ${lost.fullName} (FINISHED), was lost`,
    });
    expect(outcomeMetrics(watchdog.outcome as UnloadOutcome, 1)).toContainEqual({
      name: 'RunsResumedByWatchdog',
      unit: 'Count',
      value: 1,
    });
    expect(watchdog.sent.length).toBeGreaterThan(0);
    // and the late event, should it come after all, is dropped before any SQL is sent
    flow.queue.push(statusChange(lost.fullName, lost.id, 'FINISHED'));
    await flow.drain();
    const late = flow.invocations.find(
      (i, n) =>
        n > invocations + 1 &&
        JSON.stringify(i.event) === JSON.stringify(statusChange(lost.fullName, lost.id, 'FINISHED')),
    );
    expect(late?.outcome).toMatchObject({ outcome: 'dropped' });
    expect(late?.sent).toEqual([]);

    // then the run finished with no new run id, no invocation failed, and every union view is exact
    expect((await flow.world.ledgerRuns()).map((r) => [r.run_id, r.state, r.error])).toEqual([
      [RUN, 'finished', null],
    ]);
    expect(flow.invocations.filter((i) => i.error)).toEqual([]);
    await invariants.check('after the resumed run');
  });

  test('(k) the watchdog leaves an idle run alone while a statement of this stack runs: its own event will resume it', async () => {
    // given the yearly run left its first export to the export's completion event
    const firstExport = (s: SimulatedStatement) =>
      s.withEvent && !flow?.api.statements.some((o) => o.withEvent && o.id < s.id);
    flow = await EventFlow.create(41, { outlives: firstExport });
    const started = await flow.invoke(SCHEDULE);
    expect(started.outcome).toMatchObject({ outcome: 'waiting' });
    const running = flow.api.running();
    expect(running.map((s) => s.withEvent)).toEqual([true]);

    // when the watchdog fires an hour later
    flow.laterMs = AN_HOUR;
    const watchdog = await flow.invoke(WATCHDOG);

    // then it only reported status, naming the running statement, and sent nothing of the run
    expect(watchdog.outcome).toMatchObject({
      outcome: 'watchdog',
      resumed: false,
      reason: `run ${RUN} is idle, but statements of this stack run and send their own events: ${running[0].fullName}`,
    });
    expect(watchdog.sent.filter((s) => !s.name.startsWith('ledger.'))).toEqual([]);
    expect(outcomeMetrics(watchdog.outcome as UnloadOutcome, 1)).toContainEqual({
      name: 'RunsResumedByWatchdog',
      unit: 'Count',
      value: 0,
    });
  });

  test('(l) when the Data API no longer lists any statement of the idle run, the watchdog resumes it from the ledger, and it finishes', async () => {
    // given a run whose event was lost a day ago: the Data API has forgotten its statements
    const given = await runThatLostAnEvent(43);
    flow = given.flow;
    for (const s of flow.api.statements) flow.api.forgotten.add(s.id);

    // when the watchdog fires a day later
    flow.laterMs = 24 * AN_HOUR;
    const watchdog = await flow.invoke(WATCHDOG);
    await flow.drain();

    // then it resumed the run from the ledger, reported it stalled, and the run finished exact
    expect(watchdog.outcome).toMatchObject({
      outcome: 'watchdog',
      resumed: true,
      reason: `run ${RUN} recorded no step for 1440 min, no statement of this stack runs, and the Data API lists none of the run's (it forgets them after a day): resumed from the ledger`,
    });
    expect(outcomeMetrics(watchdog.outcome as UnloadOutcome, 1).slice(1, 4)).toEqual([
      { name: 'UnfinishedRun', unit: 'Count', value: 1 },
      { name: 'StalledRun', unit: 'Count', value: 1 },
      { name: 'RunsResumedByWatchdog', unit: 'Count', value: 1 },
    ]);
    expect((await flow.world.ledgerRuns()).map((r) => [r.run_id, r.state, r.error])).toEqual([
      [RUN, 'finished', null],
    ]);
    expect(flow.invocations.filter((i) => i.error)).toEqual([]);
    await given.invariants.check('after the resumed run');
  });
});
