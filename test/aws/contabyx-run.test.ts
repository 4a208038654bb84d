import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { replayOnAws } from '../../devkit/replay';
import { PREFIX } from '../../devkit/scripted-aws';
import { CONTABYX, CONTABYX_SMALL_DATA, CONTABYX_TEN_TIMES_DATA } from '../../devkit/world';

const GOLDEN = join(__dirname, 'golden', 'contabyx-run.sql');
const RUN = '20260101T000000Z';

test('a contabyx run sends, through the AWS adapters, the statements of the protocol in its order (golden)', async () => {
  // given the answers the embedded engine gave to every query of the same run,
  // when the yearly schedule invokes the Lambda's runtime on mocked AWS services
  const replay = await replayOnAws(CONTABYX, CONTABYX_SMALL_DATA, '2026-01-01T00:00:00Z');

  // then it archived what the embedded engine archived, verified through Spectrum and Athena
  expect(replay.outcome.outcome).toBe('run');
  const report = replay.outcome.outcome === 'run' ? replay.outcome.report : undefined;
  expect(report?.tables.map((t) => [t.table, t.rows, t.verified])).toEqual(
    replay.local.tables.map((t) => [t.table, t.rows, true]),
  );
  expect(replay.athenaQueries).toEqual(
    [2023, 2024, 2025].flatMap((year) =>
      ['transactions', 'transfers', 'tax'].map(
        (t) =>
          `SELECT COUNT(*) FROM "contabyx"."${t}" WHERE "archive_run" = '20260101T000000Z' AND "year" = ${year}`,
      ),
    ),
  );
  expect(replay.aws.athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input).toMatchObject({
    WorkGroup: 'archive',
    ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: false } },
  });
  // and only the exports and the commits may outlive the invocation: they alone send an event
  expect(
    replay.aws.sent.filter((st) => st.withEvent).map((st) => st.name.replace(/\.\w+\.\d{4}\.a1$/, '')),
  ).toEqual(
    [2023, 2024, 2025].flatMap(() => [
      ...['export', 'export', 'export'].map((phase) => `${RUN}.${phase}`),
      `${RUN}.commit`,
    ]),
  );
  // and every statement it sent, in order, is the golden one
  const log = `${replay.aws.sent
    .map(
      (st) =>
        `-- ${PREFIX}${st.name}${st.batch ? ' (one transaction)' : replay.reads.has(st.sql[0]) ? ' (read)' : ''}` +
        `${st.withEvent ? ' (with event)' : ''}\n${st.sql.map((q) => `${q};`).join('\n')}`,
    )
    .join('\n\n')}\n`;
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) writeFileSync(GOLDEN, log);
  expect(log).toBe(readFileSync(GOLDEN, 'utf8'));
});

test("a run's Data API calls grow with tables, never with rows", async () => {
  const small = await replayOnAws(CONTABYX, CONTABYX_SMALL_DATA, '2026-01-01T00:00:00Z');
  const large = await replayOnAws(CONTABYX, CONTABYX_TEN_TIMES_DATA, '2026-01-01T00:00:00Z');
  expect(large.local.rows).toBeGreaterThan(5 * small.local.rows);
  expect(large.dataApiCalls).toEqual(small.dataApiCalls);
  const twoTables = { ...CONTABYX, tables: CONTABYX.tables.slice(0, 2) };
  const fewer = await replayOnAws(twoTables, CONTABYX_SMALL_DATA, '2026-01-01T00:00:00Z');
  expect(fewer.dataApiCalls.ExecuteStatement).toBeLessThan(small.dataApiCalls.ExecuteStatement);
});

test('a contabyx run of three archive years is 84 statements: 5 transactions, 42 reads, 12 with an event (9 exports, 3 commits), 4 marks of batches begun and ended', async () => {
  // given every statement finishes at the first poll, when the schedule runs the whole run in one invocation
  const replay = await replayOnAws(CONTABYX, CONTABYX_SMALL_DATA, '2026-01-01T00:00:00Z');
  // then these are its statements, and its Data API calls (one status poll each, one listing per status in flight)
  expect({
    statements: replay.aws.sent.length,
    reads: replay.aws.sent.filter((st) => replay.reads.has(st.sql[0])).length,
    withEvent: replay.aws.sent.filter((st) => st.withEvent).length,
    calls: replay.dataApiCalls,
  }).toEqual({
    statements: 84,
    reads: 42,
    withEvent: 12,
    calls: {
      ExecuteStatement: 79,
      BatchExecuteStatement: 5,
      GetStatementResult: 42,
      ListStatements: 3,
      DescribeStatement: 84,
    },
  });
});
