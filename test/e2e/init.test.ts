import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/config';
import { DuckDbWarehouse } from '../../src/engines/local/duckdb-warehouse';
import { fingerprint } from '../../src/engines/local/sample';
import { discover } from '../../src/protocol/discover';
import { duckdbDialect } from '../../src/sql/duckdb-dialect';
import { cli } from '../support/cli';
import { parentArguments, WAREHOUSE_40, warehouse40Sql } from '../support/warehouse40';

// One warehouse of 40 tables for every case; the full cycle runs on a copy of it.
let dir: string;
let warehouse: string;

async function createWarehouse(path: string, sql: string): Promise<void> {
  const opened = await DuckDbWarehouse.open(path);
  await opened.warehouse.execute(sql);
  opened.warehouse.close();
  opened.instance.closeSync();
}

async function withWarehouse<T>(path: string, use: (w: DuckDbWarehouse) => Promise<T>): Promise<T> {
  const opened = await DuckDbWarehouse.open(path);
  try {
    return await use(opened.warehouse);
  } finally {
    opened.warehouse.close();
    opened.instance.closeSync();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'init-'));
  warehouse = join(dir, 'warehouse.duckdb');
  await createWarehouse(warehouse, warehouse40Sql());
});

const SCHEMAS = ['--schema', 'sales', '--schema', 'billing', '--schema', 'ops'];
const initOf = (config: string, at = warehouse, extra: string[] = []) => [
  'init',
  '--config',
  config,
  '--local',
  at,
  ...SCHEMAS,
  ...parentArguments(),
  ...extra,
];

const LEFT_OUT = {
  customers: {
    table: 'sales.customers',
    why:
      'no date, timestamp or timestamptz column to archive it by, and no declared foreign key to a table being archived; ' +
      '--archive-by sales.customers=<column> or --parent sales.customers=<parent>:<columns> says how',
  },
  events: {
    table: 'sales.events',
    why: 'it has 2 date or timestamp columns (happened, logged): --archive-by sales.events=<one of them> says which',
  },
  geoPoints: {
    table: 'ops.geo_points',
    why:
      'column "span" is INTERVAL, a type this project cannot archive: the table and its descendants stay hot ' +
      '(leave them out of the configuration)',
  },
  geoTags: {
    table: 'ops.geo_tags',
    why:
      'its parent ops.geo_points is left out (column "span" is INTERVAL, a type this project cannot archive): the ' +
      'table and its descendants stay hot (leave them out of the configuration)',
  },
};

