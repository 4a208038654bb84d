import { AthenaClient } from '@aws-sdk/client-athena';
import {
  BatchDeletePartitionCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
  ListStatementsCommandInput,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ArchiveConfig, ColumnConfig, tableNamed } from '../src/config/config';
import { glueColumns, GLUE_PARTITION_KEYS } from '../src/core/glue-schema';
import type { Row } from '../src/protocol/ports';
import { AwsEngine, DeployedResources, openAwsEngine } from '../src/engines/aws/engine';
import { redshiftDialect } from '../src/sql/redshift-dialect';
import { ArchiveSql, LEDGER_UPGRADES } from '../src/sql/statements';
import { statementPrefix } from '../src/contract';
import { CONTABYX } from './world';
import { recordRedshiftSql } from './sql-recorder';

export const ROLE = 'arn:aws:iam::123456789012:role/contabyx-archive-redshift';
export const BUCKET = 'contabyx-archive-lake';
/** The statement prefix of the sample app's stack (`RedshiftArchive`), as the stack passes it. */
export const PREFIX = statementPrefix('RedshiftArchive');

/** A statement id in the Data API's form (a UUID), numbered. */
export const statementId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** The statuses a scripted statement can report. */
export type ScriptedStatus = 'SUBMITTED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';

/** One statement the mocked Data API received. */
export interface Sent {
  /** The step: the statement name after the stack's prefix. */
  readonly name: string;
  readonly sql: readonly string[];
  readonly batch: boolean;
  /** Submitted with `WithEvent`: its end sends a status-change event. */
  readonly withEvent: boolean;
}

/** A statement as the mocked Data API keeps it. */
interface Kept extends Sent {
  readonly id: string;
  readonly fullName: string;
  readonly createdAt: Date;
  /** When it was submitted, on the scripted services' clock (milliseconds from its start). */
  submittedMs?: number;
}

/**
 * How long the scripted services take, so that time passes as on AWS (see {@link ScriptedAws.now}):
 * every call of every client, and each statement from its submission to its end.
 */
export interface Latency {
  /** Milliseconds each call of the Data API, S3, Glue and Athena takes to answer. */
  readonly callMs: number;
  /** Milliseconds from a statement's submission to its end (DescribeStatement says STARTED until then). */
  readonly statementMs: (statement: Sent) => number;
}

/** A statement as the Data API keeps it: the n-th, submitted at the n-th millisecond of 2026. */
function kept(
  n: number,
  fullName: string,
  sql: string[],
  batch: boolean,
  withEvent: boolean | undefined,
): Kept {
  return {
    id: statementId(n),
    fullName,
    name: fullName.startsWith(PREFIX) ? fullName.slice(PREFIX.length) : fullName,
    sql,
    batch,
    withEvent: withEvent === true,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)),
  };
}

/** A statement's SQL as DescribeStatement gives it: the text, or each sub-statement's of a batch. */
function describedSql(statement: Kept) {
  return statement.batch
    ? {
        SubStatements: statement.sql.map((QueryString, i) => ({
          Id: `${statement.id}:${i + 1}`,
          QueryString,
        })),
      }
    : { QueryString: statement.sql[0] };
}

/**
 * ListStatements over `statements`, as the Data API documents it: names matched by case-sensitive
 * prefix, FINISHED only unless a status is given (ALL for every one), pages of at most
 * `MaxResults` (100), and no documented order: each page is served in a scrambled order.
 */
function listStatements<S extends Kept>(
  statements: readonly S[],
  status: (s: S) => ScriptedStatus,
  input: ListStatementsCommandInput,
) {
  const wanted = input.Status ?? 'FINISHED';
  const matching = statements.filter(
    (s) => s.fullName.startsWith(input.StatementName ?? '') && (wanted === 'ALL' || status(s) === wanted),
  );
  const size = Math.min(input.MaxResults ?? 100, 100);
  const from = Number(input.NextToken ?? 0);
  const page = matching.slice(from, from + size);
  const scrambled = [...page.filter((_, i) => i % 2 === 1).reverse(), ...page.filter((_, i) => i % 2 === 0)];
  return {
    Statements: scrambled.map((s) => ({
      Id: s.id,
      StatementName: s.fullName,
      Status: status(s),
      CreatedAt: s.createdAt,
      IsBatchStatement: s.batch,
    })),
    ...(from + size < matching.length ? { NextToken: String(from + size) } : {}),
  };
}

/**
 * A Data API that answers reads from a script keyed by step (the statement name after the stack's
 * prefix), and records every statement, so a test can say exactly what was sent. Statements are
 * listed (ListStatements) with the status the script gives them.
 */
