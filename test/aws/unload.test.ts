import { BatchDeletePartitionCommand, GetPartitionsCommand } from '@aws-sdk/client-glue';
import {
  DescribeStatementCommand,
  ExecuteStatementCommand,
  ListStatementsCommand,
} from '@aws-sdk/client-redshift-data';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { tableNamed } from '../../src/config/config';
import { InputError, RunFailedError } from '../../src/core/errors';
import type { Row } from '../../src/protocol/ports';
import { handleUnload, outcomeMetrics, parseUnloadEvent } from '../../src/runtime/unload';
import { redshiftDialect } from '../../src/sql/redshift-dialect';
import { ArchiveSql } from '../../src/sql/statements';
import {
  committedLocation,
  ledgerAnswers,
  PREFIX,
  ROLE,
  ScriptedAws,
  statementId,
  statusChange,
} from '../../devkit/scripted-aws';
import { CONTABYX } from '../../devkit/world';
import { failure } from '../support/failure';

const RUN = '20260101T000000Z';
const NOW = () => new Date('2026-03-04T05:06:07Z');
const SCHEDULE = { source: 'aws.events', 'detail-type': 'Scheduled Event', time: '2026-01-01T00:00:03Z' };
const COMMIT = `${RUN}.commit.transactions.2025.a1`;
/** The run the yearly schedule starts: its id is the schedule's own time. */
const YEARLY = '20260101T000003Z';

/** The ledger row of one table's part of the 2025 batch, as the batches query returns it. */
function batchRow(table: string, state: string): Row {
  return {
    run_id: RUN,
    table_name: table,
    family: 'transactions',
    year: '2025',
    source: 'hot',
    state,
    attempt: '1',
    planned_rows: '5',
    location: null,
    row_count: null,
    checksum: null,
    file_count: null,
    byte_count: null,
    columns: null,
    error: null,
    committed: '0',
  };
}

/** A run whose 2025 batch waits for its export, on a scripted Data API. */
function pendingExport(): ScriptedAws {
  const aws = new ScriptedAws(
    ledgerAnswers('running', (name) => {
      if (name === 'ledger.batches')
        return ['transactions', 'transfers', 'tax'].map((t) => batchRow(t, 'pending'));
      if (name.endsWith('.count')) return [{ row_count: '5' }];
      return undefined;
    }),
  );
  aws.s3
    .on(GetObjectCommand)
    .rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
  aws.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  return aws;
}

/** Sends statements of the run as an earlier invocation did; the test then sees only what follows. */
async function earlier(aws: ScriptedAws, steps: readonly string[]): Promise<void> {
  const warehouse = aws.engine().warehouse;
  for (const step of steps) await warehouse.execute('SELECT 1', step, { outlives: true });
  aws.rsd.resetHistory();
  aws.sent.length = 0;
}

