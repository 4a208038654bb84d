import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { BatchCreatePartitionCommand } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { isRootTable } from '../../lambda/config/config';
import { runTarget } from '../../lambda/core/cutoff';
import { LocalLake } from '../../lambda/engines/local/local-lake';
import type { Row } from '../../lambda/protocol/ports';
import { handleUnload, parseUnloadEvent } from '../../lambda/runtime/unload';
import { duckdbDialect } from '../../lambda/sql/duckdb-dialect';
import { redshiftDialect } from '../../lambda/sql/redshift-dialect';
import { ArchiveSql } from '../../lambda/sql/statements';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../support/world';
import { BUCKET, ROLE, ScriptedAws } from './support/scripted';

const GOLDEN = join(__dirname, 'golden', 'contabyx-run.sql');
const SCHEDULE = { source: 'aws.events', 'detail-type': 'Scheduled Event', time: '2026-01-01T00:00:00Z' };

/**
 * Every query the protocol can send, in both dialects: the embedded run's answer to the DuckDB
 * text is the mocked Data API's answer to the Redshift text.
 */
function queryPairs(runId: string, cutoff: Parameters<ArchiveSql['planQuery']>[1]): Map<string, string> {
  const duck = new ArchiveSql(CONTABYX, duckdbDialect);
  const red = new ArchiveSql(CONTABYX, redshiftDialect({ iamRoleArn: ROLE }));
  const pairs = new Map<string, string>([
    [red.runsQuery(), duck.runsQuery()],
    [red.runYearsQuery(), duck.runYearsQuery()],
    [red.runExportsQuery(runId), duck.runExportsQuery(runId)],
  ]);
  for (const t of CONTABYX.tables) {
    pairs.set(red.planQuery(t, cutoff), duck.planQuery(t, cutoff));
    if (isRootTable(t)) pairs.set(red.nullRowsQuery(t), duck.nullRowsQuery(t));
    for (const q of [
      'stageYearsQuery',
      'archiveYearsQuery',
      'stageChecksumQuery',
      'archiveChecksumQuery',
    ] as const) {
      pairs.set(red[q](t, runId), duck[q](t, runId));
    }
  }
  return pairs;
}

let world: World;
afterEach(() => world.close());

test('a contabyx run sends, through the AWS adapters, the statements of the protocol in its order (golden)', async () => {
  // given the answers the embedded engine gave to every query of the same run
  world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
  const target = runTarget(new Date(SCHEDULE.time), CONTABYX.retention);
  const answers = new Map<string, Row[][]>();
  const local = await world.archiver((deps) => ({
    ...deps,
    warehouse: {
      dialect: deps.warehouse.dialect,
      execute: (sql, step) => deps.warehouse.execute(sql, step),
      transaction: (sqls, step) => deps.warehouse.transaction(sqls, step),
      query: async (sql, step) => {
        const rows = await deps.warehouse.query(sql, step);
        answers.set(sql, [...(answers.get(sql) ?? []), rows]);
        return rows;
      },
    },
  }));
  const localReport = await local.run(target);
  const toS3 = (text: string) => text.split(`${world.lakeRoot}/`).join(`s3://${BUCKET}/`);
  const pairs = queryPairs(target.runId, target.cutoff);

  // and mocked AWS services that answer as the embedded engine did
  const aws = new ScriptedAws((_name, sql) => {
    const duck = pairs.get(sql);
    if (!duck) return undefined;
    const rows = answers.get(duck)?.shift();
    if (!rows) throw new Error(`the protocol sent a query the embedded run did not: ${sql}`);
    return JSON.parse(toS3(JSON.stringify(rows))) as Row[];
  });
  const { s3, glue, athena } = aws;
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3.on(PutObjectCommand).resolves({});
  s3.on(GetObjectCommand).callsFake(async ({ Key }) => {
    const localLake = new LocalLake(world.lakeRoot, CONTABYX.lake.prefix, CONTABYX.lake.reportsPrefix);
    const localManifest = await localLake.readManifest(
      `${world.lakeRoot}/${String(Key).replace(/manifest$/, '')}`,
    );
    const body = {
      entries: localManifest.entries.map((e) => ({
        url: toS3(e.url),
        meta: { content_length: e.bytes, record_count: e.rows },
      })),
      meta: { content_length: 0, record_count: localManifest.rows },
    };
    // the adapter reads the body with transformToString, as the SDK's stream offers it
    return { Body: { transformToString: async () => JSON.stringify(body) } as never };
  });
  glue.on(BatchCreatePartitionCommand).resolves({ Errors: [] });
  const counted: string[] = [];
  athena.on(StartQueryExecutionCommand).callsFake(({ QueryString }) => {
    counted.push(QueryString);
    return { QueryExecutionId: `aq-${counted.length}` };
  });
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  athena.on(GetQueryResultsCommand).callsFake(async ({ QueryExecutionId }) => {
    const table = CONTABYX.tables[Number(String(QueryExecutionId).slice(3)) - 1];
    const years = localReport.tables.find((t) => t.table === table.name)?.years ?? [];
    return {
      ResultSet: {
        Rows: [
          { Data: [{ VarCharValue: 'year' }, { VarCharValue: '_col1' }] },
          ...years.map((y) => ({
            Data: [{ VarCharValue: String(y.year) }, { VarCharValue: String(y.rows) }],
          })),
        ],
      },
    };
  });

  // when the yearly schedule invokes the Lambda's runtime
  const outcome = await handleUnload(
    parseUnloadEvent(SCHEDULE),
    aws.engine(() => 600_000, 'contabyx-archive'),
    () => {
      throw new Error('a scheduled run reads no clock');
    },
  );

  // then it archived what the embedded engine archived, verified through Spectrum and Athena
  expect(outcome.outcome).toBe('run');
  const report = outcome.outcome === 'run' ? outcome.report : undefined;
  expect(report?.tables.map((t) => [t.table, t.rows, t.verified])).toEqual(
    localReport.tables.map((t) => [t.table, t.rows, true]),
  );
  expect(counted).toEqual(
    ['transactions', 'transfers', 'tax'].map(
      (t) =>
        `SELECT "year", COUNT(*) FROM "contabyx"."${t}" WHERE "archive_run" = '20260101T000000Z' GROUP BY "year" ORDER BY "year"`,
    ),
  );
  expect(athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input).toMatchObject({
    WorkGroup: 'contabyx-archive',
    ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: false } },
  });
  expect([...answers.values()].flat()).toEqual([]);
  // and every statement it sent, in order, is the golden one
  const sent = aws.sent.map(
    (st) =>
      `-- redshift-archive.${st.name}${st.batch ? ' (one transaction)' : pairs.has(st.sql[0]) ? ' (read)' : ''}\n` +
      st.sql.map((q) => `${q};`).join('\n'),
  );
  const log = `${sent.join('\n\n')}\n`;
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) writeFileSync(GOLDEN, log);
  expect(log).toBe(readFileSync(GOLDEN, 'utf8'));
});