export class ScriptedAws {
  readonly rsd = mockClient(RedshiftDataClient);
  readonly s3 = mockClient(S3Client);
  readonly glue = mockClient(GlueClient);
  readonly athena = mockClient(AthenaClient);
  readonly sent: Sent[] = [];
  private readonly kept: Kept[] = [];
  private readonly results = new Map<string, Row[]>();
  status: (name: string) => ScriptedStatus = () => 'FINISHED';
  /** The error a FAILED or ABORTED statement reports. */
  error = 'ERROR: scripted failure';
  /** How long calls and statements take; none: no time passes but the waits slept. */
  latency?: Latency;

  /** A statement's status now: STARTED until its latency has passed, then the scripted one. */
  private statusOf(statement: Kept): ScriptedStatus {
    const ends = (statement.submittedMs ?? 0) + (this.latency?.statementMs(statement) ?? 0);
    return this.latency && this.elapsed() < ends ? 'STARTED' : this.status(statement.name);
  }

  constructor(
    answers: (name: string, sql: string) => Row[] | undefined,
    private readonly config: ArchiveConfig = CONTABYX,
  ) {
    this.rsd.reset();
    this.s3.reset();
    this.glue.reset();
    this.athena.reset();
    const keep = (fullName: string, sql: string[], batch: boolean, withEvent: boolean | undefined) => {
      recordRedshiftSql(sql);
      const statement = {
        ...kept(this.kept.length + 1, fullName, sql, batch, withEvent),
        submittedMs: this.elapsed(),
      };
      this.kept.push(statement);
      this.sent.push({ name: statement.name, sql, batch, withEvent: statement.withEvent });
      return statement;
    };
    this.rsd.on(ExecuteStatementCommand).callsFake(({ Sql, StatementName, WithEvent }) => {
      const statement = keep(String(StatementName), [String(Sql)], false, WithEvent);
      const rows = answers(statement.name, String(Sql));
      if (rows) this.results.set(statement.id, rows);
      return { Id: statement.id };
    });
    this.rsd.on(BatchExecuteStatementCommand).callsFake(({ Sqls, StatementName, WithEvent }) => {
      return { Id: keep(String(StatementName), Sqls as string[], true, WithEvent).id };
    });
    this.rsd.on(DescribeStatementCommand).callsFake(({ Id }) => {
      const statement = this.kept.find((s) => s.id === Id);
      if (!statement) {
        throw Object.assign(new Error(`Query does not exist: ${Id}`), { name: 'ResourceNotFoundException' });
      }
      const status = this.statusOf(statement);
      return {
        Id,
        Status: status,
        CreatedAt: statement.createdAt,
        ...(status === 'FAILED' || status === 'ABORTED' ? { Error: this.error } : {}),
        ...describedSql(statement),
        HasResultSet: this.results.has(statement.id),
      };
    });
    this.rsd
      .on(ListStatementsCommand)
      .callsFake((input: ListStatementsCommandInput) =>
        listStatements(this.kept, (s) => this.statusOf(s), input),
      );
    this.rsd.on(GetStatementResultCommand).callsFake(({ Id }) => resultOf(this.results.get(Id) ?? []));
    this.holdArchive();
    this.glue.on(GetTableCommand).callsFake(({ Name }) => ({
      Table: {
        StorageDescriptor: {
          Columns: glueColumns(tableNamed(this.config, Name)).map((c) => ({ Name: c.name, Type: c.type })),
        },
        PartitionKeys: GLUE_PARTITION_KEYS.map((k) => ({ Name: k.name, Type: k.type })),
      },
    }));
  }