describe("the unload Lambda's events", () => {
  test("takes the schedule's own time, so a late or repeated delivery computes the same run", () => {
    expect(parseUnloadEvent({ ...SCHEDULE, id: 'e-1', account: '123456789012', detail: {} })).toEqual({
      kind: 'schedule',
      time: new Date('2026-01-01T00:00:03Z'),
    });
  });

  test('takes a manual action with a validated cutoff', () => {
    expect(parseUnloadEvent({ action: 'plan', cutoff: '2025-01-01' })).toEqual({
      kind: 'manual',
      action: 'plan',
      cutoff: '2025-01-01',
    });
    expect(parseUnloadEvent({ action: 'status' })).toEqual({ kind: 'manual', action: 'status' });
    expect(parseUnloadEvent({ action: 'preflight' })).toEqual({ kind: 'manual', action: 'preflight' });
    expect(parseUnloadEvent({ action: 'watchdog' })).toEqual({ kind: 'manual', action: 'watchdog' });
  });

  test("takes a statement's status change, whoever's statement it is (another stack's is dropped later, not refused)", () => {
    const id = statementId(3);
    expect(parseUnloadEvent(statusChange(`${PREFIX}${COMMIT}`, id, 'ABORTED'))).toEqual({
      kind: 'statement',
      statementName: `${PREFIX}${COMMIT}`,
      statementId: id,
      state: 'ABORTED',
    });
    expect(parseUnloadEvent(statusChange('someone-else.q1', id, 'FINISHED'))).toMatchObject({
      statementName: 'someone-else.q1',
    });
  });

  test('takes an audit, light unless asked deep, and a restore of a year, of every family unless a table is named, keeping the files unless asked', () => {
    expect(parseUnloadEvent({ action: 'audit' })).toEqual({ kind: 'manual', action: 'audit', deep: false });
    expect(parseUnloadEvent({ action: 'audit', deep: true })).toEqual({
      kind: 'manual',
      action: 'audit',
      deep: true,
    });
    expect(parseUnloadEvent({ action: 'restore', year: 2024 })).toEqual({
      kind: 'manual',
      action: 'restore',
      year: 2024,
      deleteFiles: false,
    });
    expect(
      parseUnloadEvent({ action: 'restore', year: 2024, table: 'transactions', deleteFiles: true }),
    ).toEqual({ kind: 'manual', action: 'restore', year: 2024, table: 'transactions', deleteFiles: true });
  });

  test('takes a repair, which records lost batches only when asked', () => {
    expect(parseUnloadEvent({ action: 'repair' })).toEqual({
      kind: 'manual',
      action: 'repair',
      acceptLost: false,
    });
    expect(parseUnloadEvent({ action: 'repair', acceptLost: true })).toEqual({
      kind: 'manual',
      action: 'repair',
      acceptLost: true,
    });
  });

  const allowed =
    'allowed: an EventBridge "Scheduled Event", a "Redshift Data Statement Status Change" event, ' +
    '{"action": "plan" | "run", "cutoff"?: "YYYY-MM-DD"}, {"action": "status" | "abort" | "preflight" | "watchdog"}, ' +
    '{"action": "repair", "acceptLost"?: true | false}, {"action": "audit", "deep"?: true | false} ' +
    'or {"action": "restore", "year": YYYY, "table"?: "<root table>", "deleteFiles"?: true | false}';
  /** An event as error messages show it: JSON, cut at 80 characters. */
  const shown = (event: unknown) => `${JSON.stringify(event).slice(0, 77)}...`;
  const change = (detail: unknown) => ({
    source: 'aws.redshift-data',
    'detail-type': 'Redshift Data Statement Status Change',
    detail,
  });
  const badId = change({ statementName: 'x', statementId: "1' OR '1", state: 'FINISHED' });
  const badState = change({ statementName: 'x', statementId: statementId(1), state: 'STARTED' });
  test.each([
    [{ action: 'drop' }, `event: {"action":"drop"} is not allowed; ${allowed}`],
    [{ action: 'run', force: true }, `event: {"action":"run","force":true} is not allowed; ${allowed}`],
    [
      { action: 'abort', cutoff: '2025-01-01' },
      `event: {"action":"abort","cutoff":"2025-01-01"} is not allowed (no cutoff with abort); ${allowed}`,
    ],
    [
      { source: 'aws.events', 'detail-type': 'Scheduled Event', time: 'soon' },
      `event: {"source":"aws.events","detail-type":"Scheduled Event","time":"soon"} is not allowed (no valid time); ${allowed}`,
    ],
    [badId, `event: ${shown(badId)} is not allowed (no valid statement id); ${allowed}`],
    [badState, `event: ${shown(badState)} is not allowed (no valid state); ${allowed}`],
    [change('none'), `event: ${shown(change('none'))} is not allowed (no detail); ${allowed}`],
    ['run', `event: "run" is not allowed; ${allowed}`],
    [
      { action: 'run', deep: true },
      `event: {"action":"run","deep":true} is not allowed (no deep with run); ${allowed}`,
    ],
    [
      { action: 'watchdog', cutoff: '2026-01-01' },
      `event: {"action":"watchdog","cutoff":"2026-01-01"} is not allowed (no cutoff with watchdog); ${allowed}`,
    ],
    [
      { action: 'audit', year: 2024 },
      `event: {"action":"audit","year":2024} is not allowed (no year with audit); ${allowed}`,
    ],
    [
      { action: 'restore', year: 2024, cutoff: '2025-01-01' },
      `event: {"action":"restore","year":2024,"cutoff":"2025-01-01"} is not allowed (no cutoff with restore); ${allowed}`,
    ],
    [
      { action: 'restore', table: 'transactions' },
      `event: {"action":"restore","table":"transactions"} is not allowed (restore needs a year); ${allowed}`,
    ],
    [{ action: 'audit', deep: 'yes' }, 'deep: "yes" is not allowed; allowed: true or false'],
    [{ action: 'repair', acceptLost: 'yes' }, 'acceptLost: "yes" is not allowed; allowed: true or false'],
    [
      { action: 'run', acceptLost: true },
      `event: {"action":"run","acceptLost":true} is not allowed (no acceptLost with run); ${allowed}`,
    ],
    [{ action: 'restore', year: 24 }, 'year: 24 is not allowed; allowed: a year from 1000 to 9999'],
    [{ action: 'restore', year: 2024.5 }, 'year: 2024.5 is not allowed; allowed: a year from 1000 to 9999'],
    [{ action: 'restore', year: '2024' }, 'year: "2024" is not allowed; allowed: a year from 1000 to 9999'],
    [
      { action: 'restore', year: 2024, table: '' },
      `table: "" is not allowed; allowed: a root table's name as configured`,
    ],
    [
      { action: 'restore', year: 2024, deleteFiles: 1 },
      'deleteFiles: 1 is not allowed; allowed: true or false',
    ],
    [
      { action: 'plan', cutoff: 20250101 },
      'cutoff: 20250101 is not allowed; allowed: a real calendar date YYYY-MM-DD from 1900 on',
    ],
  ])('fails for %j with a clear error, before anything runs', (input, message) => {
    let thrown: unknown;
    try {
      parseUnloadEvent(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as Error).message).toBe(message);
  });

  test('fails for an impossible cutoff, naming it', () => {
    expect(() => parseUnloadEvent({ action: 'run', cutoff: '2026-02-30' })).toThrow(
      'cutoff: "2026-02-30" is not allowed; allowed: a real calendar date YYYY-MM-DD from 1900 on',
    );
  });
});

