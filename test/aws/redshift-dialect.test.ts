import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, tableNamed } from '../../lambda/config/config';
import { parseCalendarDate } from '../../lambda/core/cutoff';
import { externalSchemaStatement, redshiftDialect } from '../../lambda/sql/redshift-dialect';
import { ArchiveSql } from '../../lambda/sql/statements';
import { ROLE } from '../support/scripted-aws';

const RUN = '20260101T000000Z';
const CUTOFF = parseCalendarDate('2026-01-01', 'test');
// reserved words, mixed case, a TIMESTAMPTZ archive column in Berlin, a child keyed by "user"
const RESERVED = parseConfig({
  warehouse: { type: 'serverless', workgroupName: 'wg1', database: 'dev' },
  lake: { prefix: 'lake/v1' },
  catalog: { database: 'everything', externalSchema: 'Ext' },
  views: { schema: 'Reporting', prefix: 'all_' },
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

describe('the Redshift dialect', () => {
  test('escapes quotes and backslashes in literals, which Redshift reads as escapes', () => {
    expect(dialect.literal("it's a \\ back")).toBe("'it''s a \\\\ back'");
  });

  test('cuts a TIMESTAMPTZ column at the instant the year begins in the zone, and takes the year in the zone', () => {
    expect(sql.stageTransaction(RUN, CUTOFF, () => [])[2]).toBe(
      `CREATE TABLE "Stage"."User__${RUN}" AS SELECT "select", "Money", "r", "code", "time", ` +
        `CAST(EXTRACT(YEAR FROM CONVERT_TIMEZONE('Europe/Berlin', "time")) AS INTEGER) AS "year" FROM "group"."User" ` +
        `WHERE "time" < CAST('2025-12-31 23:00:00+00' AS TIMESTAMPTZ)`,
    );
  });

  test('UNLOADs a stage table as Parquet partitioned by year with a verbose manifest, the query quoted as a literal', () => {
    expect(sql.unloadStatements(t('order'), RUN, `s3://b/lake/v1/order/archive_run=${RUN}/`)).toEqual([
      `UNLOAD ('SELECT "user", "date", "year" FROM "Stage"."order__${RUN}"') TO 's3://b/lake/v1/order/archive_run=${RUN}/' ` +
        `IAM_ROLE '${ROLE}' FORMAT AS PARQUET PARTITION BY ("year") MANIFEST VERBOSE`,
    ]);
    const kms = redshiftDialect({ iamRoleArn: ROLE, kmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' });
    expect(kms.unload("SELECT 'x'", 's3://b/p/')[0]).toBe(
      `UNLOAD ('SELECT ''x''') TO 's3://b/p/' IAM_ROLE '${ROLE}' FORMAT AS PARQUET PARTITION BY ("year") MANIFEST VERBOSE ` +
        `KMS_KEY_ID '1234abcd-12ab-34cd-56ef-1234567890ab' ENCRYPTED`,
    );
  });

  test('defines late-binding union views that cast archived columns back to the hot types', () => {
    expect(sql.viewStatements(t('User'), { publishedRuns: [RUN] })).toEqual([
      'DROP VIEW IF EXISTS "Reporting"."all_User"',
      'CREATE VIEW "Reporting"."all_User" AS SELECT "select", "Money", "r", "code", "time" FROM "group"."User" UNION ALL ' +
        'SELECT CAST("select" AS INTEGER) AS "select", CAST("money" AS DECIMAL(12,2)) AS "Money", CAST("r" AS REAL) AS "r", ' +
        'CAST("code" AS CHAR(3)) AS "code", CAST("time" AS TIMESTAMPTZ) AS "time" FROM "Ext"."user" ' +
        `WHERE "archive_run" IN ('${RUN}') WITH NO SCHEMA BINDING`,
    ]);
  });

  test('checksums columns exactly, whatever the order of rows', () => {
    expect(sql.archiveCheckQuery(t('order'), RUN)).toBe(
      'SELECT "year" AS year, COUNT(*) AS row_count, CAST(COUNT("user") AS VARCHAR) || \':\' || ' +
        'CAST(COALESCE(SUM(CAST(FNV_HASH("user") AS DECIMAL(38,0))), 0) AS VARCHAR) || \'|\' || CAST(COUNT("date") AS VARCHAR) || ' +
        '\':\' || CAST(COALESCE(SUM(CAST(FNV_HASH("date") AS DECIMAL(38,0))), 0) AS VARCHAR) AS checksum FROM (SELECT ' +
        'CAST("user" AS INTEGER) AS "user", CAST("date" AS DATE) AS "date", "year" FROM "Ext"."order" ' +
        `WHERE "archive_run" = '${RUN}') s GROUP BY "year" ORDER BY "year"`,
    );
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
    const statements = [
      ...sql.setupStatements(),
      ...sql.stageTransaction(RUN, CUTOFF, () => ['20250101T000000Z']),
      ...sql.tables.flatMap((table) =>
        sql.unloadStatements(table, RUN, `s3://b/lake/v1/${table.name.toLowerCase()}/archive_run=${RUN}/`),
      ),
      ...sql.tables.map((table) => sql.archiveCheckQuery(table, RUN)),
      ...sql.publishTransaction(RUN, () => ['20250101T000000Z', RUN]),
      ...sql.maintenanceStatements(),
      ...sql.finishTransaction(RUN),
      ...sql.abortTransaction(RUN, () => []),
    ];
    const text = `${statements.map((s) => `${s};`).join('\n')}\n`;
    const golden = join(__dirname, 'golden', 'reserved-names.sql');
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });
});
