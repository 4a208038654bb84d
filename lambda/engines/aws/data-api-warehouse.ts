import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  DescribeStatementCommandOutput,
  ExecuteStatementCommand,
  Field,
  GetStatementResultCommand,
  ListStatementsCommand,
  RedshiftDataClient,
  StatusString,
} from '@aws-sdk/client-redshift-data';
import type { ArchiveConfig } from '../../config/config';
import { RunFailedError, StillRunningError } from '../../core/errors';
import type { Row, Warehouse } from '../../protocol/ports';
import type { Dialect } from '../../sql/dialect';
import { qualify } from '../../sql/identifiers';
import { Sleep, sleep as realSleep, withRetry } from './retry';

/** BatchExecuteStatement runs at most 40 statements, in order, as one transaction. */
export const MAX_BATCH = 40;

/** Every statement this app sends is named `<prefix><step>`, so events and listings find them. */
export const STATEMENT_PREFIX = 'redshift-archive.';

/** Options of the Data API warehouse. */
export interface DataApiWarehouseOptions {
  readonly client: RedshiftDataClient;
  readonly target: ArchiveConfig['warehouse'];
  readonly dialect: Dialect;
  /** Where a transaction of more than {@link MAX_BATCH} statements creates its procedure. */
  readonly procedureSchema: string;
  /** Milliseconds this invocation may still wait; past it, a running statement is left to its event. */
  readonly remainingMs: () => number;
  readonly sleep?: Sleep;
}

const WAITING: readonly string[] = ['SUBMITTED', 'PICKED', 'STARTED'];

/**
 * The warehouse on the Redshift Data API, for provisioned clusters (db user or secret) and
 * Serverless workgroups. Statements are submitted with `WithEvent` and a name that carries the
 * run and phase; waiting is bounded by the invocation's remaining time, after which the
 * statement's completion event resumes the run.
 */
export class DataApiWarehouse implements Warehouse {
  readonly dialect: Dialect;
  private readonly sleep: Sleep;

  constructor(private readonly options: DataApiWarehouseOptions) {
    this.dialect = options.dialect;
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

  private send<T>(call: (client: RedshiftDataClient) => Promise<T>): Promise<T> {
    return withRetry(() => call(this.options.client), this.sleep);
  }

  private name(step: string): string {
    return `${STATEMENT_PREFIX}${step}`.slice(0, 500);
  }

  async execute(sql: string, step: string): Promise<void> {
    await this.run(sql, step);
  }

  async query(sql: string, step: string): Promise<Row[]> {
    const id = await this.run(sql, step);
    const rows: Row[] = [];
    let token: string | undefined;
    do {
      const page = await this.send((c) =>
        c.send(new GetStatementResultCommand({ Id: id, NextToken: token })),
      );
      const labels = (page.ColumnMetadata ?? []).map((m) => (m.label ?? m.name ?? '').toLowerCase());
      for (const record of page.Records ?? []) {
        rows.push(Object.fromEntries(record.map((field, i) => [labels[i], fieldText(field)])));
      }
      token = page.NextToken;
    } while (token);
    return rows;
  }

  async transaction(sqls: readonly string[], step: string): Promise<void> {
    const statements = sqls.length <= MAX_BATCH ? [...sqls] : this.asProcedure(sqls, step);
    const { Id } = await this.send((c) =>
      c.send(
        new BatchExecuteStatementCommand({
          ...this.connection,
          Sqls: statements,
          StatementName: this.name(step),
          WithEvent: true,
        }),
      ),
    );
    await this.wait(required(Id), step);
  }

  /**
   * More statements than one batch holds still run as one transaction: inside a procedure that
   * the same batch creates, calls and drops.
   */
  private asProcedure(sqls: readonly string[], step: string): string[] {
    const name = qualify(
      this.options.procedureSchema,
      `archive_txn_${step.replace(/[^A-Za-z0-9]/g, '_')}`.slice(0, 127),
    );
    const body = sqls.map((sql) => `EXECUTE ${this.dialect.literal(sql)};`).join('\n');
    return [
      `CREATE OR REPLACE PROCEDURE ${name}() AS $$\nBEGIN\n${body}\nEND;\n$$ LANGUAGE plpgsql`,
      `CALL ${name}()`,
      `DROP PROCEDURE ${name}()`,
    ];
  }

  private async run(sql: string, step: string): Promise<string> {
    const { Id } = await this.send((c) =>
      c.send(
        new ExecuteStatementCommand({
          ...this.connection,
          Sql: sql,
          StatementName: this.name(step),
          WithEvent: true,
        }),
      ),
    );
    await this.wait(required(Id), step);
    return required(Id);
  }

  /** Polls until the statement ends, backing off, for as long as the invocation may wait. */
  private async wait(id: string, step: string): Promise<void> {
    let delay = 100;
    for (;;) {
      const described = await this.send((c) => c.send(new DescribeStatementCommand({ Id: id })));
      switch (described.Status) {
        case 'FINISHED':
          return;
        case 'FAILED':
        case 'ABORTED':
          throw new RunFailedError(`statement ${step} ${described.Status}: ${statementError(described)}`);
      }
      if (this.options.remainingMs() < delay) throw new StillRunningError(id, step);
      await this.sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }

  /** Statements of this app that are still running (at most a day old: the Data API forgets). */
  async inFlight(stepPrefix = ''): Promise<{ id: string; name: string; status: string }[]> {
    const found: { id: string; name: string; status: string }[] = [];
    for (const status of WAITING) {
      let token: string | undefined;
      do {
        const page = await this.send((c) =>
          c.send(
            new ListStatementsCommand({
              StatementName: this.name(stepPrefix),
              Status: status as StatusString,
              RoleLevel: true,
              NextToken: token,
            }),
          ),
        );
        for (const s of page.Statements ?? []) {
          found.push({ id: required(s.Id), name: s.StatementName ?? '', status: s.Status ?? status });
        }
        token = page.NextToken;
      } while (token);
    }
    return found;
  }

  /** What went wrong with a statement that ended FAILED or ABORTED. */
  async describeFailure(id: string): Promise<string> {
    return statementError(await this.send((c) => c.send(new DescribeStatementCommand({ Id: id }))));
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

function fieldText(field: Field): string | null {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return String(field.longValue);
  if (field.doubleValue !== undefined) return String(field.doubleValue);
  if (field.booleanValue !== undefined) return String(field.booleanValue);
  return null;
}

function required(id: string | undefined): string {
  if (!id) throw new RunFailedError('the Data API returned no statement id');
  return id;
}
