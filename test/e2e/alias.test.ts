import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbWarehouse } from '../../src/engines/local/duckdb-warehouse';
import { cli } from '../support/cli';
import { restoredFamilies } from '../../src/protocol/restore';
import { PAYMENTS, PAYMENTS_FILE, PAYMENTS_SEED } from '../support/payments';

// The same table name in two schemas (test/support/payments.ts): the alias names the ledger rows, the lake folder, the catalog table, the external table and the
// union view; the schema and name name the hot table. Every command that reads or writes the
// ledger, the lake or the catalog is driven through the CLI, and the union views are read back
// after each step.

const VIEWS = ['reporting.v_billing_payments', 'reporting.v_payments'];
const RUN1 = '20260101T000005Z';
const RUN2 = '20260102T000005Z';

let dir: string;
let warehouse: string;
let lake: string;
let local: string[];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alias-'));
  warehouse = join(dir, 'warehouse.duckdb');
  lake = join(dir, 'lake');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(PAYMENTS_FILE));
  local = ['--config', join(dir, 'config.json'), '--local', warehouse, '--lake', lake];
  const opened = await DuckDbWarehouse.open(warehouse);
  await opened.warehouse.execute(PAYMENTS_SEED);
  opened.warehouse.close();
  opened.instance.closeSync();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every row of each union view (or, before setup, each hot table), read after the CLI closed the file. */
