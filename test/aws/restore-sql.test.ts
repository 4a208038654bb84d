import { parseConfig } from '../../src/config/config';
import { redshiftDialect } from '../../src/sql/redshift-dialect';
import { ArchiveSql } from '../../src/sql/statements';
import contabyx from '../../config/contabyx.json';

// The restore of a year on Redshift: one BatchExecuteStatement whose own checks fail it.
const config = parseConfig({ ...contabyx, tables: [contabyx.tables[0], contabyx.tables[2]] });
const sql = new ArchiveSql(config, redshiftDialect({ iamRoleArn: 'arn:aws:iam::123456789012:role/archive' }));
const [transactions, tax] = sql.tables;
const statements = sql.restoreTransaction({
  restoreId: 'R20261123T100000',
  family: [transactions, tax],
  year: 2024,
  batches: new Map([
    [
      transactions,
      [{ runId: '20260101T000000Z', figures: { rows: 120, checksum: '-12345678901234567890' } }],
    ],
    [
      tax,
      [
        { runId: '20260101T000000Z', figures: { rows: 40, checksum: '987' } },
        { runId: '20270101T000000Z', figures: { rows: 2, checksum: '13' } },
      ],
    ],
  ]),
  version: 7,
  views: (t) => ({ committed: t === transactions ? [{ runId: '20250101T000000Z', year: 2023 }] : [] }),
});

test('takes the run lock and raises the views version first, and gives the lock back last', () => {
  expect(statements.slice(0, 2)).toEqual([
    'CREATE TABLE "archive_meta"."active_run" ("run_id" VARCHAR(16) NOT NULL)',
    'UPDATE "archive_meta"."views_version" SET "version" = CASE WHEN "version" = 7 THEN 8 END',
  ]);
  expect(statements.at(-1)).toBe('DROP TABLE "archive_meta"."active_run"');
  expect(statements).toHaveLength(12);
});

test("inserts every batch of the year back, parents first, with the hot table's types", () => {
  expect(statements[4]).toBe(
    'INSERT INTO "contabyx"."transactions" ("transactionid", "clientid", "typeid", "time", "amount") SELECT ' +
      '"transactionid"::INTEGER, "clientid"::INTEGER, "typeid"::INTEGER, "time"::TIMESTAMP, "amount"::DOUBLE PRECISION ' +
      `FROM "ext_contabyx"."transactions" WHERE ("archive_run" = '20260101T000000Z' AND "year" IN (2024))`,
  );
  expect(statements[5]).toBe(
    'INSERT INTO "contabyx"."tax" ("transactionid", "taxtypeid", "fee") SELECT "transactionid"::INTEGER, ' +
      '"taxtypeid"::INTEGER, "fee"::DOUBLE PRECISION FROM "ext_contabyx"."tax" ' +
      `WHERE ("archive_run" = '20260101T000000Z' AND "year" IN (2024)) OR ("archive_run" = '20270101T000000Z' AND "year" IN (2024))`,
  );
});

test('fails the transaction by itself unless each table grew by the ledger figures of its batches', () => {
  // before: the whole table's figures, recorded; after: NULL into a NOT NULL column unless they add up
  const tax = 'SELECT "transactionid" q0,"taxtypeid" q1,"fee" q2 FROM "contabyx"."tax"';
  expect(statements[3]).toMatch(
    /^INSERT INTO "archive_meta"\."restore_checks" \("restore_id", "table_name", "year", "stage", "row_count", "checksum", "passed"\) SELECT 'R20261123T100000', 'tax', 2024, 'before', h\.n, h\.s, 1 FROM \(SELECT COUNT\(\*\) AS n, NVL\(SUM\(FNV_HASH\(.*::VARCHAR\(40\) AS s FROM \(/,
  );
  expect(statements[3]).toContain(`AS s FROM (${tax}) r) h`);
  expect(statements[7]).toContain(
    "SELECT 'R20261123T100000', 'tax', 2024, 'after', h.n, h.s, CASE WHEN h.n = b.row_count + 42 AND " +
      "CAST(h.s AS DECIMAL(38,0)) = CAST(b.checksum AS DECIMAL(38,0)) + CAST('1000' AS DECIMAL(38,0)) THEN 1 END",
  );
  expect(statements[7]).toContain(
    `(SELECT "row_count", "checksum" FROM "archive_meta"."restore_checks" WHERE "restore_id" = 'R20261123T100000' ` +
      `AND "table_name" = 'tax' AND "year" = 2024 AND "stage" = 'before') b`,
  );
  // with the column guard: a table that gained a column since the ledger was read fails it
  expect(statements[7]).toContain(
    `AS s FROM (${tax} UNION ALL SELECT * FROM "contabyx"."tax" WHERE 1 = 0) r) h, `,
  );
  expect(statements[6]).toContain("+ CAST('-12345678901234567890' AS DECIMAL(38,0)) THEN 1 END");
});

test('marks the batches restored and redefines the views without them, keeping their grants', () => {
  expect(statements[8]).toBe(
    `UPDATE "archive_meta"."batches" SET "state" = 'restored' WHERE ("run_id" = '20260101T000000Z' AND "table_name" = 'transactions' AND "year" = 2024) ` +
      `OR ("run_id" = '20260101T000000Z' AND "table_name" = 'tax' AND "year" = 2024) OR ("run_id" = '20270101T000000Z' AND "table_name" = 'tax' AND "year" = 2024)`,
  );
  expect(statements[9]).toMatch(
    /^CREATE OR REPLACE VIEW "contabyx"\."spectrum_transactions" AS .* WHERE \("archive_run" = '20250101T000000Z' AND "year" IN \(2023\)\) WITH NO SCHEMA BINDING$/,
  );
  expect(statements[10]).toMatch(
    /^CREATE OR REPLACE VIEW "contabyx"\."spectrum_tax" AS .* WHERE 1 = 0 WITH NO SCHEMA BINDING$/,
  );
});