describe('a status-change event', () => {
  test('of a statement that the run went past is dropped, having asked only the Data API', async () => {
    // given the commit of 2025 was followed by the run's finish
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    await earlier(aws, [COMMIT, `${RUN}.finish`]);
    const commit = statementId(1);

    // when the commit's event comes (again, or late)
    const event = statusChange(`${PREFIX}${COMMIT}`, commit, 'FINISHED');
    const outcome = await handleUnload(parseUnloadEvent(event), aws.engine(), NOW);

    // then it is dropped: the Data API was asked about the statement and the run's statements, nothing was sent
    expect(outcome).toEqual({
      outcome: 'dropped',
      statementName: `${PREFIX}${COMMIT}`,
      reason: `run ${RUN} went on after this statement (1 later statements, the latest ${PREFIX}${RUN}.finish)`,
    });
    expect(aws.rsd.calls().map((c) => [c.args[0].constructor.name, c.args[0].input])).toEqual([
      ['DescribeStatementCommand', { Id: commit }],
      [
        'ListStatementsCommand',
        {
          StatementName: `${PREFIX}${RUN}.`,
          Status: 'ALL',
          RoleLevel: true,
          MaxResults: 100,
          NextToken: undefined,
        },
      ],
    ]);
    expect(aws.sent).toEqual([]);
  });

  test("of the run's latest statement, FINISHED, resumes the run", async () => {
    // given a run whose 2025 batch is to be exported, and whose last statement was the start's
    const aws = pendingExport();
    await earlier(aws, [`${RUN}.start`]);
    aws.status = (name) =>
      name.startsWith(`${RUN}.export.`) && !name.endsWith('.count') ? 'STARTED' : 'FINISHED';

    // when its event comes
    const event = statusChange(`${PREFIX}${RUN}.start`, statementId(1), 'FINISHED');
    const outcome = await handleUnload(
      parseUnloadEvent(event),
      aws.engine(() => 0),
      NOW,
    );

    // then the run goes on to the export, whose own event comes next
    const exported = `${RUN}.export.transactions.2025.a1`;
    expect(outcome).toEqual({
      outcome: 'waiting',
      statements: [{ id: aws.idOf(exported), name: `${PREFIX}${exported}` }],
    });
    expect(aws.sent.map((s) => [s.name, s.withEvent])).toEqual([
      ['ledger.shape', false],
      ['ledger.runs', false],
      ['ledger.batches', false],
      ['ledger.version', false],
      ['guard.columns', false],
      ['check.views', false],
      ['check.external-schema', false],
      // the batch's start, from the engine's clock
      [`${RUN}.mark`, false],
      [`${exported}.count`, false],
      [exported, true],
    ]);
  });

  test("of the run's latest statement, FINISHED, when a check refuses to go on, records the refusal as the run's error, so status says why", async () => {
    // given a run whose 2025 batch is committed, and whose Glue partitions were lost
    const aws = new ScriptedAws(ledgerAnswers('running'));
    aws.glue.on(GetPartitionsCommand).resolves({ Partitions: [] });
    await earlier(aws, [COMMIT]);

    // when the commit's event comes
    const event = statusChange(`${PREFIX}${COMMIT}`, statementId(1), 'FINISHED');
    const error = await failure(handleUnload(parseUnloadEvent(event), aws.engine(), NOW));

    // then the invocation fails (the alarm), and the ledger says why
    expect(error.message).toMatch(
      /^catalog: the Glue database contabyx lacks the partitions of 3 of 3 committed batches: /,
    );
    expect(aws.sent.at(-1)).toEqual({
      name: `${RUN}.failed`,
      batch: false,
      withEvent: false,
      sql: [`UPDATE "archive_meta"."runs" SET "error" = '${error.message}' WHERE "run_id" = '${RUN}'`],
    });
  });

  test('of a statement that FAILED after its invocation stopped waiting records why in the ledger, then fails the invocation (the alarm)', async () => {
    // given the export was the run's last statement, and it failed
    const exported = `${RUN}.export.tax.2025.a1`;
    const aws = new ScriptedAws(ledgerAnswers('running'));
    await earlier(aws, [exported]);
    aws.status = (name) => (name === exported ? 'FAILED' : 'FINISHED');
    aws.error = 'ERROR: S3ServiceException: Access Denied';

    // when its event comes
    const event = statusChange(`${PREFIX}${exported}`, statementId(1), 'FAILED');
    const error = await failure(handleUnload(parseUnloadEvent(event), aws.engine(), NOW));

    // then the run's error is recorded (a statement of the run: a repeated event is dropped), and the invocation fails
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toBe(
      `run ${RUN} stopped: statement ${PREFIX}${exported} FAILED: ERROR: S3ServiceException: Access Denied`,
    );
    expect(aws.sent.at(-1)).toEqual({
      name: `${RUN}.failed`,
      batch: false,
      withEvent: false,
      sql: [
        `UPDATE "archive_meta"."runs" SET "error" = 'statement ${PREFIX}${exported} FAILED: ERROR: S3ServiceException: Access Denied' WHERE "run_id" = '${RUN}'`,
      ],
    });
  });

  test('of a statement that was ABORTED when no run is unfinished is dropped, and raises no alarm', async () => {
    const aws = new ScriptedAws(ledgerAnswers('aborted'));
    await earlier(aws, [COMMIT]);
    aws.status = (name) => (name === COMMIT ? 'ABORTED' : 'FINISHED');
    const event = statusChange(`${PREFIX}${COMMIT}`, statementId(1), 'ABORTED');
    const outcome = await handleUnload(parseUnloadEvent(event), aws.engine(), NOW);
    expect(outcome).toEqual({
      outcome: 'dropped',
      statementName: `${PREFIX}${COMMIT}`,
      reason: 'no unfinished run',
    });
    expect(aws.sent.filter((s) => !s.name.startsWith('ledger.'))).toEqual([]);
  });

  test("of a statement the Data API does not know (expired, or not this role's) is dropped before any SQL", async () => {
    const aws = new ScriptedAws(ledgerAnswers('running'));
    const event = statusChange(`${PREFIX}${COMMIT}`, statementId(42), 'FINISHED');
    const outcome = await handleUnload(parseUnloadEvent(event), aws.engine(), NOW);
    expect(outcome).toEqual({
      outcome: 'dropped',
      statementName: `${PREFIX}${COMMIT}`,
      reason: 'the Data API does not know the statement (it expired, or another role ran it)',
    });
    expect(aws.sent).toEqual([]);
  });

  const foreign = `not a statement of this stack (its names start with ${PREFIX})`;
  test.each([
    ['redshift-archive.OtherStack.20260101T000000Z.commit.tax.2025.a1', foreign],
    ['redshift-archive.RedshiftArchive-b.20260101T000000Z.commit.tax.2025.a1', foreign],
    ['', foreign],
    [`${PREFIX}setup.views`, 'not a statement of a run'],
  ])('named %j is dropped without a single Data API call', async (name, reason) => {
    const aws = new ScriptedAws(ledgerAnswers('running'));
    const outcome = await handleUnload(
      parseUnloadEvent(statusChange(name, statementId(1), 'FAILED')),
      aws.engine(),
      NOW,
    );
    expect(outcome).toEqual({ outcome: 'dropped', statementName: name, reason });
    expect(aws.rsd.calls()).toHaveLength(0);
  });

  test('FINISHED for a run whose batches are all committed finishes it: the report goes to the lake, then the finish transaction', async () => {
    const aws = new ScriptedAws(ledgerAnswers('running'));
    aws.s3.on(PutObjectCommand).resolves({});
    await earlier(aws, [COMMIT]);
    const event = statusChange(`${PREFIX}${COMMIT}`, statementId(1), 'FINISHED');
    const outcome = await handleUnload(parseUnloadEvent(event), aws.engine(), NOW);
    expect(outcome).toMatchObject({
      outcome: 'run',
      report: { outcome: 'finished', runId: RUN, resumed: true },
    });
    expect(aws.s3.commandCalls(PutObjectCommand)[0].args[0].input.Key).toBe(`archive-reports/${RUN}.json`);
    expect(aws.sent.filter((s) => s.batch)).toEqual([
      {
        name: `${RUN}.finish`,
        batch: true,
        withEvent: false,
        sql: [
          'DROP TABLE "archive_meta"."active_run"',
          `UPDATE "archive_meta"."runs" SET "state" = 'finished', "error" = NULL, "ended_at" = TIMESTAMP '2026-01-01 00:00:00.000' WHERE "run_id" = '${RUN}'`,
        ],
      },
    ]);
    expect(
      aws.rsd.commandCalls(ExecuteStatementCommand).every((c) => c.args[0].input.WithEvent === undefined),
    ).toBe(true);
    expect(aws.rsd.commandCalls(DescribeStatementCommand)[0].args[0].input).toEqual({ Id: statementId(1) });
  });
});

