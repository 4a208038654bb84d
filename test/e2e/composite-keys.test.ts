import { parseConfig, tableNamed } from '../../src/config/config';
import { parseCalendarDate } from '../../src/core/cutoff';
import { duckdbDialect } from '../../src/sql/duckdb-dialect';
import { redshiftDialect } from '../../src/sql/redshift-dialect';
import { ArchiveSql } from '../../src/sql/statements';
import { recordRedshiftSql } from '../../devkit/sql-recorder';
import { World } from '../../devkit/world';
import { Invariants } from '../support/invariants';

// A family keyed by composite keys all the way down: orders (region, order_no), their lines by
// (region, order_no), the lines' discounts by (region, order_no, line_no) under other names, and
// notes by one column of a line's key (a key of one column below composite ones).
const CONFIG = parseConfig({
  warehouse: { type: 'serverless', workgroupName: 'wg1', database: 'dev' },
  lake: { prefix: 'lake' },
  catalog: { database: 'shop', externalSchema: 'ext_shop' },
  views: { schema: 'reporting', prefix: 'v_' },
  tables: [
    {
      schema: 'sales',
      name: 'orders',
      archiveBy: { column: 'ordered' },
      columns: [
        { name: 'region', type: 'char(2)' },
        { name: 'order_no', type: 'integer' },
        { name: 'ordered', type: 'date' },
      ],
    },
    {
      schema: 'sales',
      name: 'order_lines',
      archiveBy: { parent: 'orders', foreignKey: ['region', 'order_no'], parentKey: ['region', 'order_no'] },
      columns: [
        { name: 'region', type: 'char(2)' },
        { name: 'order_no', type: 'integer' },
        { name: 'line_no', type: 'smallint' },
        { name: 'line_id', type: 'integer' },
      ],
    },
    {
      schema: 'sales',
      name: 'line_discounts',
      archiveBy: {
        parent: 'sales.order_lines',
        foreignKey: ['reg', 'ord', 'line'],
        parentKey: ['region', 'order_no', 'line_no'],
      },
      columns: [
        { name: 'reg', type: 'char(2)' },
        { name: 'ord', type: 'bigint' },
        { name: 'line', type: 'integer' },
        { name: 'pct', type: 'decimal(5,2)' },
      ],
    },
    {
      schema: 'sales',
      name: 'line_notes',
      archiveBy: { parent: 'order_lines', foreignKey: 'line_ref', parentKey: 'line_id' },
      columns: [
        { name: 'line_ref', type: 'integer' },
        { name: 'note', type: 'varchar(20)' },
      ],
    },
  ],
});

const SEED = `
CREATE SCHEMA sales;
CREATE TABLE sales.orders (region VARCHAR, order_no INTEGER, ordered DATE);
CREATE TABLE sales.order_lines (region VARCHAR, order_no INTEGER, line_no SMALLINT, line_id INTEGER);
CREATE TABLE sales.line_discounts (reg VARCHAR, ord BIGINT, line INTEGER, pct DECIMAL(5,2));
CREATE TABLE sales.line_notes (line_ref INTEGER, note VARCHAR);
INSERT INTO sales.orders VALUES
  ('eu', 1, DATE '2024-03-01'), ('us', 1, DATE '2025-03-01'),   -- the same order_no in two regions
  ('eu', 2, DATE '2024-05-01'), ('eu', 2, DATE '2025-05-01'),   -- a key twice, in two archived years
  ('eu', 3, DATE '2024-06-01'), ('eu', 3, DATE '2026-06-01'),   -- a key archived once and hot once
  ('eu', 4, DATE '2026-01-01'),                                 -- the cutoff itself stays
  (NULL, 5, DATE '2024-07-01');                                 -- a NULL key part: archived, no child follows
INSERT INTO sales.order_lines VALUES
  ('eu', 1, 1, 101), ('eu', 1, 2, 102), ('us', 1, 1, 103),
  ('eu', 2, 1, 201),                     -- goes once, with 2024, the earlier of its parents
  ('eu', 3, 1, 301),                     -- stays: a parent with its key stays hot
  ('eu', 4, 1, 401),                     -- stays: its parent stays
  (NULL, 5, 1, 501), ('eu', NULL, 1, 502), -- stay: NULL in a key column
  ('xx', 9, 1, 901);                     -- stays: no parent
INSERT INTO sales.line_discounts VALUES
  ('eu', 1, 2, 10.00), ('us', 1, 1, 5.50), ('eu', 2, 1, 1.25),
  ('eu', 3, 1, 2.00),                    -- stays with its line
  ('eu', 1, NULL, 3.00);                 -- stays: NULL in a key column
INSERT INTO sales.line_notes VALUES (101, 'a'), (201, 'b'), (301, 'stays'), (NULL, 'null key');
`;

const RUN = '20260101T000000Z';
const CUTOFF = parseCalendarDate('2026-01-01', 'test');

