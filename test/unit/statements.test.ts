import { parseConfig, tableNamed } from '../../src/config/config';
import { parseCalendarDate } from '../../src/core/cutoff';
import { duckdbDialect } from '../../src/sql/duckdb-dialect';
import { ArchiveSql, BatchKey } from '../../src/sql/statements';
import contabyx from '../../config/contabyx.json';

const config = parseConfig(contabyx);
const sql = new ArchiveSql(config, duckdbDialect);
const RUN = '20260101T000000Z';
const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const t = (name: string) => tableNamed(config, name);
const batch = (year: number, source: BatchKey['source'] = 'hot'): BatchKey => ({
  runId: RUN,
  cutoff: CUTOFF,
  year,
  source,
});

/** The rows of a transaction's children that the 2024 batch moves. */
const CHILD_OF_2024 = (fk: string) =>
  `"${fk}" IN (SELECT p1."transactionid" FROM "contabyx"."transactions" p1 WHERE p1."time" >= TIMESTAMP '2024-01-01 00:00:00' ` +
  `AND p1."time" < TIMESTAMP '2025-01-01 00:00:00') AND "${fk}" NOT IN (SELECT p1."transactionid" FROM "contabyx"."transactions" p1 ` +
  `WHERE p1."transactionid" IS NOT NULL AND (p1."time" IS NULL OR p1."time" < TIMESTAMP '2024-01-01 00:00:00' ` +
  `OR p1."time" >= TIMESTAMP '2026-01-01 00:00:00'))`;

/** The row hash of tax's columns, under their aliases in the checksum's derived table. */
const HASH_TAX = 'hash(q0, q1, q2)';

