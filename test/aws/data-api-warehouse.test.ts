import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  GetStatementResultCommandInput,
  GetStatementResultCommandOutput,
  ListStatementsCommand,
  ListStatementsCommandInput,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '../../src/config/config';
import { InputError, RunFailedError, StillRunningError } from '../../src/core/errors';
import { DataApiWarehouse, UnannouncedStatementError } from '../../src/engines/aws/data-api-warehouse';
import { redshiftDialect } from '../../src/sql/redshift-dialect';
import contabyx from '../../config/contabyx.json';
import { PREFIX, statementId } from '../../devkit/scripted-aws';
import { keepingInputs } from '../support/sent-inputs';
import { failure } from '../support/failure';

const rsd = mockClient(RedshiftDataClient);
const dialect = redshiftDialect({ iamRoleArn: 'arn:aws:iam::123456789012:role/archive' });
const slept: number[] = [];
const ID = statementId(1);
const CLUSTER = { ClusterIdentifier: 'contabyx', Database: 'dev', DbUser: 'archiver' };

function warehouse(target = parseConfig(contabyx).warehouse, remainingMs = () => 60_000) {
  return new DataApiWarehouse({
    client: new RedshiftDataClient({}),
    target,
    dialect,
    statementPrefix: PREFIX,
    procedureSchema: 'archive_meta',
    remainingMs,
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
}

/** What a call rejected with. */
beforeEach(() => {
  rsd.reset();
  slept.length = 0;
  rsd.on(ExecuteStatementCommand).resolves({ Id: ID });
  rsd.on(BatchExecuteStatementCommand).resolves({ Id: ID });
});

describe('the Data API warehouse', () => {
  test("submits a read or a setup statement without an event, named by the stack's prefix and the step, and waits for FINISHED", async () => {
    // given a statement that is submitted, then started, then finished
    rsd
      .on(DescribeStatementCommand)
      .resolvesOnce({ Status: 'SUBMITTED' })
      .resolvesOnce({ Status: 'STARTED' })
      .resolves({ Status: 'FINISHED' });
    // when it is executed
    await warehouse().execute('VACUUM DELETE ONLY "contabyx"."tax"', '20260101T000000Z.maintenance');
    // then it went without WithEvent, and the wait backed off
    expect(rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input)).toEqual([
      {
        ...CLUSTER,
        Sql: 'VACUUM DELETE ONLY "contabyx"."tax"',
        StatementName: 'redshift-archive.RedshiftArchive.20260101T000000Z.maintenance',
      },
    ]);
    expect(rsd.commandCalls(DescribeStatementCommand)).toHaveLength(3);
    expect(slept).toEqual([100, 200]);
  });

  test('submits a statement that may outlive the invocation (an export) with an event', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    await warehouse().execute('UNLOAD (...)', '20260101T000000Z.export.tax.2024.a1', { outlives: true });
    expect(rsd.commandCalls(ExecuteStatementCommand)[0].args[0].input).toEqual({
      ...CLUSTER,
      Sql: 'UNLOAD (...)',
      StatementName: `${PREFIX}20260101T000000Z.export.tax.2024.a1`,
      WithEvent: true,
    });
  });

  test('runs a transaction as one batch, with an event only when it may outlive the invocation (a commit)', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    await warehouse().transaction(['CREATE SCHEMA IF NOT EXISTS "a"'], 'setup.ledger');
    await warehouse().transaction(['DELETE FROM a', 'DELETE FROM b'], '20260101T000000Z.commit.a.2024.a1', {
      outlives: true,
    });
    expect(rsd.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input)).toEqual([
      { ...CLUSTER, Sqls: ['CREATE SCHEMA IF NOT EXISTS "a"'], StatementName: `${PREFIX}setup.ledger` },
      {
        ...CLUSTER,
        Sqls: ['DELETE FROM a', 'DELETE FROM b'],
        StatementName: `${PREFIX}20260101T000000Z.commit.a.2024.a1`,
        WithEvent: true,
      },
    ]);
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
    const error = await failure(warehouse().execute('DELETE FROM x', 'r.commit'));
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toBe('statement r.commit FAILED: ERROR: permission denied for schema contabyx');
  });

  test('fails when a statement was ABORTED', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'ABORTED' });
    await expect(warehouse().execute('SELECT 1', 'r.verify.tax')).rejects.toThrow(
      'statement r.verify.tax ABORTED: ABORTED',
    );
  });

  test('leaves a statement with an event still running past the budget to its completion event', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'STARTED' });
    let budget = 450;
    const w = warehouse(parseConfig(contabyx).warehouse, () => (budget -= 100));
    const error = await failure(w.transaction(['DELETE FROM a'], 'r.commit', { outlives: true }));
    expect(error).toBeInstanceOf(StillRunningError);
    expect(error).not.toBeInstanceOf(UnannouncedStatementError);
    expect(error.message).toBe(
      `statement ${ID} (r.commit) is still running; its completion event resumes the run`,
    );
  });

  test('fails to wait for a statement without an event past the budget: nothing would announce its end', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'STARTED' });
    const w = warehouse(parseConfig(contabyx).warehouse, () => 0);
    const error = await failure(w.query('SELECT 1', 'r.export.tax.2024.a1.count'));
    expect(error).toBeInstanceOf(UnannouncedStatementError);
    expect(error.message).toBe(
      `statement ${ID} (r.export.tax.2024.a1.count) is still running, and no event announces its end`,
    );
  });

  test('fails at once on a validation error, without retrying', async () => {
    rsd
      .on(ExecuteStatementCommand)
      .rejects(Object.assign(new Error('Sql is too long'), { name: 'ValidationException' }));
    await expect(warehouse().execute('SELECT 1', 's')).rejects.toThrow('Sql is too long');
    expect(rsd.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
  });

  test('fails a transaction naming the statement that failed in its middle', async () => {
    rsd.on(DescribeStatementCommand).resolves({
      Status: 'FAILED',
      Error: 'batch failed',
      SubStatements: [
        { Id: `${ID}:1`, Status: 'FINISHED' },
        { Id: `${ID}:2`, Status: 'FAILED', Error: 'ERROR: Cannot insert a NULL value into column passed' },
        { Id: `${ID}:3`, Status: 'ABORTED' },
      ],
    });
    const run = warehouse().transaction(['UPDATE v', 'INSERT INTO c', 'DELETE FROM t'], 'r.commit', {
      outlives: true,
    });
    await expect(run).rejects.toThrow(
      'statement r.commit FAILED: ERROR: Cannot insert a NULL value into column passed (statement 2 of 3, the transaction was rolled back)',
    );
  });

  test('keeps a transaction of more than 40 statements one transaction, in a procedure the batch creates, calls and drops', async () => {
    // given 41 statements (deploy-time views of many tables), one of which holds the dollar tag
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    const sqls = Array.from({ length: 41 }, (_, i) => `INSERT INTO t VALUES (${i}, 'it''s')`);
    sqls[40] = 'CREATE OR REPLACE VIEW "v" AS SELECT "a$archive$b" FROM "t"';
    // when they run as one transaction
    await warehouse().transaction(sqls, 'setup.views');
    // then one batch creates, calls and drops a procedure whose body runs each of them, the body
    // quoted with a tag that it does not contain
    const batch = rsd.commandCalls(BatchExecuteStatementCommand)[0].args[0].input.Sqls as string[];
    expect(batch).toEqual([
      'CREATE OR REPLACE PROCEDURE "archive_meta"."archive_txn_setup_views"() AS $archive1$\nBEGIN\n' +
        sqls.map((s) => `EXECUTE '${s.replace(/'/g, "''")}';`).join('\n') +
        '\nEND;\n$archive1$ LANGUAGE plpgsql',
      'CALL "archive_meta"."archive_txn_setup_views"()',
      'DROP PROCEDURE "archive_meta"."archive_txn_setup_views"()',
    ]);
  });

  test('fails a statement longer than the Data API takes (100 KB) before sending anything', async () => {
    const long = `SELECT '${'x'.repeat(100_000)}'`;
    const error = await failure(warehouse().execute(long, 'r.verify.tax'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'statement r.verify.tax: 100009 bytes, more than the Data API takes in one statement (100000); nothing was sent. ' +
        'Fewer tables, columns or views.readers per deployment make it shorter',
    );
    expect(rsd.calls()).toHaveLength(0);
  });

  test('splits a transaction whose procedure would pass 100 KB into procedures of at most 100 KB, called in order in one batch', async () => {
    // given 41 statements of 2.5 KB each (one procedure would hold 104,866 bytes)
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    const views = Array.from(
      { length: 41 },
      (_, i) => `CREATE OR REPLACE VIEW "v${i}" AS SELECT '${'x'.repeat(2_500)}'`,
    );
    await warehouse().transaction(views, 'setup.views');
    // then one batch creates two procedures, calls them in order, and drops them
    const batch = rsd.commandCalls(BatchExecuteStatementCommand)[0].args[0].input.Sqls as string[];
    const names = [
      '"archive_meta"."archive_txn_setup_views_1"',
      '"archive_meta"."archive_txn_setup_views_2"',
    ];
    expect(batch.slice(2)).toEqual([
      ...names.map((n) => `CALL ${n}()`),
      ...names.map((n) => `DROP PROCEDURE ${n}()`),
    ]);
    expect(batch[0].startsWith(`CREATE OR REPLACE PROCEDURE ${names[0]}() AS $archive$`)).toBe(true);
    expect(batch[1].startsWith(`CREATE OR REPLACE PROCEDURE ${names[1]}() AS $archive$`)).toBe(true);
    expect(batch.every((sql) => Buffer.byteLength(sql) <= 100_000)).toBe(true);
    // every statement once, in order
    const executed = batch
      .slice(0, 2)
      .flatMap((p) => [...p.matchAll(/EXECUTE '(.*)';$/gm)].map((m) => m[1].replace(/''/g, "'")));
    expect(executed).toEqual(views);
  });

  test('fails a transaction that needs more procedures than one batch holds (13 of 100 KB) before sending anything', async () => {
    const views = Array.from(
      // 41 statements of 34 KB: two fit in a procedure, so they need 21
      { length: 41 },
      (_, i) => `CREATE OR REPLACE VIEW "v${i}" AS SELECT '${'x'.repeat(34_000)}'`,
    );
    await expect(warehouse().transaction(views, 'setup.views')).rejects.toThrow(
      new InputError(
        'statement setup.views: 41 statements need more than the 13 procedures of 100000 bytes that one Data API batch holds, ' +
          'or one of them is longer than a procedure; nothing was sent. Fewer tables, columns or views.readers per deployment make it shorter',
      ),
    );
    expect(rsd.calls()).toHaveLength(0);
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
    const pages: Record<string, Partial<GetStatementResultCommandOutput>> = {
      first: {
        ColumnMetadata: COLUMNS,
        Records: [
          [
            { stringValue: 'r1' },
            { longValue: Number.MAX_SAFE_INTEGER },
            { stringValue: '-12345678901234567890' },
            { isNull: true },
            { booleanValue: true },
          ],
        ],
        NextToken: 'page-2',
      },
      'page-2': {
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
      },
    };
    const sent: GetStatementResultCommandInput[] = [];
    rsd
      .on(GetStatementResultCommand)
      .callsFake(keepingInputs(sent, ({ NextToken }) => pages[NextToken ?? 'first']));
    const rows = await warehouse().query('SELECT ...', 'ledger.runs');
    expect(rows).toEqual([
      { run_id: 'r1', row_count: '9007199254740991', h0: '-12345678901234567890', error: null, ok: 'true' },
      { run_id: 'r2', row_count: '0', h0: '1.5', error: "it's", ok: 'false' },
    ]);
    expect(sent).toEqual([
      { Id: ID, NextToken: undefined },
      { Id: ID, NextToken: 'page-2' },
    ]);
  });

  test.each([
    [2 ** 53, '9007199254740992'],
    [-(2 ** 63), '-9223372036854776000'],
  ])(
    'fails to read %d as a whole number: past 2^53 the Data API has rounded it already',
    async (value, shown) => {
      rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED', HasResultSet: true });
      rsd
        .on(GetStatementResultCommand)
        .resolves({ ColumnMetadata: [{ label: 'checksum' }], Records: [[{ longValue: value }]] });
      const error = await failure(warehouse().query('SELECT ...', 'r.verify.tax.2024.a1'));
      expect(error).toBeInstanceOf(RunFailedError);
      expect(error.message).toBe(
        `statement r.verify.tax.2024.a1: column checksum is ${shown}, a whole number past 2^53 that the Data API rounds; ` +
          'the query must cast it to VARCHAR',
      );
    },
  );

  test("lists this stack's statements that are still running, on every page", async () => {
    // given one statement STARTED, on the first of two pages of STARTED ones
    const sent: ListStatementsCommandInput[] = [];
    rsd.on(ListStatementsCommand).callsFake(
      keepingInputs(sent, ({ Status, NextToken }) =>
        Status === 'STARTED' && NextToken === undefined
          ? {
              Statements: [
                { Id: ID, StatementName: `${PREFIX}r.export.tax`, Status: 'STARTED', CreatedAt: new Date(1) },
              ],
              NextToken: 'more',
            }
          : { Statements: [] },
      ),
    );
    expect(await warehouse().inFlight()).toEqual([
      { id: ID, name: `${PREFIX}r.export.tax`, status: 'STARTED', createdAt: new Date(1) },
    ]);
    expect(sent).toEqual([
      { StatementName: PREFIX, Status: 'SUBMITTED', RoleLevel: true, MaxResults: 100, NextToken: undefined },
      { StatementName: PREFIX, Status: 'PICKED', RoleLevel: true, MaxResults: 100, NextToken: undefined },
      { StatementName: PREFIX, Status: 'STARTED', RoleLevel: true, MaxResults: 100, NextToken: undefined },
      { StatementName: PREFIX, Status: 'STARTED', RoleLevel: true, MaxResults: 100, NextToken: 'more' },
    ]);
  });

  test('lists the statements of a run whatever their status (the Data API lists only FINISHED ones by default)', async () => {
    rsd.on(ListStatementsCommand).resolves({
      Statements: [{ Id: ID, StatementName: `${PREFIX}r.commit`, Status: 'FAILED', CreatedAt: new Date(5) }],
    });
    expect(await warehouse().statements('20260101T000000Z.')).toEqual([
      { id: ID, name: `${PREFIX}r.commit`, status: 'FAILED', createdAt: new Date(5) },
    ]);
    expect(rsd.commandCalls(ListStatementsCommand)[0].args[0].input).toEqual({
      StatementName: `${PREFIX}20260101T000000Z.`,
      Status: 'ALL',
      RoleLevel: true,
      MaxResults: 100,
      NextToken: undefined,
    });
  });

  test('describes a statement, with the error of the sub-statement that failed and the SQL it ran; one the Data API does not know is none', async () => {
    rsd.on(DescribeStatementCommand, { Id: ID }).resolves({
      Status: 'FAILED',
      CreatedAt: new Date(7),
      SubStatements: [
        { Id: `${ID}:1`, Status: 'FAILED', Error: 'ERROR: 1023', QueryString: 'UPDATE v' },
        { Id: `${ID}:2`, Status: 'ABORTED', QueryString: 'DELETE FROM t' },
      ],
    });
    rsd
      .on(DescribeStatementCommand, { Id: statementId(2) })
      .rejects(Object.assign(new Error('Query does not exist'), { name: 'ResourceNotFoundException' }));
    expect(await warehouse().describe(ID)).toEqual({
      id: ID,
      createdAt: new Date(7),
      error: 'ERROR: 1023 (statement 1 of 2, the transaction was rolled back)',
      sql: ['UPDATE v', 'DELETE FROM t'],
    });
    expect(await warehouse().describe(statementId(2))).toBeUndefined();
  });

  test('describes a single statement with its SQL, and tells no SQL when the Data API omits any of it', async () => {
    rsd.on(DescribeStatementCommand, { Id: ID }).resolves({
      Status: 'FINISHED',
      CreatedAt: new Date(7),
      QueryString: 'SELECT 1',
    });
    rsd.on(DescribeStatementCommand, { Id: statementId(2) }).resolves({
      Status: 'FAILED',
      CreatedAt: new Date(8),
      SubStatements: [{ Id: `${statementId(2)}:1`, QueryString: 'UPDATE v' }, { Id: `${statementId(2)}:2` }],
    });
    expect((await warehouse().describe(ID))?.sql).toEqual(['SELECT 1']);
    expect((await warehouse().describe(statementId(2)))?.sql).toEqual([]);
  });

  test("tells this stack's statement names from any other", () => {
    expect(warehouse().stepOf(`${PREFIX}20260101T000000Z.commit`)).toBe('20260101T000000Z.commit');
    expect(warehouse().stepOf('redshift-archive.RedshiftArchive-b.20260101T000000Z.commit')).toBeUndefined();
  });
});