  /**
   * A lake and a catalog that hold the committed 2025 batch of {@link ledgerAnswers} as the ledger
   * records it (one file of 100 bytes per table, its partition at its location), except the files
   * of the table whose alias is `lost`. Listing and deleting follow S3's prefix semantics; partitions Glue's
   * expression on the run and the year. What an engine on these mocks finds unless a test says
   * otherwise.
   */
  holdArchive(lost?: string): void {
    const keys = this.config.tables
      .filter((t) => t.alias !== lost)
      .map((t) => `${committedLocation(t.alias).slice(`s3://${BUCKET}/`.length)}part-0000.parquet`);
    this.s3.on(ListObjectsV2Command).callsFake(({ Prefix }) => ({
      Contents: keys
        .filter((k) => k.startsWith(String(Prefix ?? '')))
        .map((Key) => ({ Key, Size: 100, ETag: '"e1"' })),
    }));
    this.s3.on(DeleteObjectsCommand).resolves({});
    this.glue.on(GetPartitionsCommand).callsFake(({ TableName, Expression }) => {
      const [, run, year] =
        /archive_run = '([^']+)'(?: AND year = (\d+))?/.exec(String(Expression ?? '')) ?? [];
      const wanted = (!run || run === COMMITTED_RUN) && (!year || year === '2025');
      return {
        Partitions: wanted
          ? [
              {
                Values: ['2025', COMMITTED_RUN],
                StorageDescriptor: { Location: committedLocation(String(TableName)) },
              },
            ]
          : [],
      };
    });
    this.glue.on(BatchDeletePartitionCommand).resolves({});
  }

  /** The id of the statement sent with this step (the last one, if several). */
  idOf(name: string): string {
    const statement = [...this.kept].reverse().find((s) => s.name === name);
    if (!statement) throw new Error(`no statement ${name} was sent`);
    return statement.id;
  }

  /**
   * Milliseconds the engines on these mocks have slept: their waits pass at once, and a fresh
   * invocation's time runs out after 600 s of them.
   */
  slept = 0;

  /** The engine on these mocks, for the configuration. */
  engine(remainingMs = () => 600_000 - this.slept, athenaWorkgroup?: string): AwsEngine {
    return this.open(
      {
        config: this.config,
        bucket: BUCKET,
        iamRoleArn: ROLE,
        ...(athenaWorkgroup ? { athenaWorkgroup } : {}),
      },
      remainingMs,
    );
  }

  /** The engine on these mocks for a deployment (what the custom resource opens from its properties). */
  open(resources: DeployedResources, remainingMs = () => 600_000 - this.slept): AwsEngine {
    return openAwsEngine(
      { ...resources, statementPrefix: PREFIX },
      {
        redshiftData: this.timed(new RedshiftDataClient({})),
        s3: this.timed(new S3Client({})),
        glue: this.timed(new GlueClient({})),
        athena: this.timed(new AthenaClient({})),
      },
      {
        remainingMs,
        sleep: async (ms) => {
          this.slept += ms;
        },
        clock: () => this.now(),
      },
    );
  }

  /**
   * The engines' clock: the start of 2026, plus the waits slept and the latencies of the calls
   * the scripted services answered (`latency`), so that time passes as it would on AWS.
   */
  now(): Date {
    return new Date(Date.UTC(2026, 0, 1) + this.elapsed());
  }

  /** Milliseconds since the scripted services started: the waits slept and the calls answered. */
  elapsed(): number {
    return this.slept + this.waited;
  }

  /** Milliseconds the scripted services took to answer (see {@link latency}). */
  waited = 0;

  /** Calls of this client take `latency.callMs` each, on the scripted clock. */
  private timed<C extends { send: (...args: never[]) => Promise<unknown> }>(client: C): C {
    const send = client.send.bind(client) as (...args: never[]) => Promise<unknown>;
    client.send = ((...args: never[]) => {
      this.waited += this.latency?.callMs ?? 0;
      return send(...args);
    }) as C['send'];
    return client;
  }
}

/** A result page as GetStatementResult gives it: every value as a string, NULL flagged. */
function resultOf(rows: readonly Row[]) {
  return {
    ColumnMetadata: Object.keys(rows[0] ?? {}).map((label) => ({ label })),
    Records: rows.map((r) =>
      Object.values(r).map((v) => (v === null ? { isNull: true } : { stringValue: v })),
    ),
  };
}

/** How SVV_COLUMNS spells a configured column type: `data_type` and its length, precision, scale. */
export function svvType(
  column: ColumnConfig,
): Pick<Row, 'data_type' | 'char_length' | 'num_precision' | 'num_scale'> {
  const none = { char_length: null, num_precision: null, num_scale: null };
  const t = column.type;
  switch (t.kind) {
    case 'decimal':
      return {
        ...none,
        data_type: 'numeric',
        num_precision: String(t.precision),
        num_scale: String(t.scale),
      };
    case 'char':
      return { ...none, data_type: 'character', char_length: String(t.length) };
    case 'varchar':
      return { ...none, data_type: 'character varying', char_length: String(t.length) };
    case 'timestamp':
      return { ...none, data_type: 'timestamp without time zone' };
    case 'timestamptz':
      return { ...none, data_type: 'timestamp with time zone' };
    // PostgreSQL's format_type names, which Redshift's SVV_COLUMNS is taken to use (not documented;
    // the dialect reads the short names too, and preflight's columns check names any other)
    case 'time':
      return { ...none, data_type: 'time without time zone' };
    case 'timetz':
      return { ...none, data_type: 'time with time zone' };
    case 'varbyte':
      return { ...none, data_type: 'varbyte', char_length: String(t.length) };
    default:
      return { ...none, data_type: t.kind };
  }
}

