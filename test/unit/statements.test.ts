import { parseConfig, tableNamed } from '../../lambda/config/config';
import { parseCalendarDate } from '../../lambda/core/cutoff';
import { duckdbDialect } from '../../lambda/sql/duckdb-dialect';
import { ArchiveSql } from '../../lambda/sql/statements';
import contabyx from '../../config/contabyx.json';

const config = parseConfig(contabyx);
const sql = new ArchiveSql(config, duckdbDialect);
const RUN = '20260101T000000Z';
const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const t = (name: string) => tableNamed(config, name);

describe('the statements of a run (DuckDB dialect)', () => {
  test('stages parents first, checksums the moved rows, deletes children first, records the run and redefines the views, in one transaction', () => {
    const statements = sql.stageTransaction(RUN, CUTOFF, () => []);
    expect(statements.slice(0, 5)).toEqual([
      'CREATE TABLE "archive_meta"."active_run" ("run_id" VARCHAR(16) NOT NULL)',
      `INSERT INTO "archive_meta"."active_run" VALUES ('${RUN}')`,
      `CREATE TABLE "archive_stage"."transactions__${RUN}" AS SELECT "transactionid", "clientid", "typeid", "time", "amount", ` +
        `CAST(EXTRACT(YEAR FROM "time") AS INTEGER) AS "year" FROM "contabyx"."transactions" WHERE "time" < TIMESTAMP '2026-01-01 00:00:00'`,
      `CREATE TABLE "archive_stage"."transfers__${RUN}" AS SELECT c."transferid", c."expense_transactionid", c."income_transactionid", ` +
        `p."year" FROM "contabyx"."transfers" c JOIN (SELECT "transactionid", MIN("year") AS "year" FROM ` +
        `"archive_stage"."transactions__${RUN}" GROUP BY "transactionid") p ON c."expense_transactionid" = p."transactionid"`,
      `CREATE TABLE "archive_stage"."tax__${RUN}" AS SELECT c."transactionid", c."taxtypeid", c."fee", p."year" FROM "contabyx"."tax" c ` +
        `JOIN (SELECT "transactionid", MIN("year") AS "year" FROM "archive_stage"."transactions__${RUN}" GROUP BY "transactionid") p ` +
        `ON c."transactionid" = p."transactionid"`,
    ]);
    // the checksums read the same rows as the copy, from the hot table, before it is deleted from
    expect(statements[7]).toBe(
      `INSERT INTO "archive_meta"."run_years" SELECT '${RUN}', 'tax', "year", COUNT(*), ` +
        `CAST(COUNT("transactionid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(hash("transactionid")), 0) AS VARCHAR) || '|' || ` +
        `CAST(COUNT("taxtypeid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(hash("taxtypeid")), 0) AS VARCHAR) || '|' || ` +
        `CAST(COUNT("fee") AS VARCHAR) || ':' || CAST(COALESCE(SUM(hash("fee")), 0) AS VARCHAR) FROM (SELECT c."transactionid", ` +
        `c."taxtypeid", c."fee", p."year" FROM "contabyx"."tax" c JOIN (SELECT "transactionid", MIN("year") AS "year" FROM ` +
        `"archive_stage"."transactions__${RUN}" GROUP BY "transactionid") p ON c."transactionid" = p."transactionid") m GROUP BY "year"`,
    );
    expect(statements.slice(8, 12)).toEqual([
      `DELETE FROM "contabyx"."tax" WHERE "transactionid" IN (SELECT "transactionid" FROM "archive_stage"."transactions__${RUN}")`,
      `DELETE FROM "contabyx"."transfers" WHERE "expense_transactionid" IN (SELECT "transactionid" FROM "archive_stage"."transactions__${RUN}")`,
      `DELETE FROM "contabyx"."transactions" WHERE "time" < TIMESTAMP '2026-01-01 00:00:00'`,
      `INSERT INTO "archive_meta"."runs" VALUES ('${RUN}', DATE '2026-01-01', 'staged', NULL)`,
    ]);
    expect(statements).toHaveLength(18);
    expect(statements[12]).toBe('DROP VIEW IF EXISTS "contabyx"."spectrum_transactions"');
  });

  test('a union view lists its columns, includes the stage table while a run is unfinished, and names published runs', () => {
    expect(
      sql.viewStatements(t('tax'), {
        stageRunId: RUN,
        publishedRuns: ['20250101T000000Z', '20240101T000000Z'],
      }),
    ).toEqual([
      'DROP VIEW IF EXISTS "contabyx"."spectrum_tax"',
      'CREATE VIEW "contabyx"."spectrum_tax" AS SELECT "transactionid", "taxtypeid", "fee" FROM "contabyx"."tax" ' +
        `UNION ALL SELECT "transactionid", "taxtypeid", "fee" FROM "archive_stage"."tax__${RUN}" ` +
        'UNION ALL SELECT CAST("transactionid" AS INTEGER) AS "transactionid", CAST("taxtypeid" AS INTEGER) AS "taxtypeid", ' +
        `CAST("fee" AS DOUBLE) AS "fee" FROM "ext_contabyx"."tax" WHERE "archive_run" IN ('20240101T000000Z', '20250101T000000Z')`,
    ]);
    expect(sql.viewStatements(t('tax'), { publishedRuns: [] })[1]).toBe(
      'CREATE VIEW "contabyx"."spectrum_tax" AS SELECT "transactionid", "taxtypeid", "fee" FROM "contabyx"."tax"',
    );
  });

  test('exports a stage table as Parquet partitioned by year, with a manifest', () => {
    expect(sql.unloadStatements(t('tax'), RUN, '/lake/p/tax/archive_run=x/')).toEqual([
      `COPY (SELECT "transactionid", "taxtypeid", "fee", "year" FROM "archive_stage"."tax__${RUN}") TO '/lake/p/tax/archive_run=x/' ` +
        '(FORMAT PARQUET, PARTITION_BY ("year"))',
      `COPY (SELECT file_name AS url, file_size_bytes AS bytes, num_rows AS "rows" FROM parquet_file_metadata('/lake/p/tax/archive_run=x/*/*.parquet')) ` +
        `TO '/lake/p/tax/archive_run=x/manifest' (FORMAT JSON)`,
    ]);
  });

  test('publishes in one transaction: views first, then the stage tables go, then the state', () => {
    const statements = sql.publishTransaction(RUN, () => [RUN]);
    expect(statements.slice(6)).toEqual([
      `DROP TABLE "archive_stage"."transactions__${RUN}"`,
      `DROP TABLE "archive_stage"."transfers__${RUN}"`,
      `DROP TABLE "archive_stage"."tax__${RUN}"`,
      `UPDATE "archive_meta"."runs" SET "state" = 'published', "error" = NULL WHERE "run_id" = '${RUN}'`,
    ]);
  });

  test('a TIMESTAMPTZ archive column is cut at the instant the year begins in the configured zone', () => {
    const berlin = parseConfig({
      ...contabyx,
      retention: { keepYears: 1, timeZone: 'Europe/Berlin' },
      tables: [{ ...contabyx.tables[0], columns: [{ name: 'time', type: 'timestamptz' }] }],
    });
    const statements = new ArchiveSql(berlin, duckdbDialect).stageTransaction(RUN, CUTOFF, () => []);
    expect(statements[2]).toBe(
      `CREATE TABLE "archive_stage"."transactions__${RUN}" AS SELECT "time", CAST(EXTRACT(YEAR FROM timezone('Europe/Berlin', "time")) AS INTEGER) ` +
        `AS "year" FROM "contabyx"."transactions" WHERE "time" < TIMESTAMPTZ '2025-12-31 23:00:00+00'`,
    );
  });

  test('records a failure as a literal that cannot break out of its quotes', () => {
    expect(sql.recordFailure(RUN, "it's\nbroken \u00e9")).toBe(
      `UPDATE "archive_meta"."runs" SET "error" = 'it''s broken  ' WHERE "run_id" = '${RUN}'`,
    );
  });
});
