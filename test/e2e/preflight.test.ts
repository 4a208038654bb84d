import { readFileSync, writeFileSync } from 'node:fs';
import { parseConfig } from '../../src/config/config';
import { preflight } from '../../src/protocol/preflight';
import type { Row, Warehouse } from '../../src/protocol/ports';
import { redshiftDialect } from '../../src/sql/redshift-dialect';
import { ArchiveSql } from '../../src/sql/statements';
import contabyx from '../../config/contabyx.json';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';
import { ledgerShapeRows } from '../../devkit/scripted-aws';
import { recordRedshiftSql } from '../../devkit/sql-recorder';

const ROLE = 'arn:aws:iam::123456789012:role/archive-redshift';
const RESTORE_READ = 'restore reads the archive in a transaction';

describe('preflight on the embedded engine', () => {
  let world: World;
  beforeEach(async () => {
    world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
  });
  afterEach(() => world.close());

  const run = async () => {
    const engine = await world.session();
    return preflight(engine, world.sql);
  };

  test('passes on the sample, reading only', async () => {
    const views = await world.viewRows();
    const files = world.lakeFiles();
    const report = await run();
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.check)).toEqual([
      'columns',
      'ledger',
      'time zone UTC',
      'row hash contabyx.transactions',
      'row hash contabyx.transfers',
      'row hash contabyx.tax',
      'catalog transactions',
      'external table transactions',
      'catalog transfers',
      'external table transfers',
      'catalog tax',
      'external table tax',
      RESTORE_READ,
      'union view columns',
    ]);
    expect(report.checks.find((c) => c.check === RESTORE_READ)).toEqual({
      check: RESTORE_READ,
      ok: true,
      detail: 'the warehouse reads the external table transactions inside a transaction, as restore does',
    });
    expect(await world.viewRows()).toEqual(views);
    expect(world.lakeFiles()).toEqual(files);
  });

  test('fails, naming the fix, when a column was added to a table', async () => {
    await world.admin.execute('ALTER TABLE contabyx.tax ADD COLUMN note VARCHAR');
    const report = await run();
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => !c.ok)).toEqual([
      {
        check: 'columns',
        ok: false,
        detail:
          'tables["contabyx.tax"].columns: "note" (VARCHAR) is in table contabyx.tax but not in the configuration; allowed: every column of ' +
          'the table, in its order (a column left out would be deleted without being archived)',
        fix: 'make the configuration list every column of each table, in its order, with its type (or change the table)',
      },
      {
        // the commit's column guard, in the checksum's derived table
        check: 'row hash contabyx.tax',
        ok: false,
        detail: expect.stringMatching(
          /Binder Error: Set operations can only apply to expressions with the same number of result columns/,
        ),
        fix:
          'make the configuration match the table (see the columns check); if it does, leave out of the ' +
          'configuration a table with a column type the engine cannot hash (and say so in an issue)',
      },
    ]);
  });

  test('fails, naming the fix, when the catalog lacks a table and the warehouse its external table', async () => {
    await world.admin.execute('DROP VIEW ext_contabyx.tax');
    const file = `${world.lakeRoot}/_catalog/contabyx.json`;
    const catalog = JSON.parse(readFileSync(file, 'utf8'));
    delete catalog.tables.tax;
    writeFileSync(file, JSON.stringify(catalog));
    const failed = (await run()).checks.filter((c) => !c.ok);
    expect(failed.map((c) => [c.check, c.detail, c.fix])).toEqual([
      [
        'catalog tax',
        'the catalog has no table tax',
        'run `redshift-archive repair` (it defines the catalog tables and registers every committed batch from the ledger)',
      ],
      [
        'external table tax',
        expect.stringMatching(/Catalog Error: Table with name tax does not exist!/),
        'deploy the stack (it creates the external schema over the catalog), and let the role that Redshift assumes read the catalog',
      ],
    ]);
  });

  test("skips restore's read, saying why, while no external table can be read (nothing set up yet)", async () => {
    await world.admin.execute('DROP SCHEMA ext_contabyx CASCADE');
    const report = await run();
    expect(report.checks.find((c) => c.check === RESTORE_READ)).toEqual({
      check: RESTORE_READ,
      ok: true,
      skipped: true,
      detail:
        'skipped: no table whose hot and external tables can both be read yet (see the checks above); it runs once one can',
    });
    // what fails is what names the cause
    expect(report.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual([
      'external table transactions',
      'external table transfers',
      'external table tax',
    ]);
  });
});

