import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJson, parseConfig, tableNamed } from '../../src/config/config';
import { parseCalendarDate } from '../../src/core/cutoff';
import { batchRoot, partitionLocation } from '../../src/core/lake-layout';
import { externalSchemaStatement, redshiftDialect } from '../../src/sql/redshift-dialect';
import { ArchiveSql, BatchKey, Figures } from '../../src/sql/statements';
import { ROLE, svvColumns } from '../../devkit/scripted-aws';
import { recordRedshiftSql } from '../../devkit/sql-recorder';

const RUN = '20260101T000000Z';
const CUTOFF = parseCalendarDate('2025-01-01', 'test');
// reserved words, mixed case, a TIMESTAMPTZ archive column in Berlin, a child keyed by "user",
// readers of every kind
const RESERVED = parseConfig({
  warehouse: { type: 'serverless', workgroupName: 'wg1', database: 'dev' },
  lake: { prefix: 'lake/v1' },
  catalog: { database: 'everything', externalSchema: 'Ext' },
  views: {
    schema: 'Reporting',
    prefix: 'all_',
    readers: ['user Analyst', 'group readers'],
  },
  retention: { keepYears: 2, timeZone: 'Europe/Berlin' },
  ledger: { schema: 'Meta', stageSchema: 'Stage' },
  tables: [
    {
      schema: 'group',
      name: 'User',
      archiveBy: { column: 'time' },
      columns: [
        { name: 'select', type: 'integer' },
        { name: 'Money', type: 'decimal(12,2)' },
        { name: 'r', type: 'real' },
        { name: 'code', type: 'char(3)' },
        { name: 'note', type: 'varchar(20)' },
        { name: 'ok', type: 'boolean' },
        { name: 'time', type: 'timestamptz' },
      ],
    },
    {
      schema: 'group',
      name: 'order',
      archiveBy: { parent: 'User', foreignKey: 'user', parentKey: 'select' },
      columns: [
        { name: 'user', type: 'integer' },
        { name: 'date', type: 'date' },
      ],
    },
  ],
});
const dialect = redshiftDialect({ iamRoleArn: ROLE });
const sql = new ArchiveSql(RESERVED, dialect);
const t = (name: string) => tableNamed(RESERVED, name);
const KEY: BatchKey = { runId: RUN, cutoff: CUTOFF, year: 2024, source: 'hot' };
/** The hot rows of "order" in the 2024 batch: a child follows its parents' year. */
const ORDER_2024 =
  `"user" IN (SELECT p1."select" FROM "group"."User" p1 WHERE p1."time" >= CAST('2023-12-31 23:00:00+00' AS TIMESTAMPTZ) ` +
  `AND p1."time" < CAST('2024-12-31 23:00:00+00' AS TIMESTAMPTZ)) AND "user" NOT IN (SELECT p1."select" FROM "group"."User" p1 ` +
  `WHERE p1."select" IS NOT NULL AND (p1."time" IS NULL OR p1."time" < CAST('2023-12-31 23:00:00+00' AS TIMESTAMPTZ) ` +
  `OR p1."time" >= CAST('2024-12-31 23:00:00+00' AS TIMESTAMPTZ)))`;
const NULL_TAG = (expr: string) =>
  `CASE WHEN ${expr} IS NULL THEN CAST(0 AS SMALLINT) ELSE CAST(1 AS SMALLINT) END`;
/** The row hash of "order"'s columns, `user` then `date`, each a NULL tag then the value. */
const ORDER_HASH = (user: string, date: string) =>
  `FNV_HASH(COALESCE(${date}, CAST('1970-01-01' AS DATE)), FNV_HASH(${NULL_TAG(date)}, ` +
  `FNV_HASH(COALESCE(${user}, CAST(0 AS INTEGER)), FNV_HASH(${NULL_TAG(user)}))))`;
const checksum = (hash: string) => `CAST(COALESCE(SUM(CAST(${hash} AS DECIMAL(38,0))), 0) AS VARCHAR(40))`;

/** The reserved-names configuration with one table of integer columns, the last a date (its archive column). */
const oneTable = (names: string[]) =>
  parseConfig({
    ...JSON.parse(configJson(RESERVED)),
    tables: [
      {
        schema: 's',
        name: 'w',
        archiveBy: { column: names[names.length - 1] },
        columns: names.map((name, i) => ({ name, type: i === names.length - 1 ? 'date' : 'integer' })),
      },
    ],
  });

