import { parseConfig, type ArchiveConfig } from '../../src/config/config';
import { legacyTable } from '../../src/protocol/legacy';

/** A configuration with `payments` in two schemas: billing's aliased as given, sales's as given. */
function twoPayments(aliases: { sales?: string; billing?: string }): ArchiveConfig {
  const table = (schema: string, alias?: string) => ({
    schema,
    name: 'payments',
    ...(alias === undefined ? {} : { alias }),
    archiveBy: { column: 'paid_at' },
    columns: [
      { name: 'id', type: 'integer' },
      { name: 'paid_at', type: 'timestamp' },
    ],
  });
  return parseConfig({
    warehouse: { type: 'serverless', workgroupName: 'archive-wg', database: 'dev' },
    lake: { prefix: 'archive' },
    catalog: { database: 'archive', externalSchema: 'archive_ext' },
    views: { schema: 'reporting', prefix: 'all_' },
    tables: [table('sales', aliases.sales), table('billing', aliases.billing)],
  });
}

describe("a protocol v1 ledger's table, where two schemas now hold its name", () => {
  test('is the table that keeps the name as its alias', () => {
    // given sales.payments keeps the alias "payments" and billing.payments is billing_payments
    const config = twoPayments({ billing: 'billing_payments' });
    // when v1's row for "payments" is matched, then it is sales.payments
    const table = legacyTable(config.tables, 'payments');
    expect([table?.schema, table?.alias]).toEqual(['sales', 'payments']);
    expect(legacyTable(config.tables, 'gone')).toBeUndefined();
  });

  test('fails when neither keeps the name, naming both tables and the alias one must keep', () => {
    const config = twoPayments({ sales: 'sales_payments', billing: 'billing_payments' });
    expect(() => legacyTable(config.tables, 'payments')).toThrow(
      'the protocol v1 ledger archived a table "payments", and sales.payments (alias "sales_payments") and ' +
        'billing.payments (alias "billing_payments") are named so; allowed: the alias "payments" on the one v1 ' +
        'archived (v1\'s Glue table and lake folder are named "payments"); nothing was changed',
    );
  });
});