async function read(relations: readonly string[]): Promise<string[][]> {
  const instance = await DuckDBInstance.create(warehouse, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const out: string[][] = [];
    for (const relation of relations) {
      const reader = await connection.runAndReadAll(`SELECT * FROM ${relation}`);
      out.push(
        reader
          .getRowObjectsJson()
          .map((r) => JSON.stringify(r))
          .sort(),
      );
    }
    return out;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
/** The bytes of the Parquet files under one table's lake folder. */
const bytesIn = (alias: string) =>
  lakeFiles()
    .filter((f) => f.startsWith(`lake/${alias}/`))
    .reduce((sum, f) => sum + statSync(join(lake, f)).size, 0);
const lakeFiles = () =>
  readdirSync(lake, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.parquet'));

test('two tables named payments, one aliased: plan, run, status, audit, repair and restore keep them apart and every view whole', async () => {
  const original = await read(['billing.payments', 'sales.payments']);
  const check = async (when: string) => expect([when, await read(VIEWS)]).toEqual([when, original]);

  // the first plan: a batch per year of the aliased family, named by its root's alias
  const first = await cli(['plan', '--cutoff', '2025-01-01', '--json', ...local]);
  expect(first.code).toBe(0);
  const plan = JSON.parse(first.stdout) as {
    batches: { family: string; year: number; rows: number }[];
    tables: { table: string; rows: number }[];
  };
  expect(plan.batches.map((b) => [b.family, b.year])).toEqual([
    ['billing_payments', 2023],
    ['billing_payments', 2024],
  ]);
  expect(plan.tables.map((t) => [t.table, t.rows])).toEqual([
    ['billing_payments', 243],
    ['payments', 243],
  ]);

  // the first run, cut off in 2025: 2023 and 2024 move
  const run = await cli(['run', '--cutoff', '2025-01-01', ...local]);
  expect(run.code).toBe(0);
  expect(run.stderr).toContain('batch 2 of 2: billing_payments 2024 (elapsed 8.0 s, about 6.0 s left)');
  await check('after the first run');
  const folders = [...new Set(lakeFiles().map((f) => f.split('/').slice(0, 3).join('/')))].sort();
  expect(folders).toEqual([
    'lake/billing_payments/year=2023',
    'lake/billing_payments/year=2024',
    'lake/payments/year=2023',
    'lake/payments/year=2024',
  ]);
  const catalog = JSON.parse(readFileSync(join(lake, '_catalog', 'shop.json'), 'utf8')) as {
    tables: Record<string, { partitions: unknown[] }>;
  };
  expect(Object.keys(catalog.tables).sort()).toEqual(['billing_payments', 'payments']);

  // the next plan prices the lake from the committed batches of each table, by its alias
  const summary = await cli(['plan', '--summary', '--cutoff', '2026-01-01', ...local]);
  const lakeAdds = summary.stdout.split('\n').filter((l) => / 122 {2}/.test(l));
  expect(lakeAdds.map((l) => l.split(/ {2,}/).slice(0, 5))).toEqual([
    ['billing_payments', '122', expect.stringMatching(/KiB$/), '1.9 KiB', 'earlier batches'],
    ['payments', '122', expect.stringMatching(/KiB$/), '917 B', 'earlier batches'],
  ]);
  const next = JSON.parse((await cli(['plan', '--cutoff', '2026-01-01', '--json', ...local])).stdout) as {
    batches: { family: string; year: number }[];
    tables: { table: string; savings: { lakeBytes: number; lakeBasis: string } }[];
  };
  expect(next.batches.map((b) => [b.family, b.year])).toEqual([['billing_payments', 2025]]);
  expect(next.tables.map((t) => [t.table, t.savings.lakeBasis, t.savings.lakeBytes])).toEqual([
    ['billing_payments', 'earlier batches', Math.round((bytesIn('billing_payments') * 122) / 243)],
    ['payments', 'earlier batches', Math.round((bytesIn('payments') * 122) / 243)],
  ]);

  // status: the run's duration and its batches, one per family and year
  const status = await cli(['status', ...local]);
  expect(status.code).toBe(0);
  expect(status.stdout.split('\n').at(-1)?.split(/ {2,}/)).toEqual([
    '20260101T000005Z',
    '2025-01-01',
    'finished',
    '2026-01-01 00:00:05',
    '14.0 s',
    '2/2',
    '486',
    '0',
  ]);

  // audit --deep reads each batch back from its own folder
  const audit = await cli(['audit', '--deep', ...local]);
  expect([audit.code, audit.stdout.split('\n').at(-1)]).toEqual([0, 'audit --deep: 4 batches intact']);

  // a partition of the aliased table removed from the catalog file: refused, naming the alias; repair
  const file = join(lake, '_catalog', 'shop.json');
  const damaged = JSON.parse(readFileSync(file, 'utf8')) as {
    tables: Record<string, { partitions: unknown[] }>;
  };
  damaged.tables.billing_payments.partitions.splice(0, 1);
  writeFileSync(file, JSON.stringify(damaged));
  const refused = await cli(['run', '--cutoff', '2025-01-01', ...local], '2026-01-01T00:00:09Z');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toBe(
    `redshift-archive: --lake: the catalog file ${file} lacks the partitions of 1 of 4 committed batches: ` +
      `billing_payments 2023 (run ${RUN1}) at ${lake}/lake/billing_payments/year=2023/archive_run=${RUN1}/year=2023/; ` +
      'run `redshift-archive repair`, which registers every committed batch again at the location the ledger records; nothing was changed',
  );
  await check('after a partition was removed');
  const repaired = await cli(['repair', ...local]);
  expect([repaired.code, repaired.stdout]).toEqual([
    0,
    'repair: 1 partitions of committed batches registered again from the ledger; 0 stray partitions removed',
  ]);
  await check('after repair');

  // restore --table takes the alias or schema.name; the child's name is refused naming the table it is
  const child = await cli(['restore', '--year', '2023', '--table', 'payments', ...local]);
  expect([child.code, child.stderr]).toEqual([
    2,
    'redshift-archive: table: "payments" is sales.payments, archived with its parent "billing_payments"; ' +
      'allowed: a root table, by its alias or as schema.name (billing_payments), whose children are restored with it',
  ]);
  const restored = await cli(
    ['restore', '--year', '2023', '--table', 'billing.payments', ...local],
    '2026-01-01T01:00:00Z',
  );
  expect([restored.code, restored.stdout.split('\n')[0]]).toEqual([
    0,
    'restored 2023: 242 rows are hot again; the union views return the same rows',
  ]);
  await check('after restoring 2023');
  const again = await cli(
    ['restore', '--year', '2024', '--table', 'billing_payments', ...local],
    '2026-01-01T02:00:00Z',
  );
  expect([again.code, again.stdout.split('\n')[0]]).toEqual([
    0,
    'restored 2024: 244 rows are hot again; the union views return the same rows',
  ]);
  await check('after restoring 2024');

  // run again: 2023 and 2024 move again; then the catalog file deleted, and repair rebuilds it
  expect((await cli(['run', '--cutoff', '2025-01-01', ...local], '2026-01-02T00:00:05Z')).code).toBe(0);
  await check('after the second run');
  rmSync(join(lake, '_catalog', 'shop.json'));
  const gone = await cli(['audit', ...local], '2026-01-02T00:00:09Z');
  expect([gone.code, gone.stdout.split('\n')[6], gone.stdout.split('\n').at(-1)]).toEqual([
    3,
    `DAMAGED billing_payments 2023 (run ${RUN2}): the catalog has no partition for run ${RUN2}, year 2023`,
    'audit: 4 of 4 batches damaged; the ledger and the run reports say what they held',
  ]);
  const rebuilt = await cli(['repair', ...local], '2026-01-02T00:00:09Z');
  expect([rebuilt.code, rebuilt.stdout]).toEqual([
    0,
    'repair: 4 partitions of committed batches registered again from the ledger; 0 stray partitions removed',
  ]);
  await check('after the catalog was rebuilt');

  // a committed file of the aliased table deleted: repair names it; --accept-lost records it lost
  const folder = `${lake}/lake/billing_payments/year=2024/archive_run=${RUN2}/year=2024/`;
  const gonePath = join(lake, lakeFiles().find((f) => join(lake, f).startsWith(folder)) as string);
  const bytes2024 = statSync(gonePath).size;
  rmSync(gonePath);
  const named = await cli(['repair', ...local], '2026-01-02T00:00:09Z');
  expect([named.code, named.stderr.split('; put the files back')[0]]).toEqual([
    2,
    `redshift-archive: --lake: ${lake} lacks the files of 1 of 4 committed batches: billing_payments 2024 (run ${RUN2}, 122 rows): ` +
      `the ledger recorded 1 files of ${bytes2024} bytes under ${folder}, the lake holds 0 files of 0 bytes`,
  ]);
  const accepted = await cli(['repair', '--accept-lost', ...local], '2026-01-02T00:00:09Z');
  const lostLine =
    `LOST billing_payments 2024 (run ${RUN2}): 122 rows; recorded lost by repair --accept-lost: the lake holds 0 files ` +
    `of 0 bytes under ${folder}; the ledger recorded 1 files of ${bytes2024} bytes`;
  expect([accepted.code, accepted.stdout]).toEqual([
    0,
    [
      'repair: 0 partitions of committed batches registered again from the ledger; 1 stray partitions removed',
      'recorded lost: 1 batches, 122 rows; the views and the catalog no longer read them',
      lostLine,
    ].join('\n'),
  ]);
  const after = await cli(['status', ...local], '2026-01-02T00:00:09Z');
  expect(after.stdout.split('\n').slice(-3)).toEqual([
    'R20260101010000  2026-01-01 01:00:00  2023  billing_payments, payments   242',
    'R20260101020000  2026-01-01 02:00:00  2024  billing_payments, payments   244',
    lostLine,
  ]);
  const audited = await cli(['audit', '--deep', ...local], '2026-01-02T00:00:09Z');
  expect([audited.code, audited.stdout.split('\n').at(-1)]).toEqual([
    0,
    'audit --deep: 3 batches intact; 1 recorded lost',
  ]);
  // the lost year's payments are gone from their view; their children, archived apart, are not
  const [billing, sales] = await read(VIEWS);
  expect([billing, sales]).toEqual([original[0].filter((r) => !r.includes('"paid":"2024-')), original[1]]);
});

test('fails a restore of a table by a name two tables share: it names the table it found and the roots, by alias or schema.name', () => {
  const request = { year: 2023, restoreId: 'R20260101010000', deleteFiles: false };
  expect(() => restoredFamilies(PAYMENTS, { ...request, table: 'payments' })).toThrow(
    'table: "payments" is sales.payments, archived with its parent "billing_payments"; ' +
      'allowed: a root table, by its alias or as schema.name (billing_payments), whose children are restored with it',
  );
  expect(() => restoredFamilies(PAYMENTS, { ...request, table: 'billing' })).toThrow(
    'table: "billing" is not configured; allowed: a root table, by its alias or as schema.name (billing_payments)',
  );
  const root = (table: string) =>
    restoredFamilies(PAYMENTS, { ...request, table }).map((f) => f.map((t) => t.alias));
  expect([root('billing.payments'), root('BILLING_PAYMENTS')]).toEqual([
    [['billing_payments', 'payments']],
    [['billing_payments', 'payments']],
  ]);
});
