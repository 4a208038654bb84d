import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  DescribeStatementCommandOutput,
  ExecuteStatementCommand,
  Field,
  paginateGetStatementResult,
  paginateListStatements,
  RedshiftDataClient,
  StatusString,
} from '@aws-sdk/client-redshift-data';
import type { ArchiveConfig } from '../../config/config';
import { InputError, RunFailedError, show, StillRunningError } from '../../core/errors';
import type { Row, StatementOptions, Warehouse } from '../../protocol/ports';
import type { Dialect } from '../../sql/dialect';
import { MAX_BATCH, MAX_PROCEDURES, MAX_STATEMENT_BYTES, procedureBatch } from '../../sql/redshift-dialect';
import { Sleep, sleep as realSleep } from './sleep';

/** ListStatements returns at most 100 statements a page. */
const PAGE = 100;

/** The Data API keeps at most 500 characters of a statement name. */
const MAX_NAME = 500;

/** Polls of a running statement start this often, then back off, doubling, to every 5 s. */
const FIRST_POLL_MS = 100;
const backOff = (delay: number) => Math.min(delay * 2, 5_000);

/** What reads and writes through the Data API need: where, as whom, and for how long. */
export interface DataApiSessionOptions {
  /** Retries a throttled call itself: build it with `redshiftDataClient` (`clients.ts`). */
  readonly client: RedshiftDataClient;
  readonly target: ArchiveConfig['warehouse'];
  /**
   * The prefix of statement names: the stack's own (`redshift-archive.<stack name>.`), which its
   * event rule matches and listings look under, or an operator's, which no rule matches.
   */
  readonly statementPrefix: string;
  /** Milliseconds this invocation may still wait; past it, a running statement is left running. */
  readonly remainingMs: () => number;
  /** Waits between polls of a running statement. */
  readonly sleep?: Sleep;
}

/** Options of the Data API warehouse. */
export interface DataApiWarehouseOptions extends DataApiSessionOptions {
  readonly dialect: Dialect;
  /** Where a transaction of more than {@link MAX_BATCH} statements creates its procedure. */
  readonly procedureSchema: string;
}

/** A statement of this stack, as the Data API lists it. */
export interface ListedStatement {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly createdAt: Date;
}

/** One statement as the Data API describes it. */
export interface DescribedStatement {
  readonly id: string;
  readonly createdAt: Date;
  /** What went wrong, for a statement that ended FAILED or ABORTED. */
  readonly error: string;
  /** Its SQL as it was sent: one statement, or each of a batch's; empty when the Data API omits it. */
  readonly sql: readonly string[];
}

/**
 * A statement submitted without an event that is still running when the invocation must stop
 * waiting: nothing will announce its end, so no completion event resumes the run. The caller
 * must fail loudly (or, like deploy-time polling, ask again) instead of waiting for an event.
 */
export class UnannouncedStatementError extends StillRunningError {
  constructor(statementId: string, step: string) {
    super(statementId, step);
    this.message = `statement ${statementId} (${step}) is still running, and no event announces its end`;
  }
}

const WAITING: readonly StatusString[] = ['SUBMITTED', 'PICKED', 'STARTED'];

/**
 * Statements through the Redshift Data API, for provisioned clusters (db user or secret) and
 * Serverless workgroups, each named `<prefix><step>`, waited for as long as the caller may wait.
 * Alone it reads: `init` reads a warehouse's catalog with it, with the operator's credentials.
 */
export class DataApiSession {
  readonly statementPrefix: string;
  protected readonly sleep: Sleep;

  constructor(protected readonly options: DataApiSessionOptions) {
    this.statementPrefix = options.statementPrefix;
    this.sleep = options.sleep ?? realSleep;
  }

  private get connection() {
    const t = this.options.target;
    if (t.type === 'serverless') return { WorkgroupName: t.workgroupName, Database: t.database };
    return {
      ClusterIdentifier: t.clusterIdentifier,
      Database: t.database,
      ...(t.secretArn ? { SecretArn: t.secretArn } : { DbUser: t.dbUser }),
    };
  }

  protected get client(): RedshiftDataClient {
    return this.options.client;
  }

  protected name(step: string): string {
    return `${this.statementPrefix}${step}`.slice(0, MAX_NAME);
  }

  /** Where a statement runs and its name; an event only if it may outlive the invocation. */
  protected submission(step: string, outlives: boolean) {
    return { ...this.connection, StatementName: this.name(step), ...(outlives ? { WithEvent: true } : {}) };
  }