describe('the statements of a batch (DuckDB dialect)', () => {
  test('a root moves the rows of its year before the cutoff: a range on the bare column, NULLs never match', () => {
    expect(sql.deleteStatement(t('transactions'), batch(2024))).toBe(
      `DELETE FROM "contabyx"."transactions" WHERE "time" >= TIMESTAMP '2024-01-01 00:00:00' AND "time" < TIMESTAMP '2025-01-01 00:00:00'`,
    );
    // the last year ends at the cutoff, wherever in the year it is
    const july = { ...batch(2025), cutoff: parseCalendarDate('2025-07-01', 'test') };
    expect(sql.countQuery(t('transactions'), july)).toBe(
      `SELECT COUNT(*) AS row_count FROM "contabyx"."transactions" WHERE "time" >= TIMESTAMP '2025-01-01 00:00:00' AND "time" < TIMESTAMP '2025-07-01 00:00:00'`,
    );
  });

  test('a child goes with its parents of the year, unless a parent stays hot or belongs to an earlier year', () => {
    expect(sql.deleteStatement(t('transfers'), batch(2024))).toBe(
      `DELETE FROM "contabyx"."transfers" WHERE ${CHILD_OF_2024('expense_transactionid')}`,
    );
  });

  test('exports one table of a batch straight from the hot table into its partition folder, with a manifest at the root', () => {
    const root = `/lake/contabyx-parquet/tax/year=2024/archive_run=${RUN}/`;
    expect(sql.unloadStatements(t('tax'), batch(2024), root)).toEqual([
      `COPY (SELECT "transactionid", "taxtypeid", "fee" FROM "contabyx"."tax" WHERE ${CHILD_OF_2024('transactionid')}) ` +
        `TO '${root}year=2024/data_0.parquet' (FORMAT PARQUET)`,
      `COPY (SELECT file_name AS url, file_size_bytes AS bytes, num_rows AS "rows" FROM parquet_file_metadata('${root}year=2024/*.parquet')) ` +
        `TO '${root}manifest' (FORMAT JSON)`,
    ]);
  });

  test('reads a partition back through the external table, naming only that partition: rows and the checksum of one hash per row', () => {
    expect(sql.archiveFiguresQuery(t('tax'), batch(2024))).toBe(
      `SELECT COUNT(*) AS row_count, CAST(COALESCE(SUM(${HASH_TAX}), 0) AS VARCHAR) AS checksum FROM ` +
        `(SELECT "transactionid" q0,"taxtypeid" q1,"fee" q2 FROM (SELECT * FROM "ext_contabyx"."tax/none" UNION ALL ` +
        `SELECT * FROM "ext_contabyx"."tax/2024/${RUN}") WHERE "archive_run" = '${RUN}' AND "year" = 2024) r`,
    );
  });

  test('commits a family in one transaction: the version, a check per table, deletes children first, then the views', () => {
    const family = sql.families[0];
    const figures = new Map(family.map((table, i) => [table, { rows: 10 + i, checksum: `-${123 + i}` }]));
    const statements = sql.commitTransaction(family, batch(2024), 2, figures, 7, () => ({
      committed: [
        { runId: '20250101T000000Z', year: 2023 },
        { runId: RUN, year: 2024 },
      ],
    }));
    expect(statements).toHaveLength(10);
    expect(statements[0]).toBe(
      `UPDATE "archive_meta"."views_version" SET "version" = CASE WHEN "version" = 7 THEN 8 END`,
    );
    expect(statements[3]).toBe(
      `INSERT INTO "archive_meta"."commit_checks" ("run_id", "table_name", "year", "attempt", "row_count", "checksum", "passed") ` +
        `SELECT '${RUN}', 'tax', 2024, 2, h.n, h.s, CASE WHEN h.n = 12 AND h.s = '-125' AND b.n = 1 THEN 1 END ` +
        `FROM (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(${HASH_TAX}), 0) AS VARCHAR) AS s FROM (SELECT "transactionid" q0,` +
        `"taxtypeid" q1,"fee" q2 FROM "contabyx"."tax" WHERE ${CHILD_OF_2024('transactionid')} ` +
        'UNION ALL SELECT * FROM "contabyx"."tax" WHERE 1 = 0) r) h, ' +
        `(SELECT COUNT(*) AS n FROM "archive_meta"."batches" WHERE "run_id" = '${RUN}' AND "table_name" = 'tax' AND "year" = 2024 ` +
        `AND "attempt" = 2 AND "state" = 'verified' AND "row_count" = 12 AND "checksum" = '-125') b`,
    );
    expect(statements.slice(4, 7).map((s) => s.slice(0, 40))).toEqual([
      'DELETE FROM "contabyx"."tax" WHERE "tran',
      'DELETE FROM "contabyx"."transfers" WHERE',
      'DELETE FROM "contabyx"."transactions" WH',
    ]);
    expect(statements[9]).toBe(
      'CREATE OR REPLACE VIEW "contabyx"."spectrum_tax" AS SELECT "transactionid", "taxtypeid", "fee" FROM "contabyx"."tax" ' +
        'UNION ALL SELECT "transactionid"::INTEGER, "taxtypeid"::INTEGER, "fee"::DOUBLE ' +
        `FROM (SELECT * FROM "ext_contabyx"."tax/none" UNION ALL SELECT * FROM "ext_contabyx"."tax/2023/20250101T000000Z" ` +
        `UNION ALL SELECT * FROM "ext_contabyx"."tax/2024/${RUN}") WHERE ("archive_run" = '20250101T000000Z' AND "year" IN (2023)) ` +
        `OR ("archive_run" = '${RUN}' AND "year" IN (2024))`,
    );
  });

  test('a union view with no committed batch still reads the external table (its declared columns), which then yields nothing', () => {
    expect(sql.replaceView(t('tax'), { committed: [] })).toBe(
      'CREATE OR REPLACE VIEW "contabyx"."spectrum_tax" AS SELECT "transactionid", "taxtypeid", "fee" FROM "contabyx"."tax" ' +
        'UNION ALL SELECT "transactionid"::INTEGER, "taxtypeid"::INTEGER, "fee"::DOUBLE FROM (SELECT * FROM "ext_contabyx"."tax/none") WHERE 1 = 0',
    );
  });

  test('a v1 run being finished: its stage table is the source, and the view reads it until the end', () => {
    expect(sql.deleteStatement(t('tax'), batch(2024, 'stage'))).toBe(
      `DELETE FROM "archive_stage"."tax__${RUN}" WHERE "year" = 2024`,
    );
    expect(sql.replaceView(t('tax'), { committed: [], stageRunId: RUN })).toContain(
      `FROM "contabyx"."tax" UNION ALL SELECT "transactionid", "taxtypeid", "fee" FROM "archive_stage"."tax__${RUN}" UNION ALL`,
    );
    expect(sql.commitCheck(t('tax'), batch(2024, 'stage'), 1, { rows: 1, checksum: '2' })).not.toContain(
      'UNION ALL',
    );
  });

  test('starts a run in one transaction: the lock, the run, and every planned batch', () => {
    const planned = [
      { table: t('transactions'), year: 2024, rows: 5 },
      { table: t('tax'), year: 2024, rows: 0 },
    ];
    expect(sql.startTransaction(RUN, CUTOFF, planned)).toEqual([
      'CREATE TABLE "archive_meta"."active_run" ("run_id" VARCHAR(16) NOT NULL)',
      `INSERT INTO "archive_meta"."active_run" VALUES ('${RUN}')`,
      `INSERT INTO "archive_meta"."runs" ("run_id", "cutoff", "state", "error") VALUES ('${RUN}', DATE '2026-01-01', 'running', NULL)`,
      `INSERT INTO "archive_meta"."batches" ("run_id", "table_name", "family", "year", "source", "state", "attempt", "planned_rows", ` +
        `"location", "row_count", "checksum", "file_count", "byte_count", "columns", "error", "table_schema") ` +
        `VALUES ('${RUN}', 'transactions', 'transactions', 2024, 'hot', 'pending', 1, 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'contabyx'), ` +
        `('${RUN}', 'tax', 'transactions', 2024, 'hot', 'pending', 1, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'contabyx')`,
    ]);
  });

  test('abort discards what is not committed and raises the views version, so it never passes a commit it did not see', () => {
    expect(sql.abortTransaction(RUN, [{ table: t('tax'), year: 2025 }], 3)).toEqual([
      `UPDATE "archive_meta"."views_version" SET "version" = CASE WHEN "version" = 3 THEN 4 END`,
      `UPDATE "archive_meta"."batches" SET "state" = 'discarded' WHERE ("run_id" = '${RUN}' AND "table_name" = 'tax' AND "year" = 2025)`,
      'DROP TABLE "archive_meta"."active_run"',
      `UPDATE "archive_meta"."runs" SET "state" = 'aborted', "error" = NULL WHERE "run_id" = '${RUN}'`,
    ]);
  });

  test('a plan counts a root per year of the configured zone, and a child per batch year', () => {
    expect(sql.rootYearsQuery(t('transactions'), CUTOFF)).toBe(
      `SELECT CAST(EXTRACT(YEAR FROM "time") AS INTEGER) AS year, COUNT(*) AS row_count FROM "contabyx"."transactions" ` +
        `WHERE "time" < TIMESTAMP '2026-01-01 00:00:00' GROUP BY 1 ORDER BY 1`,
    );
    expect(sql.yearsQuery(t('tax'), [2024], CUTOFF)).toBe(
      `SELECT 2024 AS year, COUNT(*) AS row_count FROM "contabyx"."tax" WHERE ${CHILD_OF_2024('transactionid')}`,
    );
  });

  test('fails to render a figure that is not a whole number or a checksum', () => {
    expect(() => sql.commitCheck(t('tax'), batch(2024), 1, { rows: 1.5, checksum: '1' })).toThrow(
      'not a whole number: 1.5',
    );
    expect(() => sql.commitCheck(t('tax'), batch(2024), 1, { rows: 1, checksum: "1' OR '1" })).toThrow(
      "not a checksum: 1' OR '1",
    );
  });
});
