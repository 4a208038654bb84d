import { parseConfig } from '../../src/config/config';

// The same table name in two schemas (issue #21): `billing.payments`, archived as
// `billing_payments`, is the root of a family whose child is `sales.payments` (alias: its name).
// 399 payments, one every three days from 2023 on, each with one child row; and two child rows
// that never move (a NULL key, no parent).

/** The configuration, as its file holds it. */
export const PAYMENTS_FILE = {
  warehouse: { type: 'serverless', workgroupName: 'wg1', database: 'dev' },
  lake: { prefix: 'lake' },
  catalog: { database: 'shop', externalSchema: 'ext_shop' },
  views: { schema: 'reporting', prefix: 'v_' },
  retention: { keepYears: 1, timeZone: 'UTC' },
  tables: [
    {
      schema: 'billing',
      name: 'payments',
      alias: 'billing_payments',
      archiveBy: { column: 'paid' },
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'paid', type: 'date' },
        { name: 'amount', type: 'decimal(9,2)' },
      ],
    },
    {
      schema: 'sales',
      name: 'payments',
      archiveBy: { parent: 'billing_payments', foreignKey: 'billing_id', parentKey: 'id' },
      columns: [
        { name: 'billing_id', type: 'integer' },
        { name: 'channel', type: 'varchar(10)' },
      ],
    },
  ],
};

/** The configuration. */
export const PAYMENTS = parseConfig(PAYMENTS_FILE);

/** The hot tables and their rows. */
export const PAYMENTS_SEED = `
CREATE SCHEMA billing; CREATE SCHEMA sales;
CREATE TABLE billing.payments (id INTEGER, paid DATE, amount DECIMAL(9,2));
CREATE TABLE sales.payments (billing_id INTEGER, channel VARCHAR);
INSERT INTO billing.payments SELECT i, DATE '2023-01-01' + INTERVAL (i * 3) DAY, i * 1.25 FROM range(1, 400) r(i);
INSERT INTO sales.payments SELECT i, CASE WHEN i % 2 = 0 THEN 'web' ELSE 'shop' END FROM range(1, 400) r(i);
INSERT INTO sales.payments VALUES (NULL, 'orphan'), (9999, 'no parent');
`;