  async query(sql: string, step: string): Promise<Row[]> {
    const id = await this.run(sql, step, false);
    const rows: Row[] = [];
    for await (const page of paginateGetStatementResult({ client: this.client }, { Id: id })) {
      const labels = (page.ColumnMetadata ?? []).map((m) => (m.label ?? m.name ?? '').toLowerCase());
      for (const record of page.Records ?? []) {
        rows.push(
          Object.fromEntries(record.map((field, i) => [labels[i], fieldText(field, labels[i], step)])),
        );
      }
    }
    return rows;
  }

  protected async run(sql: string, step: string, outlives: boolean): Promise<string> {
    checkSize(sql, step);
    const { Id } = await this.client.send(
      new ExecuteStatementCommand({ ...this.submission(step, outlives), Sql: sql }),
    );
    await this.wait(required(Id), step, outlives);
    return required(Id);
  }

  /**
   * Polls until the statement ends, backing off, for as long as the invocation may wait. Then a
   * statement with an event is left to it; one without fails the wait, as nothing would resume.
   */
  protected async wait(id: string, step: string, outlives: boolean): Promise<void> {
    for (let delay = FIRST_POLL_MS; ; delay = backOff(delay)) {
      const described = await this.client.send(new DescribeStatementCommand({ Id: id }));
      switch (described.Status) {
        case 'FINISHED':
          return;
        case 'FAILED':
        case 'ABORTED':
          throw statementFailed(step, described.Status, statementError(described));
      }
      if (this.options.remainingMs() < delay) {
        throw outlives ? new StillRunningError(id, step) : new UnannouncedStatementError(id, step);
      }
      await this.sleep(delay);
    }
  }
}

/**
 * The warehouse on the Redshift Data API, for provisioned clusters (db user or secret) and
 * Serverless workgroups. Every statement is named `<stack prefix><step>`. Only statements that
 * may outlive the invocation (exports, commits) are submitted with `WithEvent`: their completion
 * event resumes the run; reads and setup send none, so the flow of events goes quiet. Waiting is
 * bounded by the invocation's remaining time.
 */
export class DataApiWarehouse extends DataApiSession implements Warehouse {
  readonly dialect: Dialect;

  constructor(protected override readonly options: DataApiWarehouseOptions) {
    super(options);
    this.dialect = options.dialect;
  }

  /** The step of a statement name of this stack; undefined for any other name. */
  stepOf(statementName: string): string | undefined {
    return statementName.startsWith(this.statementPrefix)
      ? statementName.slice(this.statementPrefix.length)
      : undefined;
  }

  async execute(sql: string, step: string, options?: StatementOptions): Promise<void> {
    await this.run(sql, step, options?.outlives === true);
  }

  async transaction(sqls: readonly string[], step: string, options?: StatementOptions): Promise<void> {
    const statements = sqls.length <= MAX_BATCH ? [...sqls] : this.asProcedure(sqls, step);
    statements.forEach((sql, i) => checkSize(sql, `${step} (statement ${i + 1} of ${statements.length})`));
    const outlives = options?.outlives === true;
    const { Id } = await this.client.send(
      new BatchExecuteStatementCommand({ ...this.submission(step, outlives), Sqls: statements }),
    );
    await this.wait(required(Id), step, outlives);
  }

  /**
   * More statements than one batch holds still run as one transaction: inside procedures that the
   * same batch creates, calls and drops (`procedureBatch`). Only deploy-time view setup gets here
   * (one or more statements per configured table and reader, and a configuration may list many
   * families); a commit never does, as a family has at most 13 tables (3k + 1 <= 40 statements).
   */
  private asProcedure(sqls: readonly string[], step: string): string[] {
    const batch = procedureBatch(sqls, this.options.procedureSchema, step);
    if (!batch) {
      throw new InputError(
        `statement ${step}: ${sqls.length} statements need more than the ${MAX_PROCEDURES} procedures of ` +
          `${MAX_STATEMENT_BYTES} bytes that one Data API batch holds, or one of them is longer than a procedure; ` +
          'nothing was sent. Fewer tables, columns or views.readers per deployment make it shorter',
      );
    }
    return batch;
  }

  /**
   * Sends `sql` with an event and leaves it to that event: the statement's completion starts the
   * next invocation, and this one stops (StillRunningError) before its time runs out with a
   * statement that no event announces in flight.
   */
  async handOver(sql: string, step: string): Promise<never> {
    checkSize(sql, step);
    const { Id } = await this.client.send(
      new ExecuteStatementCommand({ ...this.submission(step, true), Sql: sql }),
    );
    throw new StillRunningError(required(Id), step);
  }

  /** Statements of this stack that are still running (at most a day old: the Data API forgets). */
  async inFlight(stepPrefix = ''): Promise<ListedStatement[]> {
    const found: ListedStatement[] = [];
    for (const status of WAITING) found.push(...(await this.list(stepPrefix, status)));
    return found;
  }