describe("preflight of the database identity's privileges (Redshift)", () => {
  const config = parseConfig({ ...contabyx, tables: [contabyx.tables[0]] });
  const sql = new ArchiveSql(config, redshiftDialect({ iamRoleArn: ROLE }));
  const catalog = {
    where: 'the Glue database contabyx',
    ensureTable: async () => undefined,
    tableColumns: async () => [
      { name: 'transactionid', type: 'int' },
      { name: 'clientid', type: 'int' },
      { name: 'typeid', type: 'int' },
      { name: 'time', type: 'timestamp' },
      { name: 'amount', type: 'double' },
    ],
    addPartition: async () => undefined,
    removePartitions: async () => undefined,
  };
  const COLUMNS: Row[] = [
    ['transactionid', 'integer'],
    ['clientid', 'integer'],
    ['typeid', 'integer'],
    ['time', 'timestamp without time zone'],
    ['amount', 'double precision'],
  ].map(([column_name, data_type]) => ({
    table_schema: 'contabyx',
    table_name: 'transactions',
    column_name,
    data_type,
    char_length: null,
    num_precision: null,
    num_scale: null,
  }));

  /**
   * A warehouse that answers every probe as allowed, except the one whose SQL `refuses` matches; it
   * keeps the transactions it is sent, and fails each with `refusal` when given.
   */
  const warehouse = (
    refuses?: RegExp,
    refusal?: string,
  ): Warehouse & { sent: string[]; transactions: { step: string; sqls: readonly string[] }[] } => {
    const sent: string[] = [];
    const transactions: { step: string; sqls: readonly string[] }[] = [];
    return {
      sent,
      transactions,
      dialect: sql.dialect,
      execute: async () => {
        throw new Error('preflight writes nothing');
      },
      transaction: async (sqls, step) => {
        transactions.push({ step, sqls });
        recordRedshiftSql(sqls);
        if (refusal) throw new Error(refusal);
      },
      query: async (text) => {
        sent.push(text);
        recordRedshiftSql([text]);
        if (text.includes('FROM svv_columns'))
          return text.includes("'archive_meta'") ? ledgerShapeRows(config) : COLUMNS;
        if (text === 'SELECT current_user AS "identity"') return [{ identity: 'IAMR:archive-unload' }];
        if (text.includes('AS at_new_year')) {
          const year = new Date().getUTCFullYear();
          return [{ at_new_year: String(year), before_new_year: String(year - 1) }];
        }
        const pass = text.includes('enable_case_sensitive_identifier')
          ? 'off'
          : text.includes('viewowner <>')
            ? '0'
            : text.includes('FROM pg_tables')
              ? '1'
              : 'true';
        const fail = text.includes('enable_case_sensitive_identifier')
          ? 'on'
          : pass === 'true'
            ? 'false'
            : pass === '0'
              ? '1'
              : '0';
        return [{ value: refuses?.test(text) ? fail : pass }];
      },
    };
  };

  test('passes when the identity may do all a run needs', async () => {
    const report = await preflight({ config, warehouse: warehouse(), catalog }, sql);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });

  test.each([
    [
      /'select'\)$/,
      'select contabyx.transactions',
      'GRANT SELECT ON "contabyx"."transactions" TO "IAMR:archive-unload"',
    ],
    [
      /'delete'\)$/,
      'delete contabyx.transactions',
      'GRANT DELETE ON "contabyx"."transactions" TO "IAMR:archive-unload"',
    ],
    [
      /FROM pg_tables/,
      'vacuum contabyx.transactions',
      'ALTER TABLE "contabyx"."transactions" OWNER TO "IAMR:archive-unload", or set maintenance.vacuum to false',
    ],
    [
      /'archive_meta', 'create'/,
      'create in archive_meta',
      'GRANT CREATE ON SCHEMA "archive_meta" TO "IAMR:archive-unload"',
    ],
    [
      /viewowner/,
      'replace contabyx.spectrum_transactions',
      'ALTER TABLE "contabyx"."spectrum_transactions" OWNER TO "IAMR:archive-unload"',
    ],
    [/'temp'/, 'temp', 'GRANT TEMP ON DATABASE "dev" TO "IAMR:archive-unload"'],
    [
      /has_assumerole_privilege/,
      'assume role',
      `GRANT ASSUMEROLE ON '${ROLE}' TO "IAMR:archive-unload" FOR UNLOAD`,
    ],
    [
      /enable_case_sensitive_identifier/,
      'case-insensitive names',
      'ALTER USER "IAMR:archive-unload" SET enable_case_sensitive_identifier TO off (and leave it off in the parameter group)',
    ],
  ])('fails when the identity lacks what %s probes, and names the fix', async (refuses, check, fix) => {
    const w = warehouse(refuses);
    const report = await preflight({ config, warehouse: w, catalog }, sql);
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => !c.ok).map((c) => [c.check, c.fix])).toEqual([[check, fix]]);
  });

  test('reads a hot table and then its external table in ONE transaction, as restore does, with reads only', async () => {
    const w = warehouse();
    const report = await preflight({ config, warehouse: w, catalog }, sql);
    expect(w.transactions).toEqual([
      {
        step: 'preflight.restore',
        sqls: [
          'SELECT COUNT(*) AS row_count FROM "contabyx"."transactions" WHERE 1 = 0',
          `SELECT COUNT(*) AS row_count FROM "ext_contabyx"."transactions" WHERE "archive_run" = '00000000T000000Z'`,
        ],
      },
    ]);
    expect(report.checks.find((c) => c.check === RESTORE_READ)?.ok).toBe(true);
  });

  test('fails naming restore when the warehouse refuses to read an external table inside a transaction', async () => {
    // what users report for a read inside BEGIN READ ONLY (awslabs/mcp#3342)
    const refusal =
      'statement preflight.restore FAILED: ERROR: Failed to incorporate external table "ext_contabyx"."transactions" ' +
      'into local catalog. Error=transaction is read-only';
    const report = await preflight({ config, warehouse: warehouse(undefined, refusal), catalog }, sql);
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => !c.ok)).toEqual([
      {
        check: RESTORE_READ,
        ok: false,
        detail: `restore would fail: ${refusal}`,
        fix:
          "restore needs this (runs and the union views do not): if the error says the transaction is read-only, let the database user's " +
          'sessions write (Redshift writes its local catalog when a transaction first reads an external table); otherwise report it ' +
          'in an issue with this message',
      },
    ]);
  });

  test("asks the identity with a quoted alias (IDENTITY is reserved), and a schema's privileges by the catalog's lower-case name", async () => {
    // given mixed-case ledger and views schemas, which Redshift folds to lower case
    const mixed = parseConfig({
      ...contabyx,
      tables: [contabyx.tables[0]],
      ledger: { schema: 'Meta' },
      views: { ...contabyx.views, schema: 'Reporting' },
    });
    const w = warehouse();
    await preflight({ config: mixed, warehouse: w, catalog }, new ArchiveSql(mixed, sql.dialect));
    expect(w.sent).toContain('SELECT current_user AS "identity"');
    expect(w.sent.filter((s) => s.startsWith('SELECT has_schema_privilege'))).toEqual([
      "SELECT has_schema_privilege('meta', 'create')",
      "SELECT has_schema_privilege('reporting', 'create')",
    ]);
  });

  test("sends the plan's own time-zone expression once, at this year's new year in the zone and a second before", async () => {
    const berlin = parseConfig({
      ...contabyx,
      tables: [contabyx.tables[0]],
      retention: { timeZone: 'Europe/Berlin' },
    });
    const w = warehouse();
    const report = await preflight(
      { config: berlin, warehouse: w, catalog },
      new ArchiveSql(berlin, sql.dialect),
    );
    const year = new Date().getUTCFullYear();
    const at = `CAST('${year - 1}-12-31 23:00:00+00' AS TIMESTAMPTZ)`;
    expect(w.sent.filter((s) => s.includes('at_new_year'))).toEqual([
      `SELECT CAST(EXTRACT(YEAR FROM (${at} AT TIME ZONE 'Europe/Berlin')) AS INTEGER) AS at_new_year, ` +
        `CAST(EXTRACT(YEAR FROM ((${at} - INTERVAL '1 second') AT TIME ZONE 'Europe/Berlin')) AS INTEGER) AS before_new_year`,
    ]);
    expect(report.checks.find((c) => c.check === 'time zone Europe/Berlin')).toEqual({
      check: 'time zone Europe/Berlin',
      ok: true,
      detail: `the warehouse puts new year ${year} in Europe/Berlin at ${year - 1}-12-31 23:00:00 UTC, as the run's bounds do`,
    });
  });

  test('fails naming the zone when the warehouse does not know it', async () => {
    const w = warehouse();
    const query = w.query;
    w.query = async (text, step) => {
      if (text.includes('at_new_year')) throw new Error('ERROR: time zone "UTC" not recognized');
      return query(text, step);
    };
    const report = await preflight({ config, warehouse: w, catalog }, sql);
    expect(report.checks.filter((c) => !c.ok)).toEqual([
      {
        check: 'time zone UTC',
        ok: false,
        detail: 'ERROR: time zone "UTC" not recognized',
        fix: 'choose a zone the warehouse lists (select pg_timezone_names()), or report the difference in an issue',
      },
    ]);
  });

  test("reports how the catalog spells the union views' column types, and fails on a spelling it cannot read", async () => {
    const w = warehouse();
    const query = w.query;
    const spelled = (data_type: string) => [
      { ...COLUMNS[0], table_name: 'spectrum_transactions', data_type, char_length: null },
    ];
    w.query = async (text, step) => (step === 'preflight.views' ? spelled(current) : query(text, step));
    let current = 'character varying(64)';
    const read = await preflight({ config, warehouse: w, catalog }, sql);
    expect(read.checks.find((c) => c.check === 'union view columns')).toEqual({
      check: 'union view columns',
      ok: true,
      detail: "the catalog spells the views' column types as: character varying(64)",
    });
    current = 'varchar2(64)';
    const unread = await preflight({ config, warehouse: w, catalog }, sql);
    expect(unread.checks.find((c) => c.check === 'union view columns')).toEqual({
      check: 'union view columns',
      ok: false,
      detail: 'the catalog spells spectrum_transactions.transactionid as varchar2(64), which is not read',
      fix: 'report this spelling in an issue: until it is read, every deployment re-creates these views and grants them again',
    });
  });

  test('sends the exact probes, leader-node functions one statement each', async () => {
    const w = warehouse();
    await preflight({ config, warehouse: w, catalog }, sql);
    expect(w.sent.filter((s) => s.startsWith('SELECT has_') || s.includes('current_setting'))).toEqual([
      `SELECT has_table_privilege('"contabyx"."transactions"', 'select')`,
      `SELECT has_table_privilege('"contabyx"."transactions"', 'delete')`,
      "SELECT has_schema_privilege('archive_meta', 'create')",
      "SELECT has_schema_privilege('contabyx', 'create')",
      "SELECT has_database_privilege(current_database(), 'temp')",
      `SELECT has_assumerole_privilege('${ROLE}', 'unload')`,
      "SELECT current_setting('enable_case_sensitive_identifier')",
    ]);
  });
});