/**
 * What SVV_COLUMNS answers to {@link ArchiveSql.catalogQuery}: the configured tables (or their
 * union views) with exactly the configured columns, in lower case as Redshift folds names.
 */
export function svvColumns(config: ArchiveConfig, what: 'tables' | 'views'): Row[] {
  return config.tables.flatMap((t) =>
    t.columns.map((c) => ({
      table_schema: (what === 'tables' ? t.schema : config.views.schema).toLowerCase(),
      table_name: (what === 'tables' ? t.name : `${config.views.prefix}${t.alias}`).toLowerCase(),
      column_name: c.name.toLowerCase(),
      ...svvType(c),
    })),
  );
}

/** The run whose 2025 batch {@link ledgerAnswers} records as committed. */
const COMMITTED_RUN = '20260101T000000Z';

/** Where the committed 2025 batch of `table` lies. */
export function committedLocation(table: string): string {
  return `s3://${BUCKET}/contabyx-parquet/${table}/year=2025/archive_run=${COMMITTED_RUN}/year=2025/`;
}

/** One table's part of the 2025 batch of run 20260101T000000Z, committed, as the batches query returns it. */
function committedBatch(table: string): Row {
  return {
    run_id: '20260101T000000Z',
    table_name: table,
    family: 'transactions',
    year: '2025',
    source: 'hot',
    state: 'verified',
    attempt: '1',
    planned_rows: '5',
    location: committedLocation(table),
    row_count: '5',
    checksum: '12345',
    file_count: '1',
    byte_count: '100',
    columns: null,
    error: null,
    committed: '1',
  };
}

/**
 * The ledger of one run in `state` whose 2025 batch is committed (no ledger at all when undefined),
 * and the configured columns in SVV_COLUMNS, for scripted answers; `extra` answers first.
 */
export function ledgerAnswers(
  state: string | undefined,
  extra: (name: string, sql: string) => Row[] | undefined = () => undefined,
) {
  return (name: string, sql: string): Row[] | undefined => {
    const own = extra(name, sql);
    if (own) return own;
    if (name === 'ledger.runs')
      return state ? [{ run_id: '20260101T000000Z', cutoff: '2026-01-01', state, error: null }] : [];
    if (name === 'ledger.batches') return state ? CONTABYX.tables.map((t) => committedBatch(t.name)) : [];
    if (name === 'ledger.version') return [{ version: '0' }];
    // no state: no ledger yet (nothing was ever deployed)
    if (name === 'ledger.shape') return state ? ledgerShapeRows(CONTABYX) : [];
    if (name === 'guard.columns') return svvColumns(CONTABYX, 'tables');
    return undefined;
  };
}

/** A statement as the Data API on the embedded engine keeps it. */
export interface SimulatedStatement extends Kept {
  status: ScriptedStatus;
  /** DescribeStatement polls it answers STARTED before it ends; Infinity: until the invocation gives up. */
  polls: number;
  error?: string;
  rows?: Row[];
  /** The invocation that submitted it (numbered by the test). */
  readonly invocation: number;
}

/** What the Data API on the embedded engine asks of the test. */
export interface SimulationOptions {
  /** How many polls a new statement runs for (Infinity: it outlives the invocation). */
  readonly polls: (statement: SimulatedStatement) => number;
  /** The error a statement fails with instead of running; undefined: it runs. */
  readonly failure?: (statement: SimulatedStatement) => string | undefined;
  /** Called when a statement submitted with an event ends: EventBridge's part. */
  readonly ended: (statement: SimulatedStatement) => void;
}

/** The embedded engine's session that runs what the Data API is sent. */
export interface Cluster {
  query(sql: string): Promise<Row[]>;
  transaction(sqls: readonly string[]): Promise<void>;
}

/**
 * The Redshift Data API played by the embedded engine: each statement runs on a DuckDB session
 * when it ends, which is after some DescribeStatement polls or, for one that outlives its
 * invocation, whenever the test says. A statement submitted with `WithEvent` reports its end to
 * the test, as the status-change event EventBridge would deliver. ListStatements and
 * DescribeStatement answer from the statements submitted so far.
 */