test('moves a family by composite keys: NULL in any key column stays hot, and duplicated parent keys never duplicate a child', async () => {
  const world = await World.create(CONFIG, SEED);
  try {
    const invariants = await Invariants.capture(world, CUTOFF);
    const report = await (await world.archiver()).run({ runId: RUN, cutoff: CUTOFF });
    expect(report.tables.map((t) => [t.table, t.rows, t.years.map((y) => [y.year, y.rows])])).toEqual([
      [
        'orders',
        6,
        [
          [2024, 4],
          [2025, 2],
        ],
      ],
      [
        'order_lines',
        4,
        [
          [2024, 3],
          [2025, 1],
        ],
      ],
      [
        'line_discounts',
        3,
        [
          [2024, 2],
          [2025, 1],
        ],
      ],
      [
        'line_notes',
        2,
        [
          [2024, 2],
          [2025, 0],
        ],
      ],
    ]);
    await invariants.check('after the run');
    const hot = async (sql: string) => (await world.admin.query(sql)).map((r) => Object.values(r).join(' '));
    expect(await hot('SELECT line_id FROM sales.order_lines ORDER BY 1')).toEqual([
      '301',
      '401',
      '501',
      '502',
      '901',
    ]);
    // once each, however many parent rows share its key
    expect(await hot('SELECT line_id, year FROM ext_shop.order_lines ORDER BY 1')).toEqual([
      '101 2024',
      '102 2024',
      '103 2025',
      '201 2024',
    ]);
    expect(await hot('SELECT reg, line FROM sales.line_discounts ORDER BY 1, 2')).toEqual(['eu 1', 'eu ']);
    expect(await hot('SELECT note FROM sales.line_notes ORDER BY 1')).toEqual(['null key', 'stays']);
  } finally {
    world.close();
  }
});

test('a composite key is tested with EXISTS correlated to the enclosing row only, ANDed: the exact SQL of both dialects', () => {
  const redshift = new ArchiveSql(
    CONFIG,
    redshiftDialect({ iamRoleArn: 'arn:aws:iam::123456789012:role/r' }),
  );
  const duckdb = new ArchiveSql(CONFIG, duckdbDialect);
  const key = { runId: RUN, cutoff: CUTOFF, year: 2024, source: 'hot' } as const;
  const lines = tableNamed(CONFIG, 'order_lines');
  const orders2024 = (b: (d: string) => string) =>
    `p1."ordered" >= ${b('2024-01-01')} AND p1."ordered" < ${b('2025-01-01')}`;
  const stays = (b: (d: string) => string) => [
    'p1."ordered" IS NULL',
    `p1."ordered" < ${b('2024-01-01')}`,
    `p1."ordered" >= ${b('2026-01-01')}`,
  ];
  const where = (b: (d: string) => string) =>
    `EXISTS (SELECT 1 FROM "sales"."orders" p1 WHERE p1."region" = "sales"."order_lines"."region" AND p1."order_no" = "sales"."order_lines"."order_no" AND ${orders2024(b)}) AND ` +
    `NOT EXISTS (SELECT 1 FROM "sales"."orders" p1 WHERE p1."region" = "sales"."order_lines"."region" AND p1."order_no" = "sales"."order_lines"."order_no" AND (${stays(b).join(' OR ')}))`;
  // a child of a root: one EXISTS for the year, one NOT EXISTS for the parents that stay (a
  // root's parts hold no subquery, so they stay ORed in one)
  expect(redshift.deleteStatement(lines, key)).toBe(
    `DELETE FROM "sales"."order_lines" WHERE ${where((d) => `CAST('${d}' AS DATE)`)}`,
  );
  expect(duckdb.deleteStatement(lines, key)).toBe(
    `DELETE FROM "sales"."order_lines" WHERE ${where((d) => `DATE '${d}'`)}`,
  );
  // a grandchild: its parent's ways of staying hold correlated subqueries, so each is its own NOT
  // EXISTS, never ORed; and a key of one column below keeps IN and NOT IN, one per way
  const discounts = redshift.deleteStatement(tableNamed(CONFIG, 'line_discounts'), key);
  const notes = redshift.deleteStatement(tableNamed(CONFIG, 'line_notes'), key);
  recordRedshiftSql([redshift.deleteStatement(lines, key), discounts, notes]);
  // one in the line's own year test, one per way a line stays (its two key columns NULL, no order,
  // an order that stays), and the one inside the way of no order
  expect(discounts.match(/NOT EXISTS/g)).toHaveLength(6);
  expect(discounts).not.toMatch(/\bOR\b[^)]*EXISTS/);
  expect(discounts).toContain(
    'NOT EXISTS (SELECT 1 FROM "sales"."order_lines" p1 WHERE p1."region" = "sales"."line_discounts"."reg" AND p1."order_no" = "sales"."line_discounts"."ord" AND p1."line_no" = "sales"."line_discounts"."line" AND p1."region" IS NULL)',
  );
  expect(notes).toContain(
    '"line_ref" NOT IN (SELECT p1."line_id" FROM "sales"."order_lines" p1 WHERE p1."line_id" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "sales"."orders" p2 WHERE p2."region" = p1."region" AND p2."order_no" = p1."order_no"))',
  );
});
