import { parseConfig } from '../../src/config/config';
import { parseCalendarDate } from '../../src/core/cutoff';
import { Invariants } from '../support/invariants';
import { World } from '../../devkit/world';

// Reserved words and mixed case everywhere a name can be; every supported type; a TIMESTAMPTZ
// archive column in a zone whose year starts an hour before UTC's.
const CONFIG = parseConfig({
  warehouse: { type: 'serverless', workgroupName: 'wg1', database: 'dev' },
  lake: { prefix: 'lake/v1' },
  catalog: { database: 'everything', externalSchema: 'ext_all' },
  views: { schema: 'Reporting', prefix: 'all_' },
  retention: { keepYears: 1, timeZone: 'Europe/Berlin' },
  tables: [
    {
      schema: 'group',
      name: 'user',
      archiveBy: { column: 'time' },
      columns: [
        { name: 'select', type: 'integer' },
        { name: 'Small', type: 'smallint' },
        { name: 'big', type: 'bigint' },
        { name: 'money', type: 'decimal(38,10)' },
        { name: 'r', type: 'real' },
        { name: 'd', type: 'double precision' },
        { name: 'flag', type: 'boolean' },
        { name: 'code', type: 'char(5)' },
        { name: 'note', type: 'varchar(200)' },
        { name: 'date', type: 'date' },
        { name: 'local', type: 'timestamp' },
        { name: 'time', type: 'timestamptz' },
      ],
    },
    {
      schema: 'group',
      name: 'order',
      archiveBy: { parent: 'user', foreignKey: 'user', parentKey: 'select' },
      columns: [
        { name: 'user', type: 'integer' },
        { name: 'desc', type: 'varchar(20)' },
      ],
    },
  ],
});

const SEED = `
CREATE SCHEMA "group";
CREATE TABLE "group"."user" ("select" INTEGER, "Small" SMALLINT, big BIGINT, money DECIMAL(38,10), r REAL, d DOUBLE,
  flag BOOLEAN, code VARCHAR, note VARCHAR, "date" DATE, "local" TIMESTAMP, "time" TIMESTAMPTZ);
CREATE TABLE "group"."order" ("user" INTEGER, "desc" VARCHAR);
INSERT INTO "group"."user" VALUES
  (1, -32768, -9223372036854775808, 1234567890123456789012345678.0123456789, 3.4028235e38, 1.7976931348623157e308,
   true, 'ab   ', 'it''s "quoted" \\ back; Grüße 日本 🎉', DATE '1900-01-01', TIMESTAMP '2025-12-31 23:59:59.999999',
   TIMESTAMPTZ '2025-12-31 22:59:59.999999+00'),
  (2, 32767, 9223372036854775807, -0.0000000001, 1.1754944e-38, 5e-324, false, 'xyzzy', '', DATE '2025-12-31',
   TIMESTAMP '1970-01-01 00:00:00', TIMESTAMPTZ '2024-06-30 22:30:00+00'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, TIMESTAMPTZ '2020-02-29 12:00:00+00'),
  (4, 0, 0, 0, -0.0, -0.0, true, '', 'stays: Berlin new year', DATE '2026-01-01', TIMESTAMP '2026-01-01 00:00:00',
   TIMESTAMPTZ '2025-12-31 23:00:00+00');
INSERT INTO "group"."order" VALUES (1, 'first'), (2, 'o''second'), (3, NULL), (4, 'stays'), (NULL, 'orphan');
`;

const PARQUET_TYPES: Record<string, [string, string | null]> = {
  select: ['INT32', 'INT_32'],
  small: ['INT32', 'INT_16'],
  big: ['INT64', 'INT_64'],
  money: ['FIXED_LEN_BYTE_ARRAY', 'DECIMAL'],
  r: ['FLOAT', null],
  d: ['DOUBLE', null],
  flag: ['BOOLEAN', null],
  code: ['BYTE_ARRAY', 'UTF8'],
  note: ['BYTE_ARRAY', 'UTF8'],
  date: ['INT32', 'DATE'],
  local: ['INT64', 'TIMESTAMP_MICROS'],
  time: ['INT64', 'TIMESTAMP_MICROS'],
};

let world: World;
beforeEach(async () => {
  world = await World.create(CONFIG, SEED);
});
afterEach(() => world.close());

test('every supported type survives the round trip exactly, with reserved-word and mixed-case names', async () => {
  const cutoff = parseCalendarDate('2026-01-01', 'test');
  const invariants = await Invariants.capture(world, cutoff);
  const before = await world.viewRows();

  const report = await (await world.archiver()).run({ runId: '20260101T000000Z', cutoff });

  expect(report.tables.map((t) => [t.table, t.rows, t.years.map((y) => y.year)])).toEqual([
    ['user', 3, [2020, 2024, 2025]],
    ['order', 3, [2020, 2024, 2025]],
  ]);
  expect(await world.viewRows()).toEqual(before);
  await invariants.check('after the run');
  // the first instant of 2026 in Berlin (23:00 UTC) stays hot; the microsecond before it goes
  const hot = await world.admin.query(`SELECT "select" FROM "group"."user" ORDER BY 1`);
  expect(hot).toEqual([{ select: '4' }]);
  const archived = await world.admin.query(
    `SELECT "select", CAST("time" AS VARCHAR) AS t, year FROM ext_all."user" ORDER BY 1`,
  );
  expect(archived).toEqual([
    { select: '1', t: '2025-12-31 22:59:59.999999', year: '2025' },
    { select: '2', t: '2024-06-30 22:30:00', year: '2024' },
    { select: '3', t: '2020-02-29 12:00:00', year: '2020' },
  ]);
});

test('the exported Parquet files carry the physical and logical types of the mapping', async () => {
  await (
    await world.archiver()
  ).run({ runId: '20260101T000000Z', cutoff: parseCalendarDate('2026-01-01', 'test') });
  const file = [...world.lakeFiles().keys()].find(
    (p) => p.includes('/user/') && p.includes('year=2024') && p.endsWith('.parquet'),
  );
  const schema = await world.admin.query(
    `SELECT lower(name) AS name, type, converted_type FROM parquet_schema('${file}') WHERE type IS NOT NULL`,
  );
  expect(Object.fromEntries(schema.map((c) => [c.name, [c.type, c.converted_type]]))).toEqual(PARQUET_TYPES);
  // a TIMESTAMPTZ travels as its UTC wall-clock TIMESTAMP (UNLOAD keeps no zone either)
  const [tz] = await world.admin.query(
    `SELECT logical_type FROM parquet_schema('${file}') WHERE name = 'time'`,
  );
  expect(tz.logical_type).toContain('isAdjustedToUTC=0');
});