export class DataApiOnDuckDb {
  readonly rsd = mockClient(RedshiftDataClient);
  readonly statements: SimulatedStatement[] = [];
  /** Ids of statements the Data API has forgotten (it keeps them a day): no longer listed or described. */
  readonly forgotten = new Set<string>();
  /** The invocation now running, which submits the statements. */
  invocation = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: SimulationOptions,
  ) {
    this.rsd.reset();
    const submit = (fullName: string, sql: string[], batch: boolean, withEvent: boolean | undefined) => {
      const statement: SimulatedStatement = {
        ...kept(this.statements.length + 1, fullName, sql, batch, withEvent),
        status: 'STARTED',
        polls: 0,
        invocation: this.invocation,
      };
      statement.polls = options.polls(statement);
      this.statements.push(statement);
      return { Id: statement.id };
    };
    this.rsd
      .on(ExecuteStatementCommand)
      .callsFake(({ Sql, StatementName, WithEvent }) =>
        submit(String(StatementName), [String(Sql)], false, WithEvent),
      );
    this.rsd
      .on(BatchExecuteStatementCommand)
      .callsFake(({ Sqls, StatementName, WithEvent }) =>
        submit(String(StatementName), Sqls as string[], true, WithEvent),
      );
    this.rsd.on(DescribeStatementCommand).callsFake(async ({ Id }) => {
      const statement = this.statements.find((s) => s.id === Id && !this.forgotten.has(Id));
      if (!statement) {
        throw Object.assign(new Error(`Query does not exist: ${Id}`), { name: 'ResourceNotFoundException' });
      }
      if (statement.status === 'STARTED') {
        if (statement.polls <= 0) await this.end(statement);
        else statement.polls--;
      }
      return {
        Id,
        Status: statement.status,
        CreatedAt: statement.createdAt,
        HasResultSet: statement.rows !== undefined,
        ...(statement.error ? { Error: statement.error } : {}),
        ...describedSql(statement),
      };
    });
    this.rsd.on(ListStatementsCommand).callsFake((input: ListStatementsCommandInput) =>
      listStatements(
        this.statements.filter((s) => !this.forgotten.has(s.id)),
        (s) => s.status,
        input,
      ),
    );
    this.rsd
      .on(GetStatementResultCommand)
      .callsFake(({ Id }) => resultOf(this.statements.find((s) => s.id === Id)?.rows ?? []));
  }

  /** Statements that have not ended. */
  running(): SimulatedStatement[] {
    return this.statements.filter((s) => s.status === 'STARTED');
  }

  /** Ends a statement: it runs on the embedded engine (or fails as the test says), then reports its end. */
  async end(statement: SimulatedStatement): Promise<void> {
    const failure = this.options.failure?.(statement);
    try {
      if (failure) throw new Error(failure);
      if (statement.batch) await this.cluster.transaction(statement.sql);
      else statement.rows = await this.cluster.query(statement.sql[0]);
      statement.status = 'FINISHED';
    } catch (error) {
      statement.status = 'FAILED';
      statement.error = `ERROR: ${(error as Error).message}`;
    }
    if (statement.withEvent) this.options.ended(statement);
  }
}

/** The "Redshift Data Statement Status Change" event of a statement, as EventBridge delivers it. */
export function statusChange(statementName: string, id: string, state: string) {
  return {
    version: '0',
    id: `event-${id}`,
    'detail-type': 'Redshift Data Statement Status Change',
    source: 'aws.redshift-data',
    account: '123456789012',
    time: '2026-01-01T00:05:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:redshift:eu-west-1:123456789012:cluster:contabyx'],
    detail: {
      principal: 'arn:aws:sts::123456789012:assumed-role/RedshiftArchive-UnloadRole/RedshiftArchive-Unload',
      statementName,
      statementId: id,
      redshiftQueryId: -1,
      state,
      rows: -1,
      expireAt: 1767312300,
    },
  };
}

/**
 * What SVV_COLUMNS answers to {@link ArchiveSql.ledgerShapeQuery} for a ledger of this version:
 * every column its setup creates and its upgrades add (names in lower case).
 */
export function ledgerShapeRows(config: ArchiveConfig): Row[] {
  const sql = new ArchiveSql(config, redshiftDialect({ iamRoleArn: ROLE }));
  const created = sql.setupStatements().flatMap((statement) => {
    const [, table, body] = /^CREATE TABLE IF NOT EXISTS "[^"]+"\."([^"]+)" \((.*)\)$/.exec(statement) ?? [];
    return table ? [...body.matchAll(/"(\w+)" /g)].map((m) => ({ table, column: m[1] })) : [];
  });
  const added = LEDGER_UPGRADES.map((u) => ({ table: u.table, column: u.column }));
  return [...created, ...added].map(({ table, column }) => ({
    table_schema: config.ledger.schema.toLowerCase(),
    table_name: table,
    column_name: column,
    data_type: 'character varying',
    char_length: '64',
    num_precision: null,
    num_scale: null,
  }));
}