describe('an invocation', () => {
  test('by an operator (run, abort) answers waiting while a statement of this stack runs, and sends nothing', async () => {
    const aws = new ScriptedAws(ledgerAnswers('running'));
    await earlier(aws, [`${RUN}.export.tax.2025.a1`]);
    aws.status = () => 'STARTED';
    for (const event of [{ action: 'run' }, { action: 'abort' }]) {
      expect(await handleUnload(parseUnloadEvent(event), aws.engine(), NOW)).toEqual({
        outcome: 'waiting',
        statements: [{ id: statementId(1), name: `${PREFIX}${RUN}.export.tax.2025.a1` }],
      });
    }
    expect(aws.sent).toEqual([]);
  });

  test("by the schedule waits for the statements of this stack that run, then starts the year's run", async () => {
    // given a statement of this stack (a deploy's view setup) that runs for another 2 s
    const aws = new ScriptedAws(
      ledgerAnswers(undefined, (name) => (name.endsWith('.nulls') ? [{ row_count: '0' }] : undefined)),
    );
    await earlier(aws, ['setup.views']);
    aws.status = (name) => (name === 'setup.views' && aws.slept < 2000 ? 'STARTED' : 'FINISHED');

    // when the yearly schedule fires
    const outcome = await handleUnload(parseUnloadEvent(SCHEDULE), aws.engine(), NOW);

    // then it waited (on the engine's clock) until the statement ended, and only then started the run
    expect(aws.slept).toBeGreaterThanOrEqual(2000);
    expect(outcome).toMatchObject({ outcome: 'run', report: { outcome: 'nothing-to-do', runId: YEARLY } });
    expect(aws.sent.map((s) => s.name).slice(0, 2)).toEqual(['ledger.shape', 'guard.columns']);
  });

  test('by the schedule fails loudly when statements of this stack still run as its time runs out, naming them, and sends nothing', async () => {
    // given an export of an unfinished run that outlives the whole invocation
    const aws = new ScriptedAws(ledgerAnswers('running'));
    await earlier(aws, [`${RUN}.export.tax.2025.a1`]);
    aws.status = () => 'STARTED';

    // when the yearly schedule fires
    const error = await failure(handleUnload(parseUnloadEvent(SCHEDULE), aws.engine(), NOW));

    // then it waited as long as it could, and failed (the alarm), saying what to do
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toBe(
      `the yearly run ${YEARLY} (cutoff 2026-01-01) did not start: statements of this stack are still running ` +
        `(${PREFIX}${RUN}.export.tax.2025.a1 ${statementId(1)}), and this invocation ran out of time waiting for them; ` +
        'nothing changed. Run `redshift-archive run` (on AWS: invoke {"action": "run"}) once they end',
    );
    expect(aws.slept).toBeGreaterThan(590_000);
    expect(aws.sent).toEqual([]);
  });

  test("by the schedule, delivered again after an operator aborted its run, answers already aborted and starts no run; an operator's run starts a new one", async () => {
    // given the yearly run (its id is the schedule's time) that an operator aborted
    const answers = ledgerAnswers('aborted', (name) =>
      name.endsWith('.nulls') ? [{ row_count: '0' }] : undefined,
    );
    const aws = new ScriptedAws(answers);
    const again = { ...SCHEDULE, time: '2026-01-01T00:00:00Z' };

    // when EventBridge delivers the schedule's event again
    const outcome = await handleUnload(parseUnloadEvent(again), aws.engine(), NOW);

    // then the run stays aborted: nothing was started or written
    expect(outcome).toMatchObject({
      outcome: 'run',
      report: { outcome: 'already-done', runId: RUN, state: 'aborted' },
    });
    expect(aws.sent.every((s) => !s.batch && !s.withEvent && /^SELECT /.test(s.sql[0]))).toBe(true);

    // and an operator's run with the same time gets a run id of its own
    const operator = new ScriptedAws(answers);
    const run = await handleUnload(
      parseUnloadEvent({ action: 'run' }),
      operator.engine(),
      () => new Date('2026-01-01T00:00:00Z'),
    );
    expect(run).toMatchObject({ outcome: 'run', report: { runId: '20260101T000001Z' } });
  });

  test('fails loudly when it must stop waiting for a read (which sends no event), rather than leave the run to an event that never comes', async () => {
    const aws = pendingExport();
    aws.status = (name) => (name.endsWith('.count') ? 'STARTED' : 'FINISHED');
    const error = await failure(
      handleUnload(
        parseUnloadEvent({ action: 'run' }),
        aws.engine(() => 0),
        NOW,
      ),
    );
    const count = `${RUN}.export.transactions.2025.a1.count`;
    const reason =
      `statement ${aws.idOf(count)} (${count}) is still running, and no event announces its end, and this invocation ` +
      'ran out of time; the run resumes with the next run (redshift-archive run) once the statement has ended';
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toBe(reason);
    // and the ledger records why the run stopped, as a failed statement's event does
    expect(aws.sent.filter((s) => s.sql[0].startsWith('UPDATE') && s.name !== `${RUN}.mark`)).toEqual([
      {
        name: `${RUN}.failed`,
        batch: false,
        withEvent: false,
        sql: [`UPDATE "archive_meta"."runs" SET "error" = '${reason}' WHERE "run_id" = '${RUN}'`],
      },
    ]);
  });

  test('by the watchdog answers from the ledger and sends no statement with an event', async () => {
    const aws = new ScriptedAws(ledgerAnswers('running'));
    const outcome = await handleUnload(parseUnloadEvent({ action: 'status' }), aws.engine(), NOW);
    expect(outcome).toMatchObject({
      outcome: 'status',
      status: { active: { runId: RUN, state: 'running' } },
    });
    expect(aws.sent.map((s) => [s.name, s.withEvent])).toEqual([
      ['ledger.shape', false],
      ['ledger.runs', false],
      ['ledger.batches', false],
      ['ledger.version', false],
      ['ledger.restores', false],
    ]);
    expect(aws.rsd.commandCalls(ListStatementsCommand)).toHaveLength(0);
  });

  test('reports as metrics what it did: a finished run, an unfinished run and whether it stalled (the watchdog), a dropped event', () => {
    const report = { outcome: 'finished', rows: 120, bytes: 4096 } as never;
    expect(outcomeMetrics({ outcome: 'run', report }, 1234.4)).toEqual([
      { name: 'InvocationDuration', unit: 'Milliseconds', value: 1234 },
      { name: 'RowsArchived', unit: 'Count', value: 120 },
      { name: 'BytesArchived', unit: 'Bytes', value: 4096 },
      { name: 'RunsFinished', unit: 'Count', value: 1 },
    ]);
    // a run started by an earlier version recorded no instant: it counts as stalled, as it once counted as unfinished
    expect(outcomeMetrics({ outcome: 'status', status: { active: { runId: RUN } } as never }, 5)).toEqual([
      { name: 'InvocationDuration', unit: 'Milliseconds', value: 5 },
      { name: 'UnfinishedRun', unit: 'Count', value: 1 },
      { name: 'StalledRun', unit: 'Count', value: 1 },
    ]);
    // a long run that recorded a step within the day moves on; one idle for a day has stalled
    const idle = (ms: number) =>
      outcomeMetrics({ outcome: 'status', status: { active: { runId: RUN }, idleMs: ms } as never }, 5)[2];
    expect([idle(24 * 3600_000 - 1).value, idle(24 * 3600_000).value]).toEqual([0, 1]);
    expect(outcomeMetrics({ outcome: 'status', status: { runs: [] } as never }, 5).slice(1)).toEqual([
      { name: 'UnfinishedRun', unit: 'Count', value: 0 },
      { name: 'StalledRun', unit: 'Count', value: 0 },
    ]);
    expect(outcomeMetrics({ outcome: 'dropped', statementName: 'x', reason: 'y' }, 5)).toEqual([
      { name: 'InvocationDuration', unit: 'Milliseconds', value: 5 },
      { name: 'EventsDropped', unit: 'Count', value: 1 },
    ]);
  });

  test("reports the monthly preflight's failed checks, none included, for its alarm", () => {
    const checks = [
      { check: 'temp', ok: false, detail: 'no TEMP', fix: 'GRANT TEMP ...' },
      { check: 'columns', ok: true, detail: 'fine' },
    ];
    expect(outcomeMetrics({ outcome: 'preflight', preflight: { ok: false, checks } }, 5)).toEqual([
      { name: 'InvocationDuration', unit: 'Milliseconds', value: 5 },
      { name: 'PreflightFailures', unit: 'Count', value: 1 },
    ]);
    expect(
      outcomeMetrics({ outcome: 'preflight', preflight: { ok: true, checks: [checks[1]] } }, 5)[1],
    ).toEqual({
      name: 'PreflightFailures',
      unit: 'Count',
      value: 0,
    });
  });
});

