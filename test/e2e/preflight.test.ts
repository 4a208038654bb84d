import { readFileSync, writeFileSync } from 'node:fs';
import { parseConfig } from '../../src/config/config';
import { preflight } from '../../src/protocol/preflight';
import type { Row, Warehouse } from '../../src/protocol/ports';
import { redshiftDialect } from '../../src/sql/redshift-dialect';
import { ArchiveSql } from '../../src/sql/statements';
import contabyx from '../../config/contabyx.json';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

const ROLE = 'arn:aws:iam::123456789012:role/archive-redshift';

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
      'row hash contabyx.transactions',
      'column guard contabyx.transactions',
      'row hash contabyx.transfers',
      'column guard contabyx.transfers',
      'row hash contabyx.tax',
      'column guard contabyx.tax',
      'catalog transactions',
      'external table transactions',
      'catalog transfers',
      'external table transfers',
      'catalog tax',
      'external table tax',
    ]);
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
          'tables[2].columns: "note" (VARCHAR) is in table contabyx.tax but not in the configuration; allowed: every column of ' +
          'the table, in its order (a column left out would be deleted without being archived)',
        fix: 'make the configuration list every column of each table, in its order, with its type (or change the table)',
      },
      {
        check: 'column guard contabyx.tax',
        ok: false,
        detail: expect.stringMatching(
          /Binder Error: Set operations can only apply to expressions with the same number of result columns/,
        ),
        fix: 'make the configuration match the table (see the columns check)',
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
        'deploy the stack with this configuration (it defines the catalog tables)',
      ],
      [
        'external table tax',
        expect.stringMatching(/Catalog Error: Table with name tax does not exist!/),
        'deploy the stack (it creates the external schema over the catalog), and let the role that Redshift assumes read the catalog',
      ],
    ]);
  });
});

describe("preflight of the database identity's privileges (Redshift)", () => {
  const config = parseConfig({ ...contabyx, tables: [contabyx.tables[0]] });
  const sql = new ArchiveSql(config, redshiftDialect({ iamRoleArn: ROLE }));
  const catalog = {
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

  /** A warehouse that answers every probe as allowed, except the one whose SQL `refuses` matches. */
  const warehouse = (refuses?: RegExp): Warehouse & { sent: string[] } => {
    const sent: string[] = [];
    return {
      sent,
      dialect: sql.dialect,
      execute: async () => {
        throw new Error('preflight writes nothing');
      },
      transaction: async () => {
        throw new Error('preflight writes nothing');
      },
      query: async (text) => {
        sent.push(text);
        if (text.includes('FROM svv_columns')) return COLUMNS;
        if (text === 'SELECT current_user AS identity') return [{ identity: 'IAMR:archive-unload' }];
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
