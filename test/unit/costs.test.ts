import { parseConfig } from '../../src/config/config';
import { DEFAULT_PRICES, pricesOf } from '../../src/config/prices';
import { savings, tableSizes, totalSavings, warehouseShare } from '../../src/protocol/costs';
import contabyx from '../../config/contabyx.json';

const TIB = 1024 ** 4;
const cents = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);

describe('what bytes cost a year', () => {
  test('1 TiB that leaves the warehouse for Standard-IA saves $294.91 and costs $153.60 a year, and a deep audit of it $15.24 (the research tables, us-east-1 2026-11)', () => {
    const s = savings(TIB, { bytes: TIB, basis: 'measured' }, DEFAULT_PRICES);
    expect(
      [s.warehouseDollarsPerYear, s.lakeDollarsPerYear, s.netDollarsPerYear, s.deepAuditDollars].map(cents),
    ).toEqual([294.91, 153.6, 141.31, 15.24]);
  });

  test('a figure that is unknown leaves the dollars that need it unknown, and the total with it', () => {
    const unknown = savings(null, { bytes: 1024, basis: 'earlier batches' }, DEFAULT_PRICES);
    expect([unknown.warehouseDollarsPerYear, unknown.netDollarsPerYear]).toEqual([null, null]);
    expect(unknown.lakeDollarsPerYear).toBeGreaterThan(0);
    const known = savings(2048, { bytes: 1024, basis: 'measured' }, DEFAULT_PRICES);
    expect(totalSavings([known, unknown], DEFAULT_PRICES)).toMatchObject({
      warehouseBytes: null,
      lakeBytes: 2048,
      lakeBasis: 'mixed',
      netDollarsPerYear: null,
    });
  });

  test("the warehouse's bytes of the rows that leave: its size scaled by their share, never more than the table", () => {
    const sizes = tableSizes([
      { table_schema: 'Sales', table_name: 'Orders', bytes: '1048576000', row_count: '1000' },
      // no figure for an empty table, or one not on disk yet
      { table_schema: 'sales', table_name: 'lines', bytes: '0', row_count: '10' },
    ]);
    expect([...sizes.keys()]).toEqual(['sales.orders']);
    expect(warehouseShare(sizes.get('sales.orders'), 250)).toBe(262_144_000);
    expect(warehouseShare(sizes.get('sales.orders'), 5000)).toBe(1_048_576_000);
    expect(warehouseShare(sizes.get('sales.lines'), 5)).toBeUndefined();
  });
});

describe('the prices key of the configuration', () => {
  test("left out, us-east-1 list prices with the lifecycle rule's Standard-IA; each price given replaces its default", () => {
    expect(pricesOf(parseConfig(contabyx))).toEqual(DEFAULT_PRICES);
    const glacier = parseConfig({ ...contabyx, prices: { lakeGbMonth: 0.004, retrievalPerGb: 0.03 } });
    expect(pricesOf(glacier)).toEqual({
      ...DEFAULT_PRICES,
      lakeGbMonth: 0.004,
      retrievalPerGb: 0.03,
      source: 'the configuration, defaults for the rest',
    });
  });

  test('fails for a negative price or an unknown key, naming the field', () => {
    expect(() => parseConfig({ ...contabyx, prices: { scanPerTb: -5, egress: 1 } }, 'app.json')).toThrow(
      'app.json: invalid configuration\n' +
        '  prices.scanPerTb: -5 is not allowed; allowed: at least 0\n' +
        '  prices.egress: unknown key; allowed keys: warehouseGbMonth, lakeGbMonth, scanPerTb, retrievalPerGb, source',
    );
  });
});