const partition = committedLocation;

/** The audited batch of `table`, as the report gives it. */
const audited = (table: string, problems: string[] = []) => ({
  table,
  runId: RUN,
  year: 2025,
  rows: 5,
  files: 1,
  bytes: 100,
  problems,
});

describe('an audit through the function', () => {
  test('finds every committed batch as the ledger recorded it, even while a statement of this stack runs, and counts none damaged', async () => {
    // given a finished run's archive as recorded, and an export of this stack still running
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    aws.holdArchive();
    await earlier(aws, [`${RUN}.export.tax.2025.a1`]);
    aws.status = (name) => (name.includes('.export.') ? 'STARTED' : 'FINISHED');

    // when the monthly rule asks for the light audit
    const outcome = await handleUnload(parseUnloadEvent({ action: 'audit' }), aws.engine(), NOW);

    // then it reports every batch intact, having read only the ledger (no statement listed)
    expect(outcome).toEqual({
      outcome: 'audit',
      audit: { ok: true, deep: false, batches: ['transactions', 'transfers', 'tax'].map((t) => audited(t)) },
    });
    expect(aws.sent.map((s) => s.name)).toEqual([
      'ledger.shape',
      'ledger.runs',
      'ledger.batches',
      'ledger.version',
    ]);
    expect(aws.rsd.commandCalls(ListStatementsCommand)).toHaveLength(0);
    // and its metric, which the audit alarm watches, counts no damaged batch
    expect(outcomeMetrics(outcome, 5)).toEqual([
      { name: 'InvocationDuration', unit: 'Milliseconds', value: 5 },
      { name: 'ArchiveAuditFailures', unit: 'Count', value: 0 },
    ]);
  });

  test('reports a batch whose files are gone, and its metric counts it for the alarm', async () => {
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    aws.holdArchive('tax');
    const outcome = await handleUnload(parseUnloadEvent({ action: 'audit' }), aws.engine(), NOW);
    expect(outcome).toEqual({
      outcome: 'audit',
      audit: {
        ok: false,
        deep: false,
        batches: [
          audited('transactions'),
          audited('transfers'),
          audited('tax', [
            `the lake holds 0 files of 0 bytes under ${partition('tax')}; the ledger recorded 1 files of 100 bytes`,
          ]),
        ],
      },
    });
    expect(outcomeMetrics(outcome, 5)[1]).toEqual({ name: 'ArchiveAuditFailures', unit: 'Count', value: 1 });
  });
});

