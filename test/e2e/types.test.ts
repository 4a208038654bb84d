import { parseConfig } from '../../src/config/config';
import { parseCalendarDate } from '../../src/core/cutoff';
import { preflight } from '../../src/protocol/preflight';
import { Invariants } from '../support/invariants';
import { World } from '../../devkit/world';

// Reserved words and mixed case everywhere a name can be; every supported type, some in
// Redshift's own spellings; a TIMESTAMPTZ archive column in a zone whose year starts an hour before
// UTC's.
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
        { name: 'select', type: 'int4' },
        { name: 'Small', type: 'int2' },
        { name: 'big', type: 'int8' },
        { name: 'money', type: 'numeric(38,10)' },
        { name: 'r', type: 'float4' },
        { name: 'd', type: 'float8' },
        { name: 'flag', type: 'bool' },
        { name: 'code', type: 'character(5)' },
        { name: 'note', type: 'character varying(200)' },
        { name: 'date', type: 'date' },
        { name: 'local', type: 'timestamp without time zone' },
        { name: 'time', type: 'timestamp with time zone' },
        { name: 'clock', type: 'time' },
        { name: 'clocktz', type: 'timetz' },
        { name: 'bytes', type: 'varbyte(16)' },
        { name: 'doc', type: 'super' },
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
  flag BOOLEAN, code VARCHAR, note VARCHAR, "date" DATE, "local" TIMESTAMP, "time" TIMESTAMPTZ, clock TIME,
  clocktz TIMETZ, bytes BLOB, doc JSON);
CREATE TABLE "group"."order" ("user" INTEGER, "desc" VARCHAR);
INSERT INTO "group"."user" VALUES
  (1, -32768, -9223372036854775808, 1234567890123456789012345678.0123456789, 3.4028235e38, 1.7976931348623157e308,
   true, 'ab   ', 'it''s "quoted" \\ back; Grüße 日本 🎉', DATE '1900-01-01', TIMESTAMP '2025-12-31 23:59:59.999999',
   TIMESTAMPTZ '2025-12-31 22:59:59.999999+00', TIME '23:59:59.999999', TIMETZ '23:59:59.999999-14:59',
   '\\x00\\xFF\\x7F'::BLOB, '{"a": [1, 2.5, null, "x\\u00e9"], "b": {"c": true}}'),
  (2, 32767, 9223372036854775807, -0.0000000001, 1.1754944e-38, 5e-324, false, 'xyzzy', '', DATE '2025-12-31',
   TIMESTAMP '1970-01-01 00:00:00', TIMESTAMPTZ '2024-06-30 22:30:00+00', TIME '00:00:00', TIMETZ '12:30:00+05:30',
   ''::BLOB, 'null'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, TIMESTAMPTZ '2020-02-29 12:00:00+00', NULL, NULL,
   NULL, NULL),
  (4, 0, 0, 0, -0.0, -0.0, true, '', 'stays: Berlin new year', DATE '2026-01-01', TIMESTAMP '2026-01-01 00:00:00',
   TIMESTAMPTZ '2025-12-31 23:00:00+00', TIME '12:00:00.5', TIMETZ '00:00:00+00', '\\xAB'::BLOB, '[]');
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
  // travel as text: no Spectrum or Athena type holds them, and UNLOAD refuses VARBYTE in Parquet
  clock: ['BYTE_ARRAY', 'UTF8'],
  clocktz: ['BYTE_ARRAY', 'UTF8'],
  bytes: ['BYTE_ARRAY', 'UTF8'],
  doc: ['BYTE_ARRAY', 'UTF8'],
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
    `SELECT "select", CAST("time" AS VARCHAR) AS t, clock, clocktz, bytes, doc, year FROM ext_all."user" ORDER BY 1`,
  );
  expect(archived).toEqual([
    {
      select: '1',
      t: '2025-12-31 22:59:59.999999',
      clock: '23:59:59.999999',
      clocktz: '23:59:59.999999-14:59',
      bytes: '00FF7F',
      doc: '{"a": [1, 2.5, null, "x\\u00e9"], "b": {"c": true}}',
      year: '2025',
    },
    // an empty VARBYTE is '' and a JSON null is the text null: neither is a NULL
    {
      select: '2',
      t: '2024-06-30 22:30:00',
      clock: '00:00:00',
      clocktz: '12:30:00+05:30',
      bytes: '',
      doc: 'null',
      year: '2024',
    },
    {
      select: '3',
      t: '2020-02-29 12:00:00',
      clock: null,
      clocktz: null,
      bytes: null,
      doc: null,
      year: '2020',
    },
  ]);
  // the views give back the hot types: TIME, TIMETZ, BLOB (VARBYTE), JSON (SUPER)
  const [types] = await world.admin.query(
    'SELECT typeof(clock) AS clock, typeof(clocktz) AS clocktz, typeof(bytes) AS bytes, typeof(doc) AS doc FROM "Reporting"."all_user" LIMIT 1',
  );
  expect(types).toEqual({ clock: 'TIME', clocktz: 'TIME WITH TIME ZONE', bytes: 'BLOB', doc: 'JSON' });
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

test('preflight asks the warehouse whether each type that travels as text casts back, and whether the largest SUPER fits Spectrum', async () => {
  const engine = await world.session();
  const report = await preflight(engine, world.sql);
  expect(report.checks.find((c) => c.check === 'types that travel as text')).toEqual({
    check: 'types that travel as text',
    ok: true,
    detail:
      'time, timetz, varbyte, super: the text each travels as casts back to the value, and fits its column',
  });
  expect(report.checks.find((c) => c.check === 'super size group.user')?.ok).toBe(true);

  // a SUPER value of more than 65535 bytes of JSON would be cut short by Spectrum, silently
  await world.admin.execute(
    `INSERT INTO "group"."user" ("select", doc) VALUES (5, to_json(repeat('x', 70000)))`,
  );
  const [big] = (await preflight(await world.session(), world.sql)).checks.filter(
    (c) => c.check === 'super size group.user',
  );
  expect(big).toEqual({
    check: 'super size group.user',
    ok: false,
    detail:
      'doc (70002 bytes): longer than the 65535 bytes of JSON Spectrum reads (it would truncate them silently, and the batch would never pass its check)',
    fix: 'make these values smaller, or leave group.user and its descendants out of the configuration: they stay hot',
  });
});
