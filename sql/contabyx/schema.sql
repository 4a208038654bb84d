-- The contabyx sample schema. Portable: it runs on Redshift and on the embedded DuckDB engine.
-- On Redshift, add SORTKEY ("time") to transactions: the archive predicate `"time" < cutoff`
-- then skips whole blocks through zone maps.
CREATE SCHEMA IF NOT EXISTS contabyx;

CREATE TABLE contabyx.clients (
  clientid INTEGER NOT NULL,
  name VARCHAR(100) NOT NULL
);

CREATE TABLE contabyx.transactions (
  transactionid INTEGER,
  clientid INTEGER,
  typeid INTEGER,
  "time" TIMESTAMP,
  amount DOUBLE PRECISION
);

CREATE TABLE contabyx.transfers (
  transferid INTEGER,
  expense_transactionid INTEGER,
  income_transactionid INTEGER
);

CREATE TABLE contabyx.tax (
  transactionid INTEGER,
  taxtypeid INTEGER,
  fee DOUBLE PRECISION
);