test('a deep audit whose read outlives the invocation fails it, rather than report damage it did not see', async () => {
  const aws = new ScriptedAws(ledgerAnswers('finished'));
  aws.holdArchive();
  const read = `audit.${RUN}.2025.transactions`;
  aws.status = (name) => (name === read ? 'STARTED' : 'FINISHED');
  const error = await failure(
    handleUnload(parseUnloadEvent({ action: 'audit', deep: true }), aws.engine(), NOW),
  );
  expect(error).toBeInstanceOf(RunFailedError);
  expect(error.message).toBe(
    `statement ${aws.idOf(read)} (${read}) is still running, and no event announces its end, and this ` +
      'invocation ran out of time; invoke the same audit again once it has ended',
  );
  // (an audit records nothing, not even a run's reason)
  expect(aws.sent.map((s) => s.name)).toEqual([
    'ledger.shape',
    'ledger.runs',
    'ledger.batches',
    'ledger.version',
    read,
  ]);
});

describe('a restore through the function', () => {
  const RESTORE = 'restore.R20260304050607.transactions';
  const sql = new ArchiveSql(CONTABYX, redshiftDialect({ iamRoleArn: ROLE }));

  /**
   * A finished run whose 2025 batches hold today's columns, and which the ledger shows restored
   * once the restore's transaction was sent.
   */
  function restorable(state = 'finished'): ScriptedAws {
    const aws: ScriptedAws = new ScriptedAws(
      ledgerAnswers(state, (name, text) => {
        if (name !== 'ledger.batches') return undefined;
        const restored = aws.sent.some((s) => s.name === RESTORE);
        return ledgerAnswers(state)(name, text)?.map((b) => ({
          ...b,
          columns: sql.columnsSignature(tableNamed(CONTABYX, String(b.table_name))),
          ...(restored ? { state: 'restored' } : {}),
        }));
      }),
    );
    aws.holdArchive();
    return aws;
  }

  test('puts the year back into the hot tables in ONE transaction that takes the run lock, then takes its partitions out of the catalog', async () => {
    const aws = restorable();
    const outcome = await handleUnload(
      parseUnloadEvent({ action: 'restore', year: 2025 }),
      aws.engine(),
      NOW,
    );
    expect(outcome).toEqual({
      outcome: 'restored',
      restore: {
        year: 2025,
        tables: ['transactions', 'transfers', 'tax'].map((table) => ({ table, rows: 5, runs: [RUN] })),
        rows: 15,
        partitionsRemoved: 3,
        filesDeleted: false,
      },
    });
    // the transaction: the lock and the version first, the batches marked restored, the lock given back last
    const [transaction] = aws.sent.filter((s) => s.batch && s.name !== 'setup.ledger');
    expect([transaction.name, transaction.withEvent, transaction.sql.length]).toEqual([RESTORE, false, 16]);
    expect(transaction.sql.slice(0, 2)).toEqual([
      'CREATE TABLE "archive_meta"."active_run" ("run_id" VARCHAR(16) NOT NULL)',
      'UPDATE "archive_meta"."views_version" SET "version" = CASE WHEN "version" = 0 THEN 1 END',
    ]);
    expect(transaction.sql.slice(-6, -4)).toEqual([
      expect.stringMatching(
        /^INSERT INTO "archive_meta"\."restore_checks" .* 'R20260304050607', 'tax', 2025, 'after'/,
      ),
      `UPDATE "archive_meta"."batches" SET "state" = 'restored' WHERE ` +
        ['transactions', 'transfers', 'tax']
          .map((t) => `("run_id" = '${RUN}' AND "table_name" = '${t}' AND "year" = 2025)`)
          .join(' OR '),
    ]);
    // (the views no longer read the batch: with no other committed batch, they read no partition)
    expect(transaction.sql.slice(-4, -1)).toEqual(
      ['transactions', 'transfers', 'tax'].map((t) =>
        expect.stringMatching(
          new RegExp(
            `^CREATE OR REPLACE VIEW "contabyx"\\."spectrum_${t}" AS .* WHERE 1 = 0 WITH NO SCHEMA BINDING$`,
          ),
        ),
      ),
    );
    expect(transaction.sql.at(-1)).toBe('DROP TABLE "archive_meta"."active_run"');
    // then each table's partition of the batch left the catalog; the files stay
    expect(
      aws.glue
        .commandCalls(BatchDeletePartitionCommand)
        .map((c) => [c.args[0].input.TableName, c.args[0].input.PartitionsToDelete]),
    ).toEqual(['transactions', 'transfers', 'tax'].map((t) => [t, [{ Values: ['2025', RUN] }]]));
  });

  test('answers waiting while a statement of this stack runs, and sends nothing', async () => {
    const aws = restorable();
    await earlier(aws, [`${RUN}.export.tax.2025.a1`]);
    aws.status = () => 'STARTED';
    expect(
      await handleUnload(parseUnloadEvent({ action: 'restore', year: 2025 }), aws.engine(), NOW),
    ).toEqual({
      outcome: 'waiting',
      statements: [{ id: statementId(1), name: `${PREFIX}${RUN}.export.tax.2025.a1` }],
    });
    expect(aws.sent).toEqual([]);
  });

  test('fails while a run is active (the run lock), and changes nothing', async () => {
    const aws = restorable('running');
    const error = await failure(
      handleUnload(parseUnloadEvent({ action: 'restore', year: 2025 }), aws.engine(), NOW),
    );
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toBe(
      `restore: run ${RUN} is active (running); nothing changed. Let it finish, or abort it, then restore`,
    );
    expect(aws.sent.filter((s) => s.name.startsWith('restore.'))).toEqual([]);
  });

  test('fails for a table that is not a root, naming the root, before any call to AWS', async () => {
    const aws = restorable();
    const error = await failure(
      handleUnload(parseUnloadEvent({ action: 'restore', year: 2025, table: 'tax' }), aws.engine(), NOW),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'table: "tax" is contabyx.tax, archived with its parent "transactions"; allowed: a root table, by its alias or as schema.name (transactions), whose children are restored with it',
    );
    expect(aws.rsd.calls()).toHaveLength(0);
  });

  test('whose transaction outlives the invocation fails it loudly, saying to invoke the same restore again once it has ended', async () => {
    // given the restore's transaction runs longer than the invocation may wait
    const aws = restorable();
    aws.status = (name) => (name === RESTORE ? 'STARTED' : 'FINISHED');

    // when the restore is invoked
    const error = await failure(
      handleUnload(parseUnloadEvent({ action: 'restore', year: 2025 }), aws.engine(), NOW),
    );

    // then it fails (the alarm), saying why nothing can show a row twice and what to do
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toBe(
      `statement ${aws.idOf(RESTORE)} (${RESTORE}) is still running, and no event announces its end, and this ` +
        'invocation ran out of time; a restore changes the warehouse in ONE transaction, which commits or rolls ' +
        'back whole, so every row stays in exactly one place in the union views. Invoke the same restore again ' +
        'once it has ended: it finishes what is left, or restores again if the transaction rolled back',
    );
    // and nothing came after the transaction: no partition removed, no run's record written
    expect(aws.sent.at(-1)?.name).toBe(RESTORE);
    expect(aws.glue.commandCalls(BatchDeletePartitionCommand)).toHaveLength(0);
  });
});