  /**
   * Waits while statements of this stack run, polling with the same backoff as a statement's own
   * wait, for as long as the invocation may wait.
   * @returns the statements still running when it had to stop; none when all have ended
   */
  async untilQuiet(): Promise<ListedStatement[]> {
    for (let delay = FIRST_POLL_MS; ; delay = backOff(delay)) {
      const running = await this.inFlight();
      if (running.length === 0 || this.options.remainingMs() < delay) return running;
      await this.sleep(delay);
    }
  }

  /**
   * Every statement of this stack whose step starts with `stepPrefix`, whatever its status (by
   * default ListStatements shows only FINISHED ones), from every page. The Data API documents
   * no order: callers compare `createdAt`.
   */
  async statements(stepPrefix: string): Promise<ListedStatement[]> {
    return this.list(stepPrefix, 'ALL');
  }

  private async list(stepPrefix: string, status: StatusString): Promise<ListedStatement[]> {
    const found: ListedStatement[] = [];
    const pages = paginateListStatements(
      { client: this.client, pageSize: PAGE },
      // Every invocation runs as the same role, in a new session: list the role's statements.
      { StatementName: this.name(stepPrefix), Status: status, RoleLevel: true },
    );
    for await (const page of pages) {
      for (const s of page.Statements ?? []) {
        found.push({
          id: required(s.Id),
          name: s.StatementName ?? '',
          status: s.Status ?? status,
          createdAt: createdAt(s.CreatedAt, s.Id),
        });
      }
    }
    return found;
  }

  /**
   * One statement as the Data API describes it; undefined when it does not know the statement (it
   * expired, or another role ran it).
   */
  async describe(id: string): Promise<DescribedStatement | undefined> {
    let described: DescribeStatementCommandOutput;
    try {
      described = await this.client.send(new DescribeStatementCommand({ Id: id }));
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'ResourceNotFoundException' || name === 'ValidationException') return undefined;
      throw error;
    }
    const sql = described.SubStatements?.length
      ? described.SubStatements.map((sub) => sub.QueryString ?? '')
      : [described.QueryString ?? ''];
    return {
      id,
      createdAt: createdAt(described.CreatedAt, id),
      error: statementError(described),
      sql: sql.every((text) => text !== '') ? sql : [],
    };
  }
}

/**
 * The failure of a statement that ended FAILED or ABORTED, as the invocation waiting for it throws
 * it, and as a later one builds it from the statement's status-change event: the same words, so
 * the protocol judges both alike.
 */
export function statementFailed(step: string, status: string, error: string): RunFailedError {
  return new RunFailedError(`statement ${step} ${status}: ${error}`);
}

/** Refuses, before sending, a statement that the Data API would refuse for its size. */
function checkSize(sql: string, what: string): void {
  const bytes = Buffer.byteLength(sql);
  if (bytes > MAX_STATEMENT_BYTES) {
    throw new InputError(
      `statement ${what}: ${bytes} bytes, more than the Data API takes in one statement (${MAX_STATEMENT_BYTES}); ` +
        'nothing was sent. Fewer tables, columns or views.readers per deployment make it shorter',
    );
  }
}

function statementError(described: DescribeStatementCommandOutput): string {
  const failed =
    described.SubStatements?.findIndex((s) => s.Status === 'FAILED' || s.Status === 'ABORTED') ?? -1;
  const sub = failed >= 0 ? described.SubStatements?.[failed] : undefined;
  const where = sub
    ? ` (statement ${failed + 1} of ${described.SubStatements?.length}, the transaction was rolled back)`
    : '';
  return `${sub?.Error ?? described.Error ?? described.Status ?? 'no error reported'}${where}`;
}

/**
 * One result value as text. Figures that may exceed 2^53 (hashes, sums, ledger counts) are cast
 * to VARCHAR in SQL; a BIGINT that still arrives as `longValue` is a JavaScript number, exact
 * only up to 2^53, so anything beyond is refused rather than rounded.
 */
function fieldText(field: Field, label: string, step: string): string | null {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) {
    if (!Number.isSafeInteger(field.longValue)) {
      throw new RunFailedError(
        `statement ${step}: column ${label} is ${show(field.longValue)}, a whole number past 2^53 that the Data API ` +
          'rounds; the query must cast it to VARCHAR',
      );
    }
    return String(field.longValue);
  }
  if (field.doubleValue !== undefined) return String(field.doubleValue);
  if (field.booleanValue !== undefined) return String(field.booleanValue);
  throw new RunFailedError(
    `statement ${step}: column ${label} holds a value of a kind the protocol never reads (${show(field)})`,
  );
}

function required(id: string | undefined): string {
  if (!id) throw new RunFailedError('the Data API returned no statement id');
  return id;
}

function createdAt(value: Date | undefined, id: string | undefined): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new RunFailedError(`the Data API returned no creation time for statement ${id}`);
  }
  return value;
}
