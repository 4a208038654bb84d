import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListStatementsCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '../../lambda/config/config';
import { RunFailedError, StillRunningError } from '../../lambda/core/errors';
import { DataApiWarehouse } from '../../lambda/engines/aws/data-api-warehouse';
import { redshiftDialect } from '../../lambda/sql/redshift-dialect';
import contabyx from '../../config/contabyx.json';

const rsd = mockClient(RedshiftDataClient);
const dialect = redshiftDialect({ iamRoleArn: 'arn:aws:iam::123456789012:role/archive' });
const slept: number[] = [];

function warehouse(target = parseConfig(contabyx).warehouse, remainingMs = () => 60_000) {
  return new DataApiWarehouse({
    client: new RedshiftDataClient({}),
    target,
    dialect,
    procedureSchema: 'archive_meta',
    remainingMs,
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
}

beforeEach(() => {
  rsd.reset();
  slept.length = 0;
  rsd.on(ExecuteStatementCommand).resolves({ Id: 'st-1' });
  rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'bt-1' });
});

describe('the Data API warehouse', () => {
  test('submits a statement with an event and a name that carries the step, and waits for FINISHED', async () => {
    rsd
      .on(DescribeStatementCommand)
      .resolvesOnce({ Status: 'SUBMITTED' })
      .resolvesOnce({ Status: 'STARTED' })
      .resolves({ Status: 'FINISHED' });
    await warehouse().execute('VACUUM DELETE ONLY "contabyx"."tax"', '20260101T000000Z.finish.maintenance');
    expect(rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input)).toEqual([
      {
        ClusterIdentifier: 'contabyx',
        Database: 'dev',
        DbUser: 'archiver',
        Sql: 'VACUUM DELETE ONLY "contabyx"."tax"',
        StatementName: 'redshift-archive.20260101T000000Z.finish.maintenance',
        WithEvent: true,
      },
    ]);
    expect(rsd.commandCalls(DescribeStatementCommand)).toHaveLength(3);
    expect(slept).toEqual([100, 200]);
  });

  test('addresses a Serverless workgroup, and a cluster through a secret', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    await warehouse({ type: 'serverless', workgroupName: 'analytics', database: 'prod' }).execute(
      'SELECT 1',
      's',
    );
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:archiver-AbCdEf';
    await warehouse({ type: 'provisioned', clusterIdentifier: 'c1', database: 'dev', secretArn }).execute(
      'SELECT 1',
      's',
    );
    const inputs = rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({ WorkgroupName: 'analytics', Database: 'prod' });
    expect(inputs[0]).not.toHaveProperty('ClusterIdentifier');
    expect(inputs[1]).toMatchObject({ ClusterIdentifier: 'c1', Database: 'dev', SecretArn: secretArn });
    expect(inputs[1]).not.toHaveProperty('DbUser');
  });

  test("fails with Redshift's error when a statement FAILED", async () => {
    rsd
      .on(DescribeStatementCommand)
      .resolves({ Status: 'FAILED', Error: 'ERROR: permission denied for schema contabyx' });
    await expect(warehouse().execute('DELETE FROM x', 'r.stage')).rejects.toThrow(
      new RunFailedError('statement r.stage FAILED: ERROR: permission denied for schema contabyx'),
    );
  });

  test('fails when a statement was ABORTED', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'ABORTED' });
    await expect(warehouse().execute('SELECT 1', 'r.verify.tax')).rejects.toThrow(
      'statement r.verify.tax ABORTED: ABORTED',
    );
  });

  test('leaves a statement still running past the budget to its completion event', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'STARTED' });
    let budget = 450;
    const w = warehouse(parseConfig(contabyx).warehouse, () => (budget -= 100));
    const pending = w.transaction(['DELETE FROM a'], 'r.stage');
    await expect(pending).rejects.toBeInstanceOf(StillRunningError);
    await expect(pending).rejects.toThrow(
      'statement bt-1 (r.stage) is still running; its completion event resumes the run',
    );
  });

  test('retries a throttled call with backoff', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    rsd.on(ExecuteStatementCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves({ Id: 'st-2' });
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    await warehouse().execute('SELECT 1', 's');
    expect(rsd.commandCalls(ExecuteStatementCommand)).toHaveLength(3);
    expect(slept).toEqual([400, 800]);
  });

  test('does not retry a validation error', async () => {
    rsd
      .on(ExecuteStatementCommand)
      .rejects(Object.assign(new Error('Sql is too long'), { name: 'ValidationException' }));
    await expect(warehouse().execute('SELECT 1', 's')).rejects.toThrow('Sql is too long');
    expect(rsd.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
  });

  test('runs a transaction as one batch and names the statement that failed in its middle', async () => {
    rsd.on(DescribeStatementCommand).resolves({
      Status: 'FAILED',
      Error: 'batch failed',
      SubStatements: [
        { Id: 'bt-1:1', Status: 'FINISHED' },
        { Id: 'bt-1:2', Status: 'FAILED', Error: 'ERROR: relation "archive_meta.active_run" already exists' },
        { Id: 'bt-1:3', Status: 'ABORTED' },
      ],
    });
    const run = warehouse().transaction(
      ['CREATE TABLE a (x INT)', 'CREATE TABLE b (x INT)', 'DELETE FROM c'],
      'r.stage',
    );
    await expect(run).rejects.toThrow(
      'statement r.stage FAILED: ERROR: relation "archive_meta.active_run" already exists (statement 2 of 3, the transaction was rolled back)',
    );
    expect(rsd.commandCalls(BatchExecuteStatementCommand)[0].args[0].input).toEqual({
      ClusterIdentifier: 'contabyx',
      Database: 'dev',
      DbUser: 'archiver',
      Sqls: ['CREATE TABLE a (x INT)', 'CREATE TABLE b (x INT)', 'DELETE FROM c'],
      StatementName: 'redshift-archive.r.stage',
      WithEvent: true,
    });
  });

  test('keeps a transaction of more than 40 statements one transaction, in a procedure the batch creates, calls and drops', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    const sqls = Array.from({ length: 41 }, (_, i) => `INSERT INTO t VALUES (${i}, 'it''s')`);
    await warehouse().transaction(sqls, '20260101T000000Z.stage');
    const batch = rsd.commandCalls(BatchExecuteStatementCommand)[0].args[0].input.Sqls as string[];
    expect(batch).toHaveLength(3);
    expect(batch[0]).toBe(
      'CREATE OR REPLACE PROCEDURE "archive_meta"."archive_txn_20260101T000000Z_stage"() AS $$\nBEGIN\n' +
        sqls.map((s) => `EXECUTE '${s.replace(/'/g, "''")}';`).join('\n') +
        '\nEND;\n$$ LANGUAGE plpgsql',
    );
    expect(batch.slice(1)).toEqual([
      'CALL "archive_meta"."archive_txn_20260101T000000Z_stage"()',
      'DROP PROCEDURE "archive_meta"."archive_txn_20260101T000000Z_stage"()',
    ]);
  });

  test('reads every page of a result, each value as text, labels in lower case', async () => {
    const COLUMNS = [
      { label: 'RUN_ID' },
      { label: 'row_count' },
      { label: 'h0' },
      { label: 'error' },
      { label: 'ok' },
    ];
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED', HasResultSet: true });
    rsd
      .on(GetStatementResultCommand)
      .resolvesOnce({
        ColumnMetadata: COLUMNS,
        Records: [
          [
            { stringValue: 'r1' },
            { longValue: 42 },
            { stringValue: '-12345678901234567890' },
            { isNull: true },
            { booleanValue: true },
          ],
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        ColumnMetadata: COLUMNS,
        Records: [
          [
            { stringValue: 'r2' },
            { longValue: 0 },
            { doubleValue: 1.5 },
            { stringValue: "it's" },
            { booleanValue: false },
          ],
        ],
      });
    const rows = await warehouse().query('SELECT ...', 'ledger.runs');
    expect(rows).toEqual([
      { run_id: 'r1', row_count: '42', h0: '-12345678901234567890', error: null, ok: 'true' },
      { run_id: 'r2', row_count: '0', h0: '1.5', error: "it's", ok: 'false' },
    ]);
    expect(rsd.commandCalls(GetStatementResultCommand).map((c) => c.args[0].input.NextToken)).toEqual([
      undefined,
      'page-2',
    ]);
  });

  test("lists the app's statements that are still running", async () => {
    rsd.on(ListStatementsCommand).resolves({ Statements: [] });
    rsd.on(ListStatementsCommand, { Status: 'STARTED' }).resolves({
      Statements: [{ Id: 'u-1', StatementName: 'redshift-archive.r.export.tax', Status: 'STARTED' }],
    });
    expect(await warehouse().inFlight()).toEqual([
      { id: 'u-1', name: 'redshift-archive.r.export.tax', status: 'STARTED' },
    ]);
    expect(rsd.commandCalls(ListStatementsCommand).map((c) => c.args[0].input)).toEqual(
      ['SUBMITTED', 'PICKED', 'STARTED'].map((Status) => ({
        StatementName: 'redshift-archive.',
        Status,
        RoleLevel: true,
        NextToken: undefined,
      })),
    );
  });
});
