import { createHash } from 'node:crypto';
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { BatchCreatePartitionCommand } from '@aws-sdk/client-glue';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
} from '@aws-sdk/client-redshift-data';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ArchiveConfig, isRootTable, TableConfig } from '../src/config/config';
import { RunTarget, runTarget } from '../src/core/cutoff';
import { LocalLake } from '../src/engines/local/local-lake';
import type { RunReport } from '../src/protocol/archive';
import type { Row } from '../src/protocol/ports';
import { handleUnload, parseUnloadEvent, UnloadOutcome } from '../src/runtime/unload';
import { duckdbDialect } from '../src/sql/duckdb-dialect';
import { redshiftDialect } from '../src/sql/redshift-dialect';
import { ArchiveSql, BatchKey } from '../src/sql/statements';
import { BUCKET, Latency, ledgerShapeRows, ROLE, ScriptedAws, svvType } from './scripted-aws';
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
  /** Data API calls, by command. */
  readonly dataApiCalls: Readonly<Record<string, number>>;
  /** Milliseconds the run took on the scripted services' clock (only their latencies and the waits pass). */
  readonly elapsedMs: number;
}

/** How long the scripted services take: see {@link Latency}; Athena queries run `athenaMs` each. */
export interface ReplayLatency extends Latency {
  readonly athenaMs: number;
}

/**
 * Every read the protocol sends in a run, in both dialects: the embedded run's answer to the
 * DuckDB text is the mocked Data API's answer to the Redshift text. `years` are the archive
 * years of each table, as the embedded run found them.
 */
function queryPairs(
  config: ArchiveConfig,
  target: RunTarget,
  years: (table: TableConfig) => number[],
): Map<string, string> {
  const duck = new ArchiveSql(config, duckdbDialect);
  const red = new ArchiveSql(config, redshiftDialect({ iamRoleArn: ROLE }));
  const pairs = new Map<string, string>();
  const pair = (render: (sql: ArchiveSql) => string) => pairs.set(render(red), render(duck));
  pair((q) => q.runsQuery());
  pair((q) => q.batchesQuery());
  pair((q) => q.versionQuery());
  pair((q) => q.catalogQuery('tables'));
  pair((q) => q.catalogQuery('views'));
  pair((q) => q.ledgerShapeQuery());
  pair((q) => q.viewDefinitionsQuery());
  pair((q) => q.externalDatabaseQuery());
  pair((q) => q.tableSizesQuery());
  for (const table of red.tables) {
    const [root] = red.familyOf(table);
    if (isRootTable(table)) {
      pair((q) => q.rootYearsQuery(table, target.cutoff));
      pair((q) => q.nullRowsQuery(table));
    } else if (years(root).length > 0) {
      pair((q) => q.yearsQuery(table, years(root), target.cutoff));
    }
    for (const year of years(table)) {
      const key: BatchKey = { runId: target.runId, cutoff: target.cutoff, year, source: 'hot' };
      pair((q) => q.countQuery(table, key));
      pair((q) => q.archiveFiguresQuery(table, key));
      for (const side of ['hot', 'archive'] as const) {
        const [redshift, duckdb] = [red, duck].map((q) => q.columnFiguresQuery(table, key, side));
        redshift.forEach((text, i) => pairs.set(text, duckdb[i]));
      }
    }
  }
  return pairs;
}

/** The Redshift text of a catalog read. */
function catalogQuery(config: ArchiveConfig, what: 'tables' | 'views'): string {
  return new ArchiveSql(config, redshiftDialect({ iamRoleArn: ROLE })).catalogQuery(what);
}

/** How SVV_COLUMNS spells the types that DuckDB's catalog spells so (lengths come from the configuration). */
const SVV_TYPES: Record<string, string> = {
  SMALLINT: 'smallint',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  FLOAT: 'real',
  DOUBLE: 'double precision',
  BOOLEAN: 'boolean',
  DATE: 'date',
  TIMESTAMP: 'timestamp without time zone',
  'TIMESTAMP WITH TIME ZONE': 'timestamp with time zone',
};

/**
 * A DuckDB catalog row (information_schema.columns) as Redshift's SVV_COLUMNS gives it: Redshift
 * type names, with the length of a (VAR)CHAR column, which DuckDB does not keep, from the
 * configured column of that name.
 */
function asSvvColumn(config: ArchiveConfig, row: Row): Row {
  const duckType = String(row.data_type);
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(duckType);
  const base = { ...row, char_length: null, num_precision: null, num_scale: null };
  if (decimal) return { ...base, data_type: 'numeric', num_precision: decimal[1], num_scale: decimal[2] };
  if (duckType === 'VARCHAR') {
    const lower = (s: string | null) => String(s).toLowerCase();
    const table = config.tables.find(
      (t) =>
        (lower(row.table_schema) === t.schema.toLowerCase() &&
          lower(row.table_name) === t.name.toLowerCase()) ||
        (lower(row.table_schema) === config.views.schema.toLowerCase() &&
          lower(row.table_name) === `${config.views.prefix}${t.alias}`.toLowerCase()),
    );
    const column = table?.columns.find((c) => c.name.toLowerCase() === lower(row.column_name));
    if (!column) throw new Error(`no configured column for the DuckDB text column ${JSON.stringify(row)}`);
    return { ...base, ...svvType(column) };
  }
  const svv = SVV_TYPES[duckType];
  if (!svv) throw new Error(`no SVV_COLUMNS type for the DuckDB type ${duckType}`);
  return { ...base, data_type: svv };
}

