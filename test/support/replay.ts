import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { BatchCreatePartitionCommand } from '@aws-sdk/client-glue';
import {
  BatchExecuteStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
} from '@aws-sdk/client-redshift-data';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ArchiveConfig, isRootTable } from '../../lambda/config/config';
import { RunTarget, runTarget } from '../../lambda/core/cutoff';
import { LocalLake } from '../../lambda/engines/local/local-lake';
import type { RunReport } from '../../lambda/protocol/archive';
import type { Row } from '../../lambda/protocol/ports';
import { handleUnload, parseUnloadEvent, UnloadOutcome } from '../../lambda/runtime/unload';
import { duckdbDialect } from '../../lambda/sql/duckdb-dialect';
import { redshiftDialect } from '../../lambda/sql/redshift-dialect';
import { ArchiveSql } from '../../lambda/sql/statements';
import { BUCKET, ROLE, ScriptedAws } from './scripted-aws';
import { World } from './world';

/** What a replayed run did on the mocked AWS services. */
export interface Replay {
  readonly aws: ScriptedAws;
  readonly local: RunReport;
  readonly outcome: UnloadOutcome;
  /** Redshift queries whose answers came from the embedded run. */
  readonly reads: ReadonlySet<string>;
  /** Athena queries started. */
  readonly athenaQueries: readonly string[];
  /** Data API calls, by command, status polls (DescribeStatement) excluded. */
  readonly dataApiCalls: Readonly<Record<string, number>>;
}

/**
 * Every query the protocol can send, in both dialects: the embedded run's answer to the DuckDB
 * text is the mocked Data API's answer to the Redshift text.
 */
function queryPairs(config: ArchiveConfig, target: RunTarget): Map<string, string> {
  const duck = new ArchiveSql(config, duckdbDialect);
  const red = new ArchiveSql(config, redshiftDialect({ iamRoleArn: ROLE }));
  const pairs = new Map<string, string>([
    [red.runsQuery(), duck.runsQuery()],
    [red.runYearsQuery(), duck.runYearsQuery()],
    [red.runExportsQuery(target.runId), duck.runExportsQuery(target.runId)],
  ]);
  for (const t of config.tables) {
    pairs.set(red.planQuery(t, target.cutoff), duck.planQuery(t, target.cutoff));
    if (isRootTable(t)) pairs.set(red.nullRowsQuery(t), duck.nullRowsQuery(t));
    pairs.set(red.archiveCheckQuery(t, target.runId), duck.archiveCheckQuery(t, target.runId));
  }
  return pairs;
}

/**
 * Runs the yearly schedule's invocation through the AWS adapters on mocked services, after the
 * same run on the embedded engine: each Redshift query is answered with what the embedded engine
 * answered to the same protocol query, each manifest with the embedded export's. What the AWS
 * side sends can then be compared, statement by statement, with the protocol's own order.
 */
export async function replayOnAws(config: ArchiveConfig, seedSql: string, time: string): Promise<Replay> {
  const world = await World.create(config, seedSql);
  try {
    const target = runTarget(new Date(time), config.retention);
    const answers = new Map<string, Row[][]>();
    const local = await (
      await world.archiver((deps) => ({
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
      }))
    ).run(target);
    const toS3 = (text: string) => text.split(`${world.lakeRoot}/`).join(`s3://${BUCKET}/`);
    const pairs = queryPairs(config, target);
    // a manifest exists in the mocked bucket once the UNLOAD that writes it was sent
    const unloaded = new Set<string>();
    const aws = new ScriptedAws((_name, sql) => {
      const target = /^UNLOAD \(.*\) TO '([^']+)'/s.exec(sql)?.[1];
      if (target) unloaded.add(`${target}manifest`);
      const duck = pairs.get(sql);
      if (!duck) return undefined;
      const rows = answers.get(duck)?.shift();
      if (!rows) throw new Error(`the protocol sent a query the embedded run did not: ${sql}`);
      return JSON.parse(toS3(JSON.stringify(rows))) as Row[];
    }, config);
    aws.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    aws.s3.on(PutObjectCommand).resolves({});
    aws.s3.on(GetObjectCommand).callsFake(async ({ Key }) => {
      if (!unloaded.has(`s3://${BUCKET}/${String(Key)}`)) {
        throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
      }
      const localLake = new LocalLake(world.lakeRoot, config.lake.prefix, config.lake.reportsPrefix);
      const manifest = (await localLake.readManifest(
        `${world.lakeRoot}/${String(Key).replace(/manifest$/, '')}`,
      )) as NonNullable<Awaited<ReturnType<LocalLake['readManifest']>>>;
      const body = {
        entries: manifest.entries.map((e) => ({
          url: toS3(e.url),
          meta: { content_length: e.bytes, record_count: e.rows },
        })),
        meta: { content_length: 0, record_count: manifest.rows },
      };
      // the adapter reads the body with transformToString, as the SDK's stream offers it
      return { Body: { transformToString: async () => JSON.stringify(body) } as never };
    });
    aws.glue.on(BatchCreatePartitionCommand).resolves({ Errors: [] });
    const athenaQueries: string[] = [];
    aws.athena.on(StartQueryExecutionCommand).callsFake(({ QueryString }) => {
      athenaQueries.push(QueryString);
      return { QueryExecutionId: `aq-${athenaQueries.length}` };
    });
    aws.athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    aws.athena.on(GetQueryResultsCommand).callsFake(async ({ QueryExecutionId }) => {
      const table = config.tables[Number(String(QueryExecutionId).slice(3)) - 1];
      const years = local.tables.find((t) => t.table === table.name)?.years ?? [];
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
    const schedule = { source: 'aws.events', 'detail-type': 'Scheduled Event', time };
    const outcome = await handleUnload(
      parseUnloadEvent(schedule),
      aws.engine(() => 600_000, 'archive'),
      () => {
        throw new Error('a scheduled run reads no clock');
      },
    );
    const leftover = [...answers.values()].flat();
    if (leftover.length > 0)
      throw new Error(`the AWS run sent ${leftover.length} fewer queries than the embedded run`);
    const dataApiCalls = {
      ExecuteStatement: aws.rsd.commandCalls(ExecuteStatementCommand).length,
      BatchExecuteStatement: aws.rsd.commandCalls(BatchExecuteStatementCommand).length,
      GetStatementResult: aws.rsd.commandCalls(GetStatementResultCommand).length,
      ListStatements: aws.rsd.commandCalls(ListStatementsCommand).length,
    };
    return { aws, local, outcome, reads: new Set(pairs.keys()), athenaQueries, dataApiCalls };
  } finally {
    world.close();
  }
}
