import { handleUnload, parseUnloadEvent } from '../../src/runtime/unload';
import { ledgerAnswers, ScriptedAws } from '../../devkit/scripted-aws';
import type { PlanReport } from '../../src/protocol/archive';

const NOW = () => new Date('2026-03-04T05:06:07Z');
const MIB = 1024 ** 2;

/**
 * A warehouse with rows of 2025 still hot in each table (late rows: the ledger's committed 2025
 * batch holds 5 rows in 100 bytes per table), whose SVV_TABLE_INFO answers `sizes`.
 */
function warehouse(sizes: 'readable' | 'refused'): ScriptedAws {
  const aws = new ScriptedAws(
    ledgerAnswers('finished', (name) => {
      if (name === 'plan.transactions') return [{ year: '2025', row_count: '250' }];
      if (name === 'plan.transactions.nulls') return [{ row_count: '0' }];
      if (name === 'plan.transfers' || name === 'plan.tax') return [{ year: '2025', row_count: '100' }];
      if (name === 'plan.sizes' && sizes === 'readable')
        return [
          // SVV_TABLE_INFO: size in 1 MB blocks (x 1048576), tbl_rows with the deleted rows not yet vacuumed
          {
            table_schema: 'contabyx',
            table_name: 'transactions',
            bytes: String(40 * MIB),
            row_count: '1000',
          },
          { table_schema: 'contabyx', table_name: 'transfers', bytes: String(10 * MIB), row_count: '1000' },
          { table_schema: 'contabyx', table_name: 'tax', bytes: String(10 * MIB), row_count: '400' },
        ];
      return undefined;
    }),
  );
  if (sizes === 'refused') aws.status = (name) => (name === 'plan.sizes' ? 'FAILED' : 'FINISHED');
  aws.error = 'ERROR: permission denied for relation svv_table_info';
  return aws;
}

async function plan(aws: ScriptedAws): Promise<PlanReport> {
  const outcome = await handleUnload(parseUnloadEvent({ action: 'plan' }), aws.engine(), NOW);
  if (outcome.outcome !== 'plan') throw new Error(`not a plan: ${outcome.outcome}`);
  return outcome.plan;
}

describe('plan on Redshift, what a run frees and adds', () => {
  test("scales each table's SVV_TABLE_INFO size by the rows that leave, and estimates the lake from the bytes per row of the earlier batches", async () => {
    const report = await plan(warehouse('readable'));
    expect(
      report.tables.map((t) => [
        t.table,
        t.rows,
        t.savings.warehouseBytes,
        t.savings.lakeBytes,
        t.savings.lakeBasis,
      ]),
    ).toEqual([
      ['transactions', 250, 10 * MIB, 250 * 20, 'earlier batches'],
      ['transfers', 100, MIB, 100 * 20, 'earlier batches'],
      ['tax', 100, 2.5 * MIB, 100 * 20, 'earlier batches'],
    ]);
    expect(report.savings.warehouseBytes).toBe(13.5 * MIB);
    expect(report.sizesNote).toBeUndefined();
  });

  test('a user who may not read SVV_TABLE_INFO gets the rows and the lake, the warehouse bytes unknown, and why', async () => {
    const report = await plan(warehouse('refused'));
    expect(report.rows).toBe(450);
    expect(report.savings).toMatchObject({
      warehouseBytes: null,
      lakeBytes: 450 * 20,
      netDollarsPerYear: null,
    });
    expect(report.sizesNote).toBe(
      "the warehouse's table sizes could not be read: statement plan.sizes FAILED: ERROR: permission denied for relation svv_table_info",
    );
  });
});
