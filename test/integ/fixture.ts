import { parseConfig, type ArchiveConfig } from '../../src/config/config';

/**
 * What the integration tests deploy on the user's account and what they assert: a warehouse
 * (Serverless or a provisioned cluster) holding a small family of two tables over three past
 * years and the current one.
 * Names are fixed, so one such test runs per account and Region at a time.
 */
export const INTEG = {
  workgroup: 'redshift-archive-integ',
  namespace: 'redshift-archive-integ',
  cluster: 'redshift-archive-integ',
  database: 'dev',
  /** The one IAM role both functions that send SQL use: its database user is `IAMR:<name>`. */
  dataApiRole: 'redshift-archive-integ-data-api',
  adminUser: 'archive_admin',
  /** A reader of the union views (`views.readers`), granted by the deploy. */
  reader: 'integ_reader',
  schema: 'integ',
  /** Orders per year; each order has two lines. */
  ordersPerYear: 100,
  /** Three past years are archived; the current one stays hot. */
  pastYears: 3,
} as const;

/** Rows of the seed: orders of every year, and their lines. */
export const SEEDED = {
  orders: INTEG.ordersPerYear * (INTEG.pastYears + 1),
  lines: 2 * INTEG.ordersPerYear * (INTEG.pastYears + 1),
  /** What the run archives: the orders and lines of the past years. */
  archived: 3 * INTEG.ordersPerYear * INTEG.pastYears,
} as const;

/** The configuration the test deploys the archive with. */
export const INTEG_CONFIG: ArchiveConfig = parseConfig(
  {
    warehouse: { type: 'serverless', workgroupName: INTEG.workgroup, database: INTEG.database },
    lake: { prefix: 'integ-parquet' },
    catalog: { database: 'redshift_archive_integ', externalSchema: 'ext_integ' },
    views: { schema: INTEG.schema, prefix: 'all_', readers: [`user ${INTEG.reader}`] },
    tables: [
      {
        schema: INTEG.schema,
        name: 'orders',
        archiveBy: { column: 'ordered_at' },
        columns: [
          { name: 'order_id', type: 'integer' },
          { name: 'ordered_at', type: 'timestamp' },
          { name: 'total', type: 'decimal(12,2)' },
        ],
      },
      {
        schema: INTEG.schema,
        name: 'order_lines',
        archiveBy: { parent: 'orders', foreignKey: 'order_id', parentKey: 'order_id' },
        columns: [
          { name: 'line_id', type: 'integer' },
          { name: 'order_id', type: 'integer' },
          { name: 'sku', type: 'varchar(32)' },
          { name: 'quantity', type: 'integer' },
        ],
      },
    ],
  },
  'the integration test configuration',
);

/** 0 to 99 as a relation: Redshift's generate_series runs on the leader node only, so no INSERT may read it. */
const HUNDRED =
  '(SELECT t.n * 10 + u.n AS n FROM ' +
  `(${[...Array(10).keys()].map((i) => `SELECT ${i} AS n`).join(' UNION ALL ')}) t, ` +
  `(${[...Array(10).keys()].map((i) => `SELECT ${i} AS n`).join(' UNION ALL ')}) u)`;

/** The years before the current one (k = 1 to 3) and the current one (k = 0). */
const YEARS = `(${[...Array(INTEG.pastYears + 1).keys()].map((k) => `SELECT ${k} AS k`).join(' UNION ALL ')})`;

/**
 * The seed, as the warehouse's admin runs it in one transaction: the database users, the tables
 * and their rows (dates relative to the deploy's own year, so the snapshot does not age), and
 * exactly the privileges the README's "The database identity" lists for the stack's user
 * (`IAMR:<role>` on Serverless, the configured `dbUser` on a cluster).
 */
export function seedStatements(databaseUser: string): string[] {
  const user = `"${databaseUser}"`;
  const orders = `"${INTEG.schema}"."orders"`;
  const lines = `"${INTEG.schema}"."order_lines"`;
  return [
    `CREATE USER ${user} PASSWORD DISABLE`,
    `CREATE USER "${INTEG.reader}" PASSWORD DISABLE`,
    `CREATE SCHEMA "${INTEG.schema}"`,
    `CREATE TABLE ${orders} ("order_id" INTEGER, "ordered_at" TIMESTAMP, "total" DECIMAL(12,2))`,
    `CREATE TABLE ${lines} ("line_id" INTEGER, "order_id" INTEGER, "sku" VARCHAR(32), "quantity" INTEGER)`,
    // order k * 1000 + n of the year k years back, on its n-th day
    `INSERT INTO ${orders} SELECT y.k * 1000 + h.n, DATEADD(day, h.n, DATEADD(year, -y.k, DATE_TRUNC('year', GETDATE()))), ` +
      `CAST(h.n AS DECIMAL(12,2)) + 0.5 FROM ${YEARS} y, ${HUNDRED} h`,
    `INSERT INTO ${lines} SELECT o."order_id" * 2 + s.i, o."order_id", 'sku-' || CAST(s.i AS VARCHAR(4)), s.i + 1 ` +
      `FROM ${orders} o, (SELECT 0 AS i UNION ALL SELECT 1 AS i) s`,
    `GRANT CREATE ON DATABASE "${INTEG.database}" TO ${user}`,
    `GRANT TEMP ON DATABASE "${INTEG.database}" TO ${user}`,
    `GRANT USAGE, CREATE ON SCHEMA "${INTEG.schema}" TO ${user}`,
    `GRANT SELECT, DELETE ON ${orders}, ${lines} TO ${user}`,
    `ALTER TABLE ${orders} OWNER TO ${user}`,
    `ALTER TABLE ${lines} OWNER TO ${user}`,
    // plan's warehouse sizes: SVV_TABLE_INFO shows only superusers and those granted SELECT on it
    `GRANT SELECT ON svv_table_info TO ${user}`,
    // Spectrum reads through the union views need TEMP, which the deploy does not grant readers
    `GRANT TEMP ON DATABASE "${INTEG.database}" TO "${INTEG.reader}"`,
  ];
}