/**
 * Runs the yearly schedule's invocation through the AWS adapters on mocked services, after the
 * same run on the embedded engine: each Redshift query is answered with what the embedded engine
 * answered to the same protocol query, each manifest with the embedded export's. What the AWS
 * side sends can then be compared, statement by statement, with the protocol's own order.
 */
export async function replayOnAws(
  config: ArchiveConfig,
  seedSql: string,
  time: string,
  latency?: ReplayLatency,
): Promise<Replay> {
  const world = await World.create(config, seedSql);
  try {
    const target = runTarget(new Date(time), config.retention);
    const answers = new Map<string, Row[][]>();
    const local = await (
      await world.archiver((deps) => ({
        ...deps,
        // as on AWS: the deploy set the views up (World.create), the run does not
        setUpByFirstRun: false,
        warehouse: {
          dialect: deps.warehouse.dialect,
          execute: (sql, step, options) => deps.warehouse.execute(sql, step, options),
          transaction: (sqls, step, options) => deps.warehouse.transaction(sqls, step, options),
          query: async (sql, step) => {
            const rows = await deps.warehouse.query(sql, step);
            answers.set(sql, [...(answers.get(sql) ?? []), rows]);
            return rows;
          },
        },
      }))
    ).run(target);
    const toS3 = (text: string) => text.split(`${world.lakeRoot}/`).join(`s3://${BUCKET}/`);
    const yearsOf = (table: TableConfig) =>
      (local.tables.find((t) => t.table === table.alias)?.years ?? []).map((y) => y.year);
    const pairs = queryPairs(config, target, yearsOf);
    const catalogReads = new Set([catalogQuery(config, 'tables'), catalogQuery(config, 'views')]);
    // a manifest exists in the mocked bucket once the UNLOAD that writes it was sent
    const unloaded = new Set<string>();
    const aws = new ScriptedAws((name, sql) => {
      const target = /^UNLOAD \(.*\) TO '([^']+)'/s.exec(sql)?.[1];
      if (target) unloaded.add(`${target}manifest`);
      const duck = pairs.get(sql);
      if (!duck) return undefined;
      const rows = answers.get(duck)?.shift();
      if (!rows) throw new Error(`the protocol sent a query the embedded run did not: ${sql}`);
      // DuckDB spells the ledger's types its own way; only its tables and columns count
      if (name === 'ledger.shape') return ledgerShapeRows(config);
      const answer = catalogReads.has(sql) ? rows.map((r) => asSvvColumn(config, r)) : rows;
      return JSON.parse(toS3(JSON.stringify(answer))) as Row[];
    }, config);
    if (latency) aws.latency = latency;
    // the bucket holds what the embedded run wrote (ETags from key and size: the same every replay)
    const localLake = new LocalLake(world.lakeRoot, config.lake.prefix, config.lake.reportsPrefix);
    aws.s3.on(ListObjectsV2Command).callsFake(async ({ Prefix }) => ({
      Contents: (await localLake.listFiles(`${world.lakeRoot}/${String(Prefix)}`)).map((f) => {
        const Key = f.url.slice(world.lakeRoot.length + 1);
        return {
          Key,
          Size: f.bytes,
          ETag: `"${createHash('md5').update(`${Key} ${f.bytes}`).digest('hex')}"`,
        };
      }),
    }));
    aws.s3.on(PutObjectCommand).resolves({});
    aws.s3.on(GetObjectCommand).callsFake(async ({ Key }) => {
      if (!unloaded.has(`s3://${BUCKET}/${String(Key)}`)) {
        throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
      }
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
    const athenaStarted: number[] = [];
    aws.athena.on(StartQueryExecutionCommand).callsFake(({ QueryString }) => {
      athenaQueries.push(QueryString);
      athenaStarted.push(aws.elapsed());
      return { QueryExecutionId: `aq-${athenaQueries.length}` };
    });
    aws.athena.on(GetQueryExecutionCommand).callsFake(({ QueryExecutionId }) => {
      const started = athenaStarted[Number(String(QueryExecutionId).slice(3)) - 1];
      const done = aws.elapsed() >= started + (latency?.athenaMs ?? 0);
      return { QueryExecution: { Status: { State: done ? 'SUCCEEDED' : 'RUNNING' } } };
    });
    // Athena counts one table's rows of one batch: the embedded run's figure for that table and year
    aws.athena.on(GetQueryResultsCommand).callsFake(async ({ QueryExecutionId }) => {
      const query = athenaQueries[Number(String(QueryExecutionId).slice(3)) - 1];
      const [, table, year] = /FROM "[^"]+"\."([^"]+)" WHERE .* "year" = (\d+)$/.exec(query) ?? [];
      const figures = local.tables
        .find((t) => t.table.toLowerCase() === table)
        ?.years.find((y) => y.year === Number(year));
      if (!figures) throw new Error(`Athena counted a batch the embedded run did not export: ${query}`);
      return {
        ResultSet: {
          Rows: [{ Data: [{ VarCharValue: '_col0' }] }, { Data: [{ VarCharValue: String(figures.rows) }] }],
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
      DescribeStatement: aws.rsd.commandCalls(DescribeStatementCommand).length,
    };
    return {
      aws,
      local,
      outcome,
      reads: new Set(pairs.keys()),
      athenaQueries,
      dataApiCalls,
      elapsedMs: aws.elapsed(),
    };
  } finally {
    world.close();
  }
}