describe('the Redshift dialect', () => {
  test('escapes quotes and backslashes in literals, which Redshift reads as escapes', () => {
    expect(dialect.literal("it's a \\ back")).toBe("'it''s a \\\\ back'");
  });

  test('hashes a row unambiguously: a NULL tag before each value, a byte length before each string, never a NULL into FNV_HASH', () => {
    // given an integer, a string and a boolean column
    const hash = dialect.rowHash([
      { expr: '"a"', type: { kind: 'integer' } },
      { expr: '"s"', type: { kind: 'varchar', length: 5 } },
      { expr: '"b"', type: { kind: 'boolean' } },
    ]);
    // then each value continues the chain of the one before: NULL differs from 0 and '', and
    // ('ab', 'c') from ('a', 'bc'), since the length (-1 for NULL) comes first
    expect(hash).toBe(
      `FNV_HASH(CASE WHEN "b" THEN CAST(1 AS SMALLINT) ELSE CAST(0 AS SMALLINT) END, FNV_HASH(${NULL_TAG('"b"')}, ` +
        `FNV_HASH(COALESCE("s", ''), FNV_HASH(COALESCE(OCTET_LENGTH("s"), -1), ` +
        `FNV_HASH(COALESCE("a", CAST(0 AS INTEGER)), FNV_HASH(${NULL_TAG('"a"')}))))))`,
    );
  });

  test("hashes a row wider than four columns in groups of four, then chains the groups' hashes (fixed-width BIGINTs)", () => {
    // given a table of six integer columns
    const wide = oneTable(['a', 'b', 'c', 'e', 'f', 'd']);
    const check = new ArchiveSql(wide, dialect).hashProbeQuery(wide.tables[0]);
    // then the first four columns are one chain, the last two another, and the two chains' hashes one more
    const int = (c: string, seed?: string) =>
      `FNV_HASH(COALESCE("${c}", CAST(0 AS INTEGER)), FNV_HASH(${NULL_TAG(`"${c}"`)}${seed ? `, ${seed}` : ''}))`;
    const group1 = int('e', int('c', int('b', int('a'))));
    const group2 = `FNV_HASH(COALESCE("d", CAST('1970-01-01' AS DATE)), FNV_HASH(${NULL_TAG('"d"')}, ${int('f')}))`;
    expect(check).toBe(
      `SELECT COUNT(*) AS row_count, ${checksum(`FNV_HASH(${group2}, FNV_HASH(${group1}))`)} AS checksum FROM "s"."w" WHERE 1 = 0`,
    );
  });

  test("a table of 1,600 columns (Redshift's most) nests 26 FNV_HASH calls at most, where one chain would nest 3,200", () => {
    const wide = oneTable(Array.from({ length: 1600 }, (_, i) => `c${i}`).reverse());
    const text = new ArchiveSql(wide, dialect).hashProbeQuery(wide.tables[0]);
    // each open parenthesis, and whether it opens an FNV_HASH call
    const open: boolean[] = [];
    let deepest = 0;
    for (const token of text.match(/FNV_HASH\(|\(|\)/g) ?? []) {
      if (token === ')') open.pop();
      else open.push(token === 'FNV_HASH(');
      deepest = Math.max(deepest, open.filter(Boolean).length);
    }
    expect(deepest).toBe(26);
    // two calls per column, then 400 group hashes chained in fours, and so on up
    expect(text.match(/FNV_HASH\(/g)).toHaveLength(3200 + 400 + 100 + 24 + 7 + 2);
  });

  test('sums row hashes exactly as DECIMAL(38,0), and returns the sum as text (a BIGINT sum overflows, a Data API number rounds)', () => {
    expect(dialect.checksum('h')).toBe('CAST(COALESCE(SUM(CAST(h AS DECIMAL(38,0))), 0) AS VARCHAR(40))');
  });

  test("a commit check inserts its record, whose NOT NULL column gets NULL unless the hot rows have the archive's figures", () => {
    const check = sql.commitCheck(t('order'), KEY, 2, { rows: 7, checksum: '-123' });
    expect(check).toBe(
      `INSERT INTO "Meta"."commit_checks" ("run_id", "table_name", "year", "attempt", "row_count", "checksum", "passed") ` +
        `SELECT '${RUN}', 'order', 2024, 2, h.n, h.s, CASE WHEN h.n = 7 AND h.s = '-123' AND b.n = 1 THEN 1 END ` +
        `FROM (SELECT COUNT(*) AS n, ${checksum(ORDER_HASH('"user"', '"date"'))} AS s ` +
        `FROM "group"."order" WHERE ${ORDER_2024}) h, ` +
        `(SELECT COUNT(*) AS n FROM "Meta"."batches" WHERE "run_id" = '${RUN}' AND "table_name" = 'order' AND "year" = 2024 ` +
        `AND "attempt" = 2 AND "state" = 'verified' AND "row_count" = 7 AND "checksum" = '-123') b, ` +
        `(${sql.columnGuard(t('order'))}) g`,
    );
  });

  test('the column guard fails at bind time when the table has more, fewer or other columns than configured', () => {
    expect(sql.columnGuard(t('User'))).toBe(
      'SELECT COUNT(*) AS n FROM (SELECT * FROM "group"."User" WHERE 1 = 0 UNION ALL SELECT CAST(NULL AS INTEGER), ' +
        'CAST(NULL AS DECIMAL(12,2)), CAST(NULL AS REAL), CAST(NULL AS CHAR(3)), CAST(NULL AS VARCHAR(20)), ' +
        'CAST(NULL AS BOOLEAN), CAST(NULL AS TIMESTAMPTZ) FROM "group"."User" WHERE 1 = 0) u',
    );
  });

  test('exports a TIMESTAMPTZ as its UTC instant, whatever the session time zone, with the quotes of UNLOAD doubled', () => {
    expect(
      sql.unloadStatements(t('User'), KEY, 's3://b/lake/v1/user/year=2024/archive_run=20260101T000000Z/'),
    ).toEqual([
      `UNLOAD ('SELECT "select", "Money", "r", CAST("code" AS VARCHAR(3)) AS "code", "note", "ok", ` +
        `("time" AT TIME ZONE ''UTC'') AS "time", CAST(2024 AS INTEGER) AS "year" FROM "group"."User" ` +
        `WHERE "time" >= CAST(''2023-12-31 23:00:00+00'' AS TIMESTAMPTZ) AND "time" < CAST(''2024-12-31 23:00:00+00'' AS TIMESTAMPTZ)') ` +
        `TO 's3://b/lake/v1/user/year=2024/archive_run=20260101T000000Z/' IAM_ROLE '${ROLE}' FORMAT AS PARQUET ` +
        'PARTITION BY ("year") MANIFEST VERBOSE',
    ]);
    const kms = redshiftDialect({ iamRoleArn: ROLE, kmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' });
    recordRedshiftSql(
      kms.unload({ columns: "'x'", from: '"s"."t"', where: '1 = 1', year: 2024 }, 's3://b/p/'),
    );
    expect(kms.unload({ columns: "'x'", from: '"s"."t"', where: '1 = 1', year: 2024 }, 's3://b/p/')[0]).toBe(
      `UNLOAD ('SELECT ''x'', CAST(2024 AS INTEGER) AS "year" FROM "s"."t" WHERE 1 = 1') TO 's3://b/p/' IAM_ROLE '${ROLE}' FORMAT AS PARQUET PARTITION BY ("year") MANIFEST VERBOSE ` +
        `KMS_KEY_ID '1234abcd-12ab-34cd-56ef-1234567890ab' ENCRYPTED`,
    );
  });

  test('replaces a union view with the same columns (owner and grants stay), reading the committed batches as literals', () => {
    const view = sql.replaceView(t('order'), {
      committed: [
        { runId: '20250101T000000Z', year: 2023 },
        { runId: RUN, year: 2024 },
      ],
    });
    expect(view).toBe(
      'CREATE OR REPLACE VIEW "Reporting"."all_order" AS SELECT "user", "date" FROM "group"."order" UNION ALL ' +
        'SELECT CAST("user" AS INTEGER) AS "user", CAST("date" AS DATE) AS "date" FROM "Ext"."order" ' +
        `WHERE ("archive_run" = '20250101T000000Z' AND "year" IN (2023)) OR ("archive_run" = '${RUN}' AND "year" IN (2024)) ` +
        'WITH NO SCHEMA BINDING',
    );
  });

  test('re-creates a view whose columns changed and grants it again to every reader: users and groups', () => {
    expect(sql.recreateView(t('order'), { committed: [] })).toEqual([
      'DROP VIEW IF EXISTS "Reporting"."all_order"',
      'CREATE VIEW "Reporting"."all_order" AS SELECT "user", "date" FROM "group"."order" UNION ALL ' +
        'SELECT CAST("user" AS INTEGER) AS "user", CAST("date" AS DATE) AS "date" FROM "Ext"."order" WHERE 1 = 0 ' +
        'WITH NO SCHEMA BINDING',
      'GRANT SELECT ON "Reporting"."all_order" TO "Analyst"',
      'GRANT USAGE ON SCHEMA "Reporting" TO "Analyst"',
      'GRANT USAGE ON SCHEMA "group" TO "Analyst"',
      'GRANT SELECT ON "Reporting"."all_order" TO GROUP "readers"',
      'GRANT USAGE ON SCHEMA "Reporting" TO GROUP "readers"',
      'GRANT USAGE ON SCHEMA "group" TO GROUP "readers"',
    ]);
    // USAGE on the external schema goes apart: no GRANT on an external resource runs in a transaction
    expect(sql.externalSchemaGrants()).toEqual([
      'GRANT USAGE ON SCHEMA "Ext" TO "Analyst"',
      'GRANT USAGE ON SCHEMA "Ext" TO GROUP "readers"',
    ]);
  });

  test('reads the real columns from SVV_COLUMNS (every schema, not only the search path), names in lower case', () => {
    expect(sql.catalogQuery('tables')).toBe(
      'SELECT table_schema, table_name, column_name, data_type, character_maximum_length AS char_length, ' +
        'numeric_precision AS num_precision, numeric_scale AS num_scale FROM svv_columns ' +
        "WHERE (table_schema = 'group' AND table_name = 'user') OR (table_schema = 'group' AND table_name = 'order') " +
        'ORDER BY table_schema, table_name, ordinal_position',
    );
    expect(sql.catalogQuery('views')).toContain(
      "WHERE (table_schema = 'reporting' AND table_name = 'all_user') OR (table_schema = 'reporting' AND table_name = 'all_order')",
    );
  });

  test("parses SVV_COLUMNS' type names into the configured types", () => {
    // given SVV_COLUMNS rows for every configured type, then each parses back to its column's type
    const rows = svvColumns(RESERVED, 'tables');
    expect(rows.map((r) => [r.column_name, r.data_type, dialect.catalogType(r)])).toEqual([
      ['select', 'integer', { kind: 'integer' }],
      ['money', 'numeric', { kind: 'decimal', precision: 12, scale: 2 }],
      ['r', 'real', { kind: 'real' }],
      ['code', 'character', { kind: 'char', length: 3 }],
      ['note', 'character varying', { kind: 'varchar', length: 20 }],
      ['ok', 'boolean', { kind: 'boolean' }],
      ['time', 'timestamp with time zone', { kind: 'timestamptz' }],
      ['user', 'integer', { kind: 'integer' }],
      ['date', 'date', { kind: 'date' }],
    ]);
    const other = (data_type: string) => ({
      data_type,
      char_length: null,
      num_precision: null,
      num_scale: null,
    });
    expect(dialect.catalogType(other('smallint'))).toEqual({ kind: 'smallint' });
    expect(dialect.catalogType(other('bigint'))).toEqual({ kind: 'bigint' });
    expect(dialect.catalogType(other('double precision'))).toEqual({ kind: 'double precision' });
    expect(dialect.catalogType(other('timestamp without time zone'))).toEqual({ kind: 'timestamp' });
    expect(dialect.catalogType(other('super'))).toBeUndefined();
    // late-binding views may come spelled as their own catalog function spells them: both are read
    expect(dialect.catalogType(other('character varying(64)'))).toEqual({ kind: 'varchar', length: 64 });
    expect(dialect.catalogType(other('character(3)'))).toEqual({ kind: 'char', length: 3 });
    expect(dialect.catalogType(other('numeric(12,2)'))).toEqual({ kind: 'decimal', precision: 12, scale: 2 });
  });

  test.each([
    [
      'ERROR: 1023 DETAIL: Serializable isolation violation on table - 119371, transactions forming the cycle are: 1745830, 1745762 (pid:15021)',
      true,
    ],
    ['Serializable isolation violation on table - 100167', true],
    ['ERROR: could not complete because of conflict with concurrent transaction', true],
    ['ERROR: Cannot insert a NULL value into column passed', false],
    ['ERROR: permission denied for relation tax', false],
    ['ERROR: 10234 rows', false],
  ])('tells a lost race from other failures: %s', (message, conflict) => {
    expect(dialect.isConflict(message)).toBe(conflict);
  });

  test("restore's preflight probe reads a hot table, then its external table, both matching nothing, for one transaction", () => {
    expect(sql.restoreReadProbe(t('User'))).toEqual([
      'SELECT COUNT(*) AS row_count FROM "group"."User" WHERE 1 = 0',
      `SELECT COUNT(*) AS row_count FROM "Ext"."user" WHERE "archive_run" = '00000000T000000Z'`,
    ]);
  });

  test('maps the external schema onto the Glue database', () => {
    expect(externalSchemaStatement(RESERVED, { iamRoleArn: ROLE })).toBe(
      `CREATE EXTERNAL SCHEMA IF NOT EXISTS "Ext" FROM DATA CATALOG DATABASE 'everything' IAM_ROLE '${ROLE}'`,
    );
  });

  test('fails for a role or key that is not an ARN, before any SQL is rendered', () => {
    expect(() => redshiftDialect({ iamRoleArn: "arn' OR '1" })).toThrow(
      `iamRoleArn: "arn' OR '1" is not allowed; allowed: an IAM role ARN`,
    );
    expect(() => redshiftDialect({ iamRoleArn: ROLE, kmsKeyId: "k'" })).toThrow(
      `kmsKeyId: "k'" is not allowed; allowed: a KMS key id or key ARN`,
    );
  });

  test('renders every statement of a run for reserved and mixed-case names exactly as the golden file says', () => {
    const root = (table: string, year: number) => `s3://b/${batchRoot('lake/v1', table, year, RUN)}`;
    const years = [2023, 2024];
    const planned = sql.tables.flatMap((table) => years.map((year) => ({ table, year, rows: 10 })));
    const figures = new Map<ReturnType<typeof t>, Figures>(
      sql.tables.map((table) => [table, { rows: 10, checksum: '123' }]),
    );
    const keyOf = (year: number): BatchKey => ({ runId: RUN, cutoff: CUTOFF, year, source: 'hot' });
    const statements = [
      ...sql.setupStatements(),
      sql.catalogQuery('tables'),
      sql.rootYearsQuery(t('User'), CUTOFF),
      sql.nullRowsQuery(t('User')),
      sql.yearsQuery(t('order'), years, CUTOFF),
      ...sql.startTransaction(RUN, CUTOFF, planned),
      ...years.flatMap((year) =>
        sql.tables.flatMap((table) => [
          sql.countQuery(table, keyOf(year)),
          ...sql.unloadStatements(table, keyOf(year), root(table.name, year)),
          sql.recordExport(keyOf(year), table, {
            location: partitionLocation(root(table.name, year), year),
            rows: 10,
            files: 1,
            bytes: 100,
          }),
          sql.archiveFiguresQuery(table, keyOf(year)),
          sql.recordVerified(keyOf(year), table, { rows: 10, checksum: '123' }),
        ]),
      ),
      ...sql.commitTransaction(sql.tables, keyOf(2024), 1, figures, 3, () => ({
        committed: [
          { runId: RUN, year: 2023 },
          { runId: RUN, year: 2024 },
        ],
      })),
      ...sql.tables.flatMap((table) => [
        ...sql.columnFiguresQuery(table, keyOf(2024), 'hot'),
        ...sql.columnFiguresQuery(table, keyOf(2024), 'archive'),
      ]),
      sql.discardBatch(keyOf(2024), sql.tables, "the hot rows changed since the export: order 2024 (it's)"),
      ...sql.finishTransaction(RUN),
      ...sql.maintenanceStatements(),
      ...sql.abortTransaction(RUN, [{ table: t('order'), year: 2024 }], 4),
      ...sql.tables.flatMap((table) => sql.recreateView(table, { committed: [] })),
      ...sql.externalSchemaGrants(),
      ...sql.tables.map((table) => sql.dropView(table)),
      sql.dropExternalSchema(),
    ];
    recordRedshiftSql(statements);
    const text = `${statements.map((s) => `${s};`).join('\n')}\n`;
    const golden = join(__dirname, 'golden', 'reserved-names.sql');
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });
});