describe('init on a warehouse of 40 tables', () => {
  test('writes a configuration whose union views return every original row after run, and whose restore puts them back', async () => {
    // given a copy of the warehouse, and the rows of each table
    const at = join(dir, 'cycle.duckdb');
    copyFileSync(warehouse, at);
    const config = join(dir, 'cycle.json');
    const lake = join(dir, 'lake');
    const local = ['--config', config, '--local', at, '--lake', lake];
    const taken = WAREHOUSE_40.filter((t) => !['customers', 'geo_points', 'geo_tags'].includes(t.name));
    const before = await withWarehouse(at, (w) =>
      Promise.all(taken.map((t) => fingerprint(w, `${t.schema}.${t.name}`))),
    );

    // when init writes the configuration (the ambiguous table decided by --archive-by)
    const init = await cli(['--json', ...initOf(config, at, ['--archive-by', 'sales.events=happened'])]);

    // then it takes 37 tables, names billing.payments billing_payments, and leaves out 3 with why
    expect(init).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(init.stdout) as {
      tables: { table: string; alias: string; archivedBy: string }[];
      leftOut: unknown[];
    };
    expect(report.tables).toHaveLength(37);
    expect(report.leftOut).toEqual([LEFT_OUT.customers, LEFT_OUT.geoPoints, LEFT_OUT.geoTags]);
    expect(report.tables.find((t) => t.table === 'billing.payments')).toEqual({
      table: 'billing.payments',
      alias: 'billing_payments',
      columns: 11,
      archivedBy: 'parent billing.invoices by (invoice_ref) = (id) (--parent)',
    });
    expect(report.tables.find((t) => t.table === 'sales.line_discounts')?.archivedBy).toBe(
      'parent sales.order_lines by (order_id, line_no) = (order_id, line_no) (--parent)',
    );
    expect(report.tables.find((t) => t.table === 'sales.events')?.archivedBy).toBe(
      'column happened (--archive-by)',
    );
    const file = parseConfig(JSON.parse(readFileSync(config, 'utf8')));
    expect(file.tables.map((t) => t.columns.length).sort((a, b) => a - b)).toEqual(
      taken.map((t) => t.width).sort((a, b) => a - b),
    );

    // when the configuration plans, runs and is audited deep
    const plan = await cli(['plan', ...local], '2026-01-05T00:00:00Z');
    expect(plan.code).toBe(0);
    const run = await cli(['run', ...local], '2026-01-05T00:00:00Z');
    expect(run.code).toBe(0);
    expect((await cli(['audit', '--deep', ...local])).code).toBe(0);

    // then every union view returns the original rows exactly, and the hot tables kept only this year's
    await withWarehouse(at, async (w) => {
      for (const [i, t] of taken.entries()) {
        const alias = report.tables.find((r) => r.table === `${t.schema}.${t.name}`)?.alias as string;
        expect([alias, await fingerprint(w, `archive.${alias}`)]).toEqual([alias, before[i]]);
      }
      const [hot] = await w.query("SELECT COUNT(*) AS n FROM sales.orders WHERE created < DATE '2026-01-01'");
      expect(hot.n).toBe('0');
    });

    // when the archived year is restored, then every table holds its original rows again
    expect((await cli(['restore', '--year', '2025', ...local])).code).toBe(0);
    const after = await withWarehouse(at, (w) =>
      Promise.all(taken.map((t) => fingerprint(w, `${t.schema}.${t.name}`))),
    );
    expect(after).toEqual(before);
  }, 120_000);

  test('lists the table with two dates, not guessing, and every table it leaves out with why', async () => {
    const result = await cli([...initOf('-'), '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).leftOut).toEqual([
      LEFT_OUT.customers,
      LEFT_OUT.events,
      LEFT_OUT.geoPoints,
      LEFT_OUT.geoTags,
    ]);
  });

  test('prints the configuration with --config -, and the report on standard error', async () => {
    const result = await cli([
      'init',
      '--config',
      '-',
      '--local',
      warehouse,
      '--tables',
      'ops.fam2,ops.snapshots',
    ]);
    expect(result.code).toBe(0);
    const config = parseConfig(JSON.parse(result.stdout));
    expect(config.tables.map((t) => [t.schema, t.name, t.archiveBy])).toEqual([
      ['ops', 'fam2', { column: 'booked' }],
      ['ops', 'snapshots', { column: 'day' }],
    ]);
    expect(result.stderr).toMatch(/^wrote to standard output: 2 tables, 45 columns\n/);
  });

  test('fails to overwrite a file without --force, and overwrites it with --force', async () => {
    const config = join(dir, 'exists.json');
    writeFileSync(config, 'mine');
    const refused = await cli(['init', '--config', config, '--local', warehouse, '--tables', 'ops.fam2']);
    expect(refused).toMatchObject({
      code: 2,
      stderr: `redshift-archive: --config: ${JSON.stringify(config)} exists; allowed: a file that does not exist yet, --force to overwrite it, or - for standard output`,
    });
    expect(readFileSync(config, 'utf8')).toBe('mine');
    const forced = await cli([
      'init',
      '--config',
      config,
      '--local',
      warehouse,
      '--tables',
      'ops.fam2',
      '--force',
    ]);
    expect(forced.code).toBe(0);
    expect(parseConfig(JSON.parse(readFileSync(config, 'utf8'))).tables).toHaveLength(1);
  });

  test.each([
    [
      ['--tables', 'sales.nope'],
      '--tables: "sales.nope" is not allowed; allowed: a base table this user can see (found: none)',
    ],
    [
      ['--tables', 'sales.orders', '--archive-by', 'sales.orders=id'],
      '--archive-by: "sales.orders=id" is not allowed; allowed: a date, timestamp or timestamptz column of sales.orders (created)',
    ],
    [
      ['--tables', 'sales.orders,sales.payments', '--parent', 'sales.payments=orders:order_ref'],
      '--parent: "sales.payments=orders:order_ref" is not allowed (no column sales.payments.order_ref, sales.orders.order_ref); allowed: columns of the child, and as many of the parent after ->',
    ],
    [
      ['--schema', 'nowhere'],
      '--schema: "nowhere" is not allowed; allowed: a schema holding base tables this user can see',
    ],
  ])('fails %j naming the argument, and writes nothing', async (args, error) => {
    const config = join(dir, 'never.json');
    const result = await cli(['init', '--config', config, '--local', warehouse, ...args]);
    expect(result).toMatchObject({ code: 2, stderr: `redshift-archive: ${error}` });
    expect(existsSync(config)).toBe(false);
  });

  test.each([
    [
      ['--parent', 'sales.x'],
      '--parent: "sales.x" is not allowed; allowed: <schema.child>=<parent or schema.parent>:<columns>[-><parent columns>], columns separated by commas',
    ],
    [
      ['--parent', 'sales.l=lines:a,b->c'],
      '--parent: "sales.l=lines:a,b->c" is not allowed; allowed: as many parent columns after -> as columns before it (2)',
    ],
    [['--tables', 'orders'], '--tables: "orders" is not allowed; allowed: a table as schema.table'],
    [
      ['--archive-by', 'sales.orders'],
      '--archive-by: "sales.orders" is not allowed; allowed: <schema.table>=<column>',
    ],
    [['--cluster', 'c1'], '--database: is missing; allowed: the database of the tables'],
    [
      ['--cluster', 'c1', '--database', 'dev'],
      '--db-user: is missing; allowed with --cluster: exactly one of --db-user or --secret-arn',
    ],
    [
      ['--workgroup', 'wg1', '--database', 'dev', '--db-user', 'me'],
      '--db-user: not allowed with --workgroup; allowed with: --cluster (a workgroup is reached as your IAM identity)',
    ],
    [['--cutoff', '2025-01-01'], '--cutoff: not allowed with init; allowed with: plan, run'],
  ])('fails %j before reading anything (exit 2)', async (args, error) => {
    const result = await cli(['init', '--config', '-', '--local', warehouse, '--schema', 'sales', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(`redshift-archive: ${error}`);
  });
});

describe('init on what the catalog declares', () => {
  test('takes children and grandchildren from declared foreign keys, composite ones too, and lists a child of two parents', async () => {
    // given declared keys (DuckDB keeps them; init only reads them)
    const opened = await DuckDbWarehouse.open(':memory:');
    await opened.warehouse.execute(`
      CREATE SCHEMA s;
      CREATE TABLE s.orders (id INTEGER PRIMARY KEY, created DATE);
      CREATE TABLE s.lines (order_id INTEGER REFERENCES s.orders (id), line_no INTEGER, PRIMARY KEY (order_id, line_no));
      CREATE TABLE s.discounts (o INTEGER, l INTEGER, pct DECIMAL(5,2), FOREIGN KEY (o, l) REFERENCES s.lines (order_id, line_no));
      CREATE TABLE s.shops (id INTEGER PRIMARY KEY, opened DATE);
      CREATE TABLE s.visits (order_id INTEGER REFERENCES s.orders (id), shop_id INTEGER REFERENCES s.shops (id));`);
    // when init reads the catalog
    const report = await discover(opened.warehouse, duckdbDialect, {
      scope: { schemas: ['s'], tables: [] },
      archiveBy: [],
      parents: [],
      warehouse: { type: 'serverless', workgroupName: 'wg1', database: 'dev' },
      database: 'dev',
    });
    opened.warehouse.close();
    opened.instance.closeSync();
    // then
    expect(report.tables.map((t) => [t.table, t.archivedBy])).toEqual([
      ['s.orders', 'column created (its only date or timestamp column)'],
      [
        's.lines',
        expect.stringMatching(/^parent s\.orders by \(order_id\) = \(id\) \(declared foreign key .+\)$/),
      ],
      [
        's.discounts',
        expect.stringMatching(/^parent s\.lines by \(o, l\) = \(order_id, line_no\) \(declared/),
      ],
      ['s.shops', 'column opened (its only date or timestamp column)'],
    ]);
    expect(report.leftOut).toEqual([
      {
        table: 's.visits',
        why:
          'it declares foreign keys to 2 tables being archived; choose one: --parent s.visits=s.orders:order_id->id or ' +
          '--parent s.visits=s.shops:shop_id->id',
      },
    ]);
  });
});

describe('init --update', () => {
  test('adds the columns appended since, keeps the settings, and reports every other difference', async () => {
    // given a configuration written by init and then edited, and tables changed since
    const at = join(dir, 'update.duckdb');
    await createWarehouse(
      at,
      'CREATE SCHEMA s; CREATE TABLE s.a (id INTEGER, day DATE); CREATE TABLE s.b (id INTEGER, at_ TIMESTAMP, n INTEGER);',
    );
    const config = join(dir, 'update.json');
    expect((await cli(['init', '--config', config, '--local', at, '--schema', 's'])).code).toBe(0);
    const edited = JSON.parse(readFileSync(config, 'utf8'));
    edited.lake.prefix = 'mine';
    writeFileSync(config, JSON.stringify(edited));
    await withWarehouse(at, (w) =>
      w.execute(
        'ALTER TABLE s.a ADD COLUMN note VARCHAR; ALTER TABLE s.a ADD COLUMN amount DECIMAL(10,2); ALTER TABLE s.b DROP COLUMN n',
      ),
    );

    // when
    const result = await cli(['init', '--update', config, '--local', at, '--json']);

    // then the appended columns are in, the settings kept, the dropped column reported (exit 1)
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      written: config,
      added: [{ table: 's.a', columns: ['note', 'amount'] }],
      differences: ['tables["s.b"].columns["n"]: is in the configuration but not in table s.b'],
    });
    const updated = JSON.parse(readFileSync(config, 'utf8'));
    expect(updated.lake.prefix).toBe('mine');
    expect(updated.tables[0].columns.slice(2)).toEqual([
      { name: 'note', type: 'varchar(65535)' },
      { name: 'amount', type: 'decimal(10,2)' },
    ]);
  });
});
