-- Deterministic contabyx sample data for the embedded engine (DuckDB), after schema.sql.
-- Set the year the data ends in first:  SET VARIABLE current_year = 2026;
-- Values come from hash(), not random(), so every run generates the same rows.
-- What it holds: 120,000 transactions over the four years before the current one and the
-- current one, a few with NULL or next-year timestamps, a few duplicated transaction ids in
-- other years, and transfers and tax rows that point at them (a few transfers at no transaction).

INSERT INTO contabyx.clients
SELECT i, 'client ' || i || CASE WHEN i % 97 = 0 THEN ' (Société d''Épargne)' ELSE '' END
FROM range(1, 2001) r(i);

INSERT INTO contabyx.transactions
SELECT
  i,
  CAST(1 + hash(i, 'client') % 2000 AS INTEGER),
  CAST(1 + hash(i, 'type') % 6 AS INTEGER),
  CASE
    WHEN i % 20011 = 0 THEN NULL
    WHEN i % 30011 = 0 THEN make_timestamp(getvariable('current_year') + 1, 3, 1, 12, 0, 0)
    ELSE make_timestamp(getvariable('current_year') - 4, 1, 1, 0, 0, 0)
         + to_seconds(CAST(hash(i, 'time') % (5 * 365 * 86400) AS BIGINT))
  END,
  round(CAST(hash(i, 'amount') % 1000000 AS DOUBLE) / 100.0, 2)
FROM range(1, 120001) r(i);

-- The same transaction id a second time, about a year later: parents with duplicate keys.
INSERT INTO contabyx.transactions
SELECT transactionid, clientid, typeid, "time" + INTERVAL 400 DAY, amount + 1
FROM contabyx.transactions
WHERE transactionid % 10007 = 0 AND "time" IS NOT NULL;

INSERT INTO contabyx.transfers
SELECT i, CAST(1 + hash(i, 'expense') % 120000 AS INTEGER), CAST(1 + hash(i, 'income') % 120000 AS INTEGER)
FROM range(1, 40001) r(i);

-- Transfers whose expense transaction does not exist: they stay hot.
INSERT INTO contabyx.transfers
SELECT 40000 + i, 900000 + i, 1
FROM range(1, 11) r(i);

INSERT INTO contabyx.tax
SELECT CAST(1 + hash(i, 'taxed') % 120000 AS INTEGER), CAST(1 + i % 4 AS INTEGER),
       round(CAST(hash(i, 'fee') % 5000 AS DOUBLE) / 100.0, 2)
FROM range(1, 60001) r(i);
