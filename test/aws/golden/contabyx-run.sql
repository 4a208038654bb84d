-- redshift-archive.setup.ledger (one transaction)
CREATE SCHEMA IF NOT EXISTS "archive_meta";
CREATE SCHEMA IF NOT EXISTS "archive_stage";
CREATE SCHEMA IF NOT EXISTS "contabyx";
CREATE TABLE IF NOT EXISTS "archive_meta"."runs" ("run_id" VARCHAR(16) NOT NULL, "cutoff" DATE NOT NULL, "state" VARCHAR(16) NOT NULL, "error" VARCHAR(1024));
CREATE TABLE IF NOT EXISTS "archive_meta"."run_years" ("run_id" VARCHAR(16) NOT NULL, "table_name" VARCHAR(127) NOT NULL, "year" INTEGER NOT NULL, "row_count" BIGINT NOT NULL, "checksum" VARCHAR(65535) NOT NULL);
CREATE TABLE IF NOT EXISTS "archive_meta"."run_exports" ("run_id" VARCHAR(16) NOT NULL, "table_name" VARCHAR(127) NOT NULL, "location" VARCHAR(1024) NOT NULL, "file_count" INTEGER NOT NULL, "byte_count" BIGINT NOT NULL, "row_count" BIGINT NOT NULL, "year_files" VARCHAR(65535) NOT NULL);

-- redshift-archive.ledger.runs (read)
SELECT "run_id" AS run_id, CAST("cutoff" AS VARCHAR(10)) AS cutoff, "state" AS state, "error" AS error FROM "archive_meta"."runs" ORDER BY "run_id";

-- redshift-archive.ledger.years (read)
SELECT "run_id" AS run_id, "table_name" AS table_name, "year" AS year, "row_count" AS row_count, "checksum" AS checksum FROM "archive_meta"."run_years" ORDER BY "run_id", "table_name", "year";

-- redshift-archive.plan.transactions (read)
SELECT "year" AS year, COUNT(*) AS row_count FROM (SELECT "transactionid", "clientid", "typeid", "time", "amount", CAST(EXTRACT(YEAR FROM "time") AS INTEGER) AS "year" FROM "contabyx"."transactions" WHERE "time" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)) m GROUP BY "year" ORDER BY "year";

-- redshift-archive.plan.transactions.nulls (read)
SELECT COUNT(*) AS row_count FROM "contabyx"."transactions" WHERE "time" IS NULL;

-- redshift-archive.plan.transfers (read)
SELECT "year" AS year, COUNT(*) AS row_count FROM (SELECT c."transferid", c."expense_transactionid", c."income_transactionid", p."year" FROM "contabyx"."transfers" c JOIN (SELECT "transactionid", MIN("year") AS "year" FROM (SELECT "transactionid", "clientid", "typeid", "time", "amount", CAST(EXTRACT(YEAR FROM "time") AS INTEGER) AS "year" FROM "contabyx"."transactions" WHERE "time" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)) m_transactions GROUP BY "transactionid") p ON c."expense_transactionid" = p."transactionid") m GROUP BY "year" ORDER BY "year";

-- redshift-archive.plan.tax (read)
SELECT "year" AS year, COUNT(*) AS row_count FROM (SELECT c."transactionid", c."taxtypeid", c."fee", p."year" FROM "contabyx"."tax" c JOIN (SELECT "transactionid", MIN("year") AS "year" FROM (SELECT "transactionid", "clientid", "typeid", "time", "amount", CAST(EXTRACT(YEAR FROM "time") AS INTEGER) AS "year" FROM "contabyx"."transactions" WHERE "time" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)) m_transactions GROUP BY "transactionid") p ON c."transactionid" = p."transactionid") m GROUP BY "year" ORDER BY "year";

