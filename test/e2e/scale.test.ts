import { ArchiveConfig, parseConfig } from '../../src/config/config';
import { parseCalendarDate } from '../../src/core/cutoff';
import { largestStatements, statementSizeProblems } from '../../src/sql/limits';
import { World } from '../../devkit/world';

/*
 * The widths and counts the configuration allows, end to end on the embedded engine: plan, run
 * (export, verify, commit) and the union views afterwards. Each world holds two rows a table, in
 * one archived year and one hot, so the time goes to the number of statements, not to data.
 */

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const TYPES = [
  'integer',
  'bigint',
  'varchar(20)',
  'decimal(12,2)',
  'boolean',
  'double precision',
  'date',
  'smallint',
];
const DUCK: Record<string, string> = {
  'varchar(20)': 'VARCHAR',
  'double precision': 'DOUBLE',
  'decimal(12,2)': 'DECIMAL(12,2)',
};
/** Names of 10.1 bytes on average: a word for the column's type and its number (`amount_0003`). */
const WORDS: Record<string, string> = {
  integer: 'units',
  bigint: 'account',
  'varchar(20)': 'label',
  'decimal(12,2)': 'amount',
  boolean: 'active',
  'double precision': 'ratio',
  date: 'due',
  smallint: 'rank',
};
const VALUES: Record<string, (row: number) => string> = {
  integer: (r) => String(r),
  bigint: (r) => `${r}000000000`,
  'varchar(20)': (r) => (r === 1 ? 'NULL' : `'v${r}'`),
  'decimal(12,2)': (r) => `${r}.25`,
  boolean: (r) => (r === 1 ? 'true' : 'false'),
  'double precision': (r) => `${r}.5`,
  date: (r) => `DATE '2020-0${r}-0${r}'`,
  smallint: (r) => String(r),
};

/**
 * `tables` tables of `columns` columns (a timestamp, then the types in turn), and two rows each;
 * in families of 13 (the most a commit takes), a root and its children keyed by the first integer.
 */
function shape(tables: number, columns: number): { config: ArchiveConfig; seed: string } {
  const cols = Array.from({ length: columns - 1 }, (_, i) => {
    const type = TYPES[i % TYPES.length];
    return { name: `${WORDS[type]}_${String(i).padStart(4, '0')}`, type };
  });
  const key = cols[0].name;
  const config = parseConfig({
    warehouse: { type: 'serverless', workgroupName: 'wg1', database: 'dev' },
    lake: { prefix: 'lake' },
    catalog: { database: 'wide', externalSchema: 'ext_wide' },
    views: { schema: 'reporting', prefix: 'all_', readers: ['group analysts'] },
    tables: Array.from({ length: tables }, (_, t) => ({
      schema: 'shop',
      name: `t${t}`,
      archiveBy:
        t % 13 === 0
          ? { column: 'created_at' }
          : { parent: `t${t - (t % 13)}`, foreignKey: key, parentKey: key },
      columns: [{ name: 'created_at', type: 'timestamp' }, ...cols],
    })),
  });
  const ddl = `("created_at" TIMESTAMP, ${cols.map((c) => `"${c.name}" ${DUCK[c.type] ?? c.type.toUpperCase()}`).join(', ')})`;
  const row = (r: number, at: string) =>
    `(TIMESTAMP '${at}', ${cols.map((c) => VALUES[c.type](r)).join(', ')})`;
  const seed = [
    'CREATE SCHEMA shop;',
    // a root and its first child have a row to archive; the other children only one that stays
    // (their batches are counted, checked and committed empty: the statements, not the files, are at stake)
    ...config.tables.map(
      (t, i) =>
        `CREATE TABLE shop.${t.name} ${ddl}; INSERT INTO shop.${t.name} VALUES ${row(2, '2026-02-01 00:00:00')}` +
        (i % 13 < 2 ? `, ${row(1, '2024-05-01 00:00:00')};` : ';'),
    ),
  ].join('\n');
  return { config, seed };
}

async function planRunVerify(config: ArchiveConfig, seed: string): Promise<void> {
  const world = await World.create(config, seed);
  try {
    const before = await world.viewRows();
    const archiver = await world.archiver();
    const plan = await archiver.plan({ runId: '20260101T000000Z', cutoff: CUTOFF });
    const moving = config.tables.filter((_, i) => i % 13 < 2).length;
    expect(plan.rows).toBe(moving);
    const report = await archiver.run({ runId: '20260101T000000Z', cutoff: CUTOFF });
    expect(report.outcome).toBe('finished');
    expect(report.rows).toBe(moving);
    // every row in exactly one place: the views show what they showed, one row of each table is archived
    expect(await world.viewRows()).toEqual(before);
    expect(await world.committedBatches()).toHaveLength(moving);
  } finally {
    world.close();
  }
}

test("a table of 1,600 columns (Redshift's most), names of 10 bytes, plans, runs and verifies on the embedded engine, and its Redshift statements fit 100 KB", async () => {
  const { config, seed } = shape(1, 1600);
  await planRunVerify(config, seed);
  // on Redshift, each statement the project sends for it fits the Data API's 100,000 bytes: the
  // checksums name each column once, under an alias, at its name's bytes and about 46 more
  expect(largestStatements(config).map((s) => [s.what, s.bytes])).toEqual([
    ['its export', 23197],
    ['its read-back', 96181],
    ['its commit check', 96838],
    ['its column figures', 96241],
    ['its restore', 96712],
    ['its preflight probe', 96178],
    ['its union view (with 20 committed runs)', 64144],
    ['the schema guard', 290],
  ]);
  expect(statementSizeProblems(config)).toEqual([]);
});

test('200 tables plan, run and verify on the embedded engine, and their Redshift statements all stay under 100 KB', async () => {
  const { config, seed } = shape(200, 5);
  await planRunVerify(config, seed);
  expect(statementSizeProblems(config)).toEqual([]);
  // and so do those of 200 tables of 50 columns, the setup of whose views takes several procedures
  expect(statementSizeProblems(shape(200, 50).config)).toEqual([]);
});
