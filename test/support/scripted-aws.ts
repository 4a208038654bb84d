import { AthenaClient } from '@aws-sdk/client-athena';
import { GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ArchiveConfig, tableNamed } from '../../lambda/config/config';
import { glueColumns, GLUE_PARTITION_KEYS } from '../../lambda/core/glue-schema';
import type { Row } from '../../lambda/protocol/ports';
import { AwsEngine, openAwsEngine } from '../../lambda/runtime/aws-engine';
import { CONTABYX } from './world';

export const ROLE = 'arn:aws:iam::123456789012:role/contabyx-archive-redshift';
export const BUCKET = 'contabyx-archive-lake';

/** One statement the mocked Data API received. */
export interface Sent {
  readonly name: string;
  readonly sql: readonly string[];
  readonly batch: boolean;
}

/**
 * A Data API that answers reads from a script keyed by statement name (after the app prefix),
 * and records every statement, so a test can say exactly what was sent.
 */
export class ScriptedAws {
  readonly rsd = mockClient(RedshiftDataClient);
  readonly s3 = mockClient(S3Client);
  readonly glue = mockClient(GlueClient);
  readonly athena = mockClient(AthenaClient);
  readonly sent: Sent[] = [];
  private readonly results = new Map<string, Row[]>();
  status: (name: string) => 'FINISHED' | 'FAILED' | 'STARTED' = () => 'FINISHED';
  /** Called when a transaction is submitted (a test's ledger can follow it). */
  afterBatch: (name: string) => void = () => undefined;

  constructor(
    answers: (name: string, sql: string) => Row[] | undefined,
    private readonly config: ArchiveConfig = CONTABYX,
  ) {
    this.rsd.reset();
    this.s3.reset();
    this.glue.reset();
    this.athena.reset();
    let ids = 0;
    this.rsd.on(ListStatementsCommand).resolves({ Statements: [] });
    this.rsd.on(ExecuteStatementCommand).callsFake(({ Sql, StatementName }) => {
      const id = `st-${++ids}`;
      const name = String(StatementName).replace(/^redshift-archive\./, '');
      this.sent.push({ name, sql: [Sql], batch: false });
      const rows = answers(name, Sql);
      if (rows) this.results.set(id, rows);
      this.names.set(id, name);
      return { Id: id };
    });
    this.rsd.on(BatchExecuteStatementCommand).callsFake(({ Sqls, StatementName }) => {
      const id = `bt-${++ids}`;
      const name = String(StatementName).replace(/^redshift-archive\./, '');
      this.sent.push({ name, sql: Sqls as string[], batch: true });
      this.names.set(id, name);
      this.afterBatch(name);
      return { Id: id };
    });
    this.rsd.on(DescribeStatementCommand).callsFake(({ Id }) => ({
      Status: this.status(this.names.get(Id) ?? ''),
      Error: 'ERROR: scripted failure',
      HasResultSet: this.results.has(Id),
    }));
    this.rsd.on(GetStatementResultCommand).callsFake(({ Id }) => {
      const rows = this.results.get(Id) ?? [];
      return {
        ColumnMetadata: Object.keys(rows[0] ?? {}).map((label) => ({ label })),
        Records: rows.map((r) =>
          Object.values(r).map((v) => (v === null ? { isNull: true } : { stringValue: v })),
        ),
      };
    });
    this.glue.on(GetTableCommand).callsFake(({ Name }) => ({
      Table: {
        StorageDescriptor: {
          Columns: glueColumns(tableNamed(this.config, Name)).map((c) => ({ Name: c.name, Type: c.type })),
        },
        PartitionKeys: GLUE_PARTITION_KEYS.map((k) => ({ Name: k.name, Type: k.type })),
      },
    }));
  }

  private readonly names = new Map<string, string>();

  /** The engine on these mocks, for the contabyx sample. */
  engine(remainingMs = () => 600_000, athenaWorkgroup?: string): AwsEngine {
    return openAwsEngine(
      {
        config: this.config,
        bucket: BUCKET,
        iamRoleArn: ROLE,
        ...(athenaWorkgroup ? { athenaWorkgroup } : {}),
      },
      {
        redshiftData: new RedshiftDataClient({}),
        s3: new S3Client({}),
        glue: new GlueClient({}),
        athena: new AthenaClient({}),
      },
      { remainingMs, sleep: async () => undefined },
    );
  }
}

/** A ledger with one run in `state`, for scripted answers. */
export function ledgerAnswers(
  state: string | undefined,
  extra: (name: string, sql: string) => Row[] | undefined = () => undefined,
) {
  return (name: string, sql: string): Row[] | undefined => {
    if (name === 'ledger.runs')
      return state ? [{ run_id: '20260101T000000Z', cutoff: '2026-01-01', state, error: null }] : [];
    if (name === 'ledger.years') {
      return state
        ? CONTABYX.tables.map((t) => ({
            run_id: '20260101T000000Z',
            table_name: t.name,
            year: '2025',
            row_count: '10',
            checksum: t.columns.map((_, i) => `10:${i}`).join('|'),
          }))
        : [];
    }
    return extra(name, sql);
  };
}