-- redshift-archive.20260101T000000Z.stage (one transaction)
CREATE TABLE "archive_meta"."active_run" ("run_id" VARCHAR(16) NOT NULL);
INSERT INTO "archive_meta"."active_run" VALUES ('20260101T000000Z');
CREATE TABLE "archive_stage"."transactions__20260101T000000Z" AS SELECT "transactionid", "clientid", "typeid", "time", "amount", CAST(EXTRACT(YEAR FROM "time") AS INTEGER) AS "year" FROM "contabyx"."transactions" WHERE "time" < CAST('2026-01-01 00:00:00' AS TIMESTAMP);
CREATE TABLE "archive_stage"."transfers__20260101T000000Z" AS SELECT c."transferid", c."expense_transactionid", c."income_transactionid", p."year" FROM "contabyx"."transfers" c JOIN (SELECT "transactionid", MIN("year") AS "year" FROM "archive_stage"."transactions__20260101T000000Z" GROUP BY "transactionid") p ON c."expense_transactionid" = p."transactionid";
CREATE TABLE "archive_stage"."tax__20260101T000000Z" AS SELECT c."transactionid", c."taxtypeid", c."fee", p."year" FROM "contabyx"."tax" c JOIN (SELECT "transactionid", MIN("year") AS "year" FROM "archive_stage"."transactions__20260101T000000Z" GROUP BY "transactionid") p ON c."transactionid" = p."transactionid";
INSERT INTO "archive_meta"."run_years" SELECT '20260101T000000Z', 'transactions', "year", COUNT(*), CAST(COUNT("transactionid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("transactionid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("clientid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("clientid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("typeid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("typeid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("time") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("time") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("amount") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("amount") AS DECIMAL(38,0))), 0) AS VARCHAR) FROM (SELECT "transactionid", "clientid", "typeid", "time", "amount", CAST(EXTRACT(YEAR FROM "time") AS INTEGER) AS "year" FROM "contabyx"."transactions" WHERE "time" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)) m GROUP BY "year";
INSERT INTO "archive_meta"."run_years" SELECT '20260101T000000Z', 'transfers', "year", COUNT(*), CAST(COUNT("transferid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("transferid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("expense_transactionid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("expense_transactionid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("income_transactionid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("income_transactionid") AS DECIMAL(38,0))), 0) AS VARCHAR) FROM (SELECT c."transferid", c."expense_transactionid", c."income_transactionid", p."year" FROM "contabyx"."transfers" c JOIN (SELECT "transactionid", MIN("year") AS "year" FROM "archive_stage"."transactions__20260101T000000Z" GROUP BY "transactionid") p ON c."expense_transactionid" = p."transactionid") m GROUP BY "year";
INSERT INTO "archive_meta"."run_years" SELECT '20260101T000000Z', 'tax', "year", COUNT(*), CAST(COUNT("transactionid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("transactionid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("taxtypeid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("taxtypeid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("fee") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("fee") AS DECIMAL(38,0))), 0) AS VARCHAR) FROM (SELECT c."transactionid", c."taxtypeid", c."fee", p."year" FROM "contabyx"."tax" c JOIN (SELECT "transactionid", MIN("year") AS "year" FROM "archive_stage"."transactions__20260101T000000Z" GROUP BY "transactionid") p ON c."transactionid" = p."transactionid") m GROUP BY "year";
DELETE FROM "contabyx"."tax" WHERE "transactionid" IN (SELECT "transactionid" FROM "archive_stage"."transactions__20260101T000000Z");
DELETE FROM "contabyx"."transfers" WHERE "expense_transactionid" IN (SELECT "transactionid" FROM "archive_stage"."transactions__20260101T000000Z");
DELETE FROM "contabyx"."transactions" WHERE "time" < CAST('2026-01-01 00:00:00' AS TIMESTAMP);
INSERT INTO "archive_meta"."runs" VALUES ('20260101T000000Z', DATE '2026-01-01', 'staged', NULL);
DROP VIEW IF EXISTS "contabyx"."spectrum_transactions";
CREATE VIEW "contabyx"."spectrum_transactions" AS SELECT "transactionid", "clientid", "typeid", "time", "amount" FROM "contabyx"."transactions" UNION ALL SELECT "transactionid", "clientid", "typeid", "time", "amount" FROM "archive_stage"."transactions__20260101T000000Z" WITH NO SCHEMA BINDING;
DROP VIEW IF EXISTS "contabyx"."spectrum_transfers";
CREATE VIEW "contabyx"."spectrum_transfers" AS SELECT "transferid", "expense_transactionid", "income_transactionid" FROM "contabyx"."transfers" UNION ALL SELECT "transferid", "expense_transactionid", "income_transactionid" FROM "archive_stage"."transfers__20260101T000000Z" WITH NO SCHEMA BINDING;
DROP VIEW IF EXISTS "contabyx"."spectrum_tax";
CREATE VIEW "contabyx"."spectrum_tax" AS SELECT "transactionid", "taxtypeid", "fee" FROM "contabyx"."tax" UNION ALL SELECT "transactionid", "taxtypeid", "fee" FROM "archive_stage"."tax__20260101T000000Z" WITH NO SCHEMA BINDING;

-- redshift-archive.ledger.runs (read)
SELECT "run_id" AS run_id, CAST("cutoff" AS VARCHAR(10)) AS cutoff, "state" AS state, "error" AS error FROM "archive_meta"."runs" ORDER BY "run_id";

-- redshift-archive.ledger.years (read)
SELECT "run_id" AS run_id, "table_name" AS table_name, "year" AS year, "row_count" AS row_count, "checksum" AS checksum FROM "archive_meta"."run_years" ORDER BY "run_id", "table_name", "year";

-- redshift-archive.20260101T000000Z.ledger.exports (read)
SELECT "table_name" AS table_name, "location" AS location, "file_count" AS file_count, "byte_count" AS byte_count, "row_count" AS row_count, "year_files" AS year_files FROM "archive_meta"."run_exports" WHERE "run_id" = '20260101T000000Z';

-- redshift-archive.20260101T000000Z.export.transactions
UNLOAD ('SELECT "transactionid", "clientid", "typeid", "time", "amount", "year" FROM "archive_stage"."transactions__20260101T000000Z"') TO 's3://contabyx-archive-lake/contabyx-parquet/transactions/archive_run=20260101T000000Z/' IAM_ROLE 'arn:aws:iam::123456789012:role/contabyx-archive-redshift' FORMAT AS PARQUET PARTITION BY ("year") MANIFEST VERBOSE;

-- redshift-archive.20260101T000000Z.export.transactions
INSERT INTO "archive_meta"."run_exports" VALUES ('20260101T000000Z', 'transactions', 's3://contabyx-archive-lake/contabyx-parquet/transactions/archive_run=20260101T000000Z/', 3, 8821, 369, '{"2023":{"files":1,"bytes":2936},"2024":{"files":1,"bytes":2947},"2025":{"files":1,"bytes":2938}}');

-- redshift-archive.20260101T000000Z.export.transfers
UNLOAD ('SELECT "transferid", "expense_transactionid", "income_transactionid", "year" FROM "archive_stage"."transfers__20260101T000000Z"') TO 's3://contabyx-archive-lake/contabyx-parquet/transfers/archive_run=20260101T000000Z/' IAM_ROLE 'arn:aws:iam::123456789012:role/contabyx-archive-redshift' FORMAT AS PARQUET PARTITION BY ("year") MANIFEST VERBOSE;

-- redshift-archive.20260101T000000Z.export.transfers
INSERT INTO "archive_meta"."run_exports" VALUES ('20260101T000000Z', 'transfers', 's3://contabyx-archive-lake/contabyx-parquet/transfers/archive_run=20260101T000000Z/', 3, 3677, 184, '{"2023":{"files":1,"bytes":1208},"2024":{"files":1,"bytes":1247},"2025":{"files":1,"bytes":1222}}');

-- redshift-archive.20260101T000000Z.export.tax
UNLOAD ('SELECT "transactionid", "taxtypeid", "fee", "year" FROM "archive_stage"."tax__20260101T000000Z"') TO 's3://contabyx-archive-lake/contabyx-parquet/tax/archive_run=20260101T000000Z/' IAM_ROLE 'arn:aws:iam::123456789012:role/contabyx-archive-redshift' FORMAT AS PARQUET PARTITION BY ("year") MANIFEST VERBOSE;

-- redshift-archive.20260101T000000Z.export.tax
INSERT INTO "archive_meta"."run_exports" VALUES ('20260101T000000Z', 'tax', 's3://contabyx-archive-lake/contabyx-parquet/tax/archive_run=20260101T000000Z/', 3, 2713, 123, '{"2023":{"files":1,"bytes":912},"2024":{"files":1,"bytes":903},"2025":{"files":1,"bytes":898}}');

-- redshift-archive.20260101T000000Z.ledger.exports (read)
SELECT "table_name" AS table_name, "location" AS location, "file_count" AS file_count, "byte_count" AS byte_count, "row_count" AS row_count, "year_files" AS year_files FROM "archive_meta"."run_exports" WHERE "run_id" = '20260101T000000Z';

-- redshift-archive.20260101T000000Z.verify.transactions (read)
SELECT "year" AS year, COUNT(*) AS row_count, CAST(COUNT("transactionid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("transactionid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("clientid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("clientid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("typeid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("typeid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("time") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("time") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("amount") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("amount") AS DECIMAL(38,0))), 0) AS VARCHAR) AS checksum FROM (SELECT CAST("transactionid" AS INTEGER) AS "transactionid", CAST("clientid" AS INTEGER) AS "clientid", CAST("typeid" AS INTEGER) AS "typeid", CAST("time" AS TIMESTAMP) AS "time", CAST("amount" AS DOUBLE PRECISION) AS "amount", "year" FROM "ext_contabyx"."transactions" WHERE "archive_run" = '20260101T000000Z') s GROUP BY "year" ORDER BY "year";

-- redshift-archive.20260101T000000Z.verify.transfers (read)
SELECT "year" AS year, COUNT(*) AS row_count, CAST(COUNT("transferid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("transferid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("expense_transactionid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("expense_transactionid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("income_transactionid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("income_transactionid") AS DECIMAL(38,0))), 0) AS VARCHAR) AS checksum FROM (SELECT CAST("transferid" AS INTEGER) AS "transferid", CAST("expense_transactionid" AS INTEGER) AS "expense_transactionid", CAST("income_transactionid" AS INTEGER) AS "income_transactionid", "year" FROM "ext_contabyx"."transfers" WHERE "archive_run" = '20260101T000000Z') s GROUP BY "year" ORDER BY "year";

-- redshift-archive.20260101T000000Z.verify.tax (read)
SELECT "year" AS year, COUNT(*) AS row_count, CAST(COUNT("transactionid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("transactionid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("taxtypeid") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("taxtypeid") AS DECIMAL(38,0))), 0) AS VARCHAR) || '|' || CAST(COUNT("fee") AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(FNV_HASH("fee") AS DECIMAL(38,0))), 0) AS VARCHAR) AS checksum FROM (SELECT CAST("transactionid" AS INTEGER) AS "transactionid", CAST("taxtypeid" AS INTEGER) AS "taxtypeid", CAST("fee" AS DOUBLE PRECISION) AS "fee", "year" FROM "ext_contabyx"."tax" WHERE "archive_run" = '20260101T000000Z') s GROUP BY "year" ORDER BY "year";

-- redshift-archive.20260101T000000Z.verify
UPDATE "archive_meta"."runs" SET "state" = 'verified', "error" = NULL WHERE "run_id" = '20260101T000000Z';

-- redshift-archive.ledger.runs (read)
SELECT "run_id" AS run_id, CAST("cutoff" AS VARCHAR(10)) AS cutoff, "state" AS state, "error" AS error FROM "archive_meta"."runs" ORDER BY "run_id";

-- redshift-archive.ledger.years (read)
SELECT "run_id" AS run_id, "table_name" AS table_name, "year" AS year, "row_count" AS row_count, "checksum" AS checksum FROM "archive_meta"."run_years" ORDER BY "run_id", "table_name", "year";

-- redshift-archive.20260101T000000Z.publish (one transaction)
DROP VIEW IF EXISTS "contabyx"."spectrum_transactions";
CREATE VIEW "contabyx"."spectrum_transactions" AS SELECT "transactionid", "clientid", "typeid", "time", "amount" FROM "contabyx"."transactions" UNION ALL SELECT CAST("transactionid" AS INTEGER) AS "transactionid", CAST("clientid" AS INTEGER) AS "clientid", CAST("typeid" AS INTEGER) AS "typeid", CAST("time" AS TIMESTAMP) AS "time", CAST("amount" AS DOUBLE PRECISION) AS "amount" FROM "ext_contabyx"."transactions" WHERE "archive_run" IN ('20260101T000000Z') WITH NO SCHEMA BINDING;
DROP VIEW IF EXISTS "contabyx"."spectrum_transfers";
CREATE VIEW "contabyx"."spectrum_transfers" AS SELECT "transferid", "expense_transactionid", "income_transactionid" FROM "contabyx"."transfers" UNION ALL SELECT CAST("transferid" AS INTEGER) AS "transferid", CAST("expense_transactionid" AS INTEGER) AS "expense_transactionid", CAST("income_transactionid" AS INTEGER) AS "income_transactionid" FROM "ext_contabyx"."transfers" WHERE "archive_run" IN ('20260101T000000Z') WITH NO SCHEMA BINDING;
DROP VIEW IF EXISTS "contabyx"."spectrum_tax";
CREATE VIEW "contabyx"."spectrum_tax" AS SELECT "transactionid", "taxtypeid", "fee" FROM "contabyx"."tax" UNION ALL SELECT CAST("transactionid" AS INTEGER) AS "transactionid", CAST("taxtypeid" AS INTEGER) AS "taxtypeid", CAST("fee" AS DOUBLE PRECISION) AS "fee" FROM "ext_contabyx"."tax" WHERE "archive_run" IN ('20260101T000000Z') WITH NO SCHEMA BINDING;
DROP TABLE "archive_stage"."transactions__20260101T000000Z";
DROP TABLE "archive_stage"."transfers__20260101T000000Z";
DROP TABLE "archive_stage"."tax__20260101T000000Z";
UPDATE "archive_meta"."runs" SET "state" = 'published', "error" = NULL WHERE "run_id" = '20260101T000000Z';

-- redshift-archive.ledger.runs (read)
SELECT "run_id" AS run_id, CAST("cutoff" AS VARCHAR(10)) AS cutoff, "state" AS state, "error" AS error FROM "archive_meta"."runs" ORDER BY "run_id";

-- redshift-archive.ledger.years (read)
SELECT "run_id" AS run_id, "table_name" AS table_name, "year" AS year, "row_count" AS row_count, "checksum" AS checksum FROM "archive_meta"."run_years" ORDER BY "run_id", "table_name", "year";

-- redshift-archive.20260101T000000Z.finish.maintenance
VACUUM DELETE ONLY "contabyx"."transactions";

-- redshift-archive.20260101T000000Z.finish.maintenance
ANALYZE "contabyx"."transactions";

-- redshift-archive.20260101T000000Z.finish.maintenance
VACUUM DELETE ONLY "contabyx"."transfers";

-- redshift-archive.20260101T000000Z.finish.maintenance
ANALYZE "contabyx"."transfers";

-- redshift-archive.20260101T000000Z.finish.maintenance
VACUUM DELETE ONLY "contabyx"."tax";

-- redshift-archive.20260101T000000Z.finish.maintenance
ANALYZE "contabyx"."tax";

-- redshift-archive.20260101T000000Z.ledger.exports (read)
SELECT "table_name" AS table_name, "location" AS location, "file_count" AS file_count, "byte_count" AS byte_count, "row_count" AS row_count, "year_files" AS year_files FROM "archive_meta"."run_exports" WHERE "run_id" = '20260101T000000Z';

-- redshift-archive.20260101T000000Z.finish (one transaction)
DROP TABLE "archive_meta"."active_run";
UPDATE "archive_meta"."runs" SET "state" = 'finished', "error" = NULL WHERE "run_id" = '20260101T000000Z';

-- redshift-archive.ledger.runs (read)
SELECT "run_id" AS run_id, CAST("cutoff" AS VARCHAR(10)) AS cutoff, "state" AS state, "error" AS error FROM "archive_meta"."runs" ORDER BY "run_id";

-- redshift-archive.ledger.years (read)
SELECT "run_id" AS run_id, "table_name" AS table_name, "year" AS year, "row_count" AS row_count, "checksum" AS checksum FROM "archive_meta"."run_years" ORDER BY "run_id", "table_name", "year";

-- redshift-archive.20260101T000000Z.ledger.exports (read)
SELECT "table_name" AS table_name, "location" AS location, "file_count" AS file_count, "byte_count" AS byte_count, "row_count" AS row_count, "year_files" AS year_files FROM "archive_meta"."run_exports" WHERE "run_id" = '20260101T000000Z';
