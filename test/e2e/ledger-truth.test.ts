import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveConfig } from '../../src/config/config';
import { parseCalendarDate, RunTarget } from '../../src/core/cutoff';
import { InputError, RunFailedError } from '../../src/core/errors';
import { LocalCatalog } from '../../src/engines/local/local-catalog';
import type { ArchiveDeps } from '../../src/protocol/archive';
import { CRASHED, Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

// The ledger is the truth for what the lake and the catalog hold (docs/design.md §5): a command
// that would write compares them with the ledger first, and refuses to go on from a lake or a
// catalog that lacks what the ledger says is archived. Each test reproduces one defect of
// /work/shared/research/reliability-defects.md.

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const RUN = '20260101T000000Z';
const target = (runId = RUN): RunTarget => ({ runId, cutoff: CUTOFF });

let world: World;
let invariants: Invariants;
beforeEach(async () => {
  world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
  invariants = await Invariants.capture(world, CUTOFF);
});
afterEach(() => world.close());

const catalogFile = () => LocalCatalog.fileIn(world.lakeRoot, world.config);
const fileOf = (table: string, year: number) => {
  const file = [...world.lakeFiles().keys()].find(
    (f) => f.includes(`/${table}/year=${year}/`) && f.endsWith('.parquet'),
  );
  if (!file) throw new Error(`no file of ${table} ${year}`);
  return file;
};
const schemas = async () =>
  (await world.admin.query("SELECT schema_name AS s FROM duckdb_schemas() WHERE database_name = 'warehouse'"))
    .map((r) => r.s)
    .sort();
/** One old transaction that another session inserts after the run: the next run archives it. */
async function lateRow(year: number): Promise<void> {
  const late = `(88000001, 1, 1, TIMESTAMP '${year}-05-05 05:05:05', 1.0)`;
  await world.admin.execute(`INSERT INTO contabyx.transactions VALUES ${late}`);
  invariants.addLate(
    'transactions',
    await world.rows(`(SELECT * FROM contabyx.transactions WHERE transactionid = 88000001)`),
  );
}
/** Replaces a Parquet file by a valid one holding only its first `rows` rows. */
async function replaceWithFewerRows(file: string, rows: number): Promise<void> {
  await world.admin.execute(
    `COPY (SELECT * FROM read_parquet('${file}', hive_partitioning = false) LIMIT ${rows}) TO '${file}.new' (FORMAT PARQUET)`,
  );
  renameSync(`${file}.new`, file);
}

describe('a lake or catalog that lacks what the ledger records is refused before anything is written', () => {
  test('D3: a wrong lake is refused naming both lakes; nothing is written there and the views keep every archived row', async () => {
    await (await world.archiver()).run(target());
    const other = mkdtempSync(join(tmpdir(), 'other-lake-'));
    try {
      const wrong = world.withLake(other);
      for (const command of ['run', 'abort', 'restore'] as const) {
        const attempt =
          command === 'run'
            ? (await wrong.archiver()).run(target('20260101T000009Z'))
            : command === 'abort'
              ? (await wrong.archiver()).abort()
              : (await wrong.archiver()).restore({ year: 2024, deleteFiles: false, restoreId: 'R1' });
        await expect(attempt).rejects.toBeInstanceOf(RunFailedError);
        await expect(attempt).rejects.toThrow(
          new RegExp(
            `^lake: ${other} lacks the files of 9 of 9 committed batches \\(the ledger records them under ${world.lakeRoot}\\); ` +
              `transactions 2023 \\(run ${RUN}\\): the ledger recorded 1 files of \\d+ bytes under ${world.lakeRoot}/contabyx-parquet/transactions/year=2023/archive_run=${RUN}/year=2023/, the lake holds 0 files of 0 bytes`,
          ),
        );
      }
      expect(readdirSync(other, { recursive: true })).toEqual([]);
      expect(readFileSync(catalogFile(), 'utf8')).toContain(RUN);
      await invariants.check('after commands on a wrong lake');
      expect((await (await world.archiver()).audit(true)).ok).toBe(true);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('D3: a deleted catalog file is refused, naming the file, until repair registers every committed batch again from the ledger', async () => {
    await (await world.archiver()).run(target());
    rmSync(catalogFile());
    const refused = (await world.archiver()).run(target('20260101T000009Z'));
    await expect(refused).rejects.toThrow(
      `catalog: the catalog file ${catalogFile()} lacks the partitions of 9 of 9 committed batches: transactions 2023 (run ${RUN})`,
    );
    await expect(refused).rejects.toThrow(
      'run `redshift-archive repair`, which registers every committed batch again at the location the ledger records; nothing was changed',
    );
    await invariants.check('after the refused run');
    const repaired = await (await world.archiver()).repair();
    expect(repaired).toMatchObject({ registered: 9, removed: 0 });
    expect((await (await world.archiver()).audit(true)).ok).toBe(true);
    expect((await (await world.archiver()).run(target('20260101T000009Z'))).outcome).toBe('nothing-to-do');
    await invariants.check('after the repair');
  });

  test('D3: a changed catalog.database is refused naming both databases; with the old one back nothing is needed', async () => {
    await (await world.archiver()).run(target());
    const moved = world.withConfig({ ...CONTABYX, catalog: { ...CONTABYX.catalog, database: 'elsewhere' } });
    const refused = (await moved.archiver()).run(target('20260101T000009Z'));
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(
      'catalog.database: "elsewhere" is not the database that the external schema ext_contabyx reads ("contabyx"), ' +
        'through which the union views read the archived rows; allowed: "contabyx". To move the catalog, deploy the stack ' +
        'with the new database (the embedded engine: `redshift-archive repair`), which registers every committed batch there; nothing was changed',
    );
    await invariants.check('after the refused run');
    expect((await (await world.archiver()).run(target('20260101T000009Z'))).outcome).toBe('nothing-to-do');
    await invariants.check('with the old database back');
  });

  test('D2: a changed ledger.schema is refused naming both ledgers, before anything is created; the views keep every archived row', async () => {
    await (await world.archiver()).run(target());
    const before = await schemas();
    const moved = world.withConfig({ ...CONTABYX, ledger: { ...CONTABYX.ledger, schema: 'archive_ledger' } });
    for (const attempt of [
      async () => (await moved.archiver()).run(target('20260101T000009Z')),
      async () => (await moved.archiver()).abort(),
      async () => (await moved.archiver()).setup(),
    ]) {
      const refused = attempt();
      await expect(refused).rejects.toBeInstanceOf(InputError);
      await expect(refused).rejects.toThrow(
        `ledger.schema: "archive_ledger" holds no run ${RUN}, whose committed batches the union view "contabyx"."spectrum_transactions" reads ` +
          '(its text names the run); the ledger in schema "archive_meta" holds it; allowed: "archive_meta"; nothing was changed',
      );
    }
    expect(await schemas()).toEqual(before);
    await invariants.check('after the refused commands');
  });

  test('D2: a new ledger.schema while the old ledger archives the same tables (nothing committed yet) is refused naming both', async () => {
    const crash = new Faults({ at: `transaction ${RUN}.start`, when: 'after' });
    await expect((await world.archiver(crash.wrap)).run(target())).rejects.toThrow(CRASHED);
    const before = await schemas();
    const moved = world.withConfig({ ...CONTABYX, ledger: { ...CONTABYX.ledger, schema: 'archive_ledger' } });
    const refused = (await moved.archiver()).run(target('20260101T000009Z'));
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(
      'ledger.schema: "archive_ledger" holds no ledger, but the ledger in schema "archive_meta" archives contabyx.transactions, ' +
        'contabyx.transfers, contabyx.tax, the tables of this configuration; allowed: "archive_meta"; nothing was changed',
    );
    expect(await schemas()).toEqual(before);
    await invariants.check('after the refused run');
  });

  test('a changed catalog.externalSchema is refused naming the schema the views read, also when the views are named as the tables (views.prefix "")', async () => {
    world.close();
    const reporting: ArchiveConfig = {
      ...CONTABYX,
      views: { ...CONTABYX.views, schema: 'reporting', prefix: '' },
    };
    world = await World.create(reporting, CONTABYX_SMALL_DATA);
    await (await world.archiver()).run(target());
    const moved = world.withConfig({
      ...reporting,
      catalog: { ...reporting.catalog, externalSchema: 'ext_other' },
    });
    const refused = (await moved.archiver()).run(target('20260101T000009Z'));
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(
      'catalog.externalSchema: "ext_other" is not the external schema that the union view "reporting"."transactions" ' +
        'reads its archived rows through ("ext_contabyx", named in its text); allowed: "ext_contabyx"; nothing was changed',
    );
  });

  test('D7: a committed partition missing from the catalog stops the next run before anything is written; repair puts it back', async () => {
    await (await world.archiver()).run(target());
    const catalog = JSON.parse(readFileSync(catalogFile(), 'utf8'));
    catalog.tables.transactions.partitions = catalog.tables.transactions.partitions.filter(
      (p: { year: number }) => p.year !== 2024,
    );
    writeFileSync(catalogFile(), JSON.stringify(catalog));
    expect((await (await world.archiver()).audit(false)).ok).toBe(false);
    // a late 2024 row gives the next run something to do
    await lateRow(2024);
    const refused = (await world.archiver()).run(target('20260101T000009Z'));
    await expect(refused).rejects.toThrow(
      `catalog: the catalog file ${catalogFile()} lacks the partitions of 1 of 9 committed batches: transactions 2024 (run ${RUN}) at ` +
        `${world.lakeRoot}/contabyx-parquet/transactions/year=2024/archive_run=${RUN}/year=2024/; run \`redshift-archive repair\``,
    );
    expect(await world.ledgerRuns()).toHaveLength(1);
    await invariants.check('after the refused run');
    expect(await (await world.archiver()).repair()).toMatchObject({ registered: 1, removed: 0 });
    expect((await (await world.archiver()).run(target('20260101T000009Z'))).outcome).toBe('finished');
    await invariants.check('after repair and run');
    expect((await (await world.archiver()).audit(true)).ok).toBe(true);
  });
});

describe('a ledger is the archive of the configuration that wrote it', () => {
  /** A second stack in the same warehouse and lake: tables of the same names in schema sales. */
  const SALES: ArchiveConfig = {
    ...CONTABYX,
    ledger: { ...CONTABYX.ledger, schema: 'archive_sales' },
    lake: { ...CONTABYX.lake, prefix: 'sales-parquet' },
    catalog: { ...CONTABYX.catalog, database: 'sales', externalSchema: 'ext_sales' },
    views: { ...CONTABYX.views, schema: 'sales' },
    tables: CONTABYX.tables.map((t) => ({ ...t, schema: 'sales' })),
  };
  const copySales = async () => {
    await world.admin.execute(
      'CREATE SCHEMA sales; ' +
        ['transactions', 'transfers', 'tax']
          .map((t) => `CREATE TABLE sales.${t} AS SELECT * FROM contabyx.${t};`)
          .join(' '),
    );
    invariants = await Invariants.capture(world, CUTOFF);
  };
  test('a second stack archiving tables of the same names in another schema is not taken for a second archive of the same rows', async () => {
    await copySales();
    await (await world.archiver()).run(target());
    const sales = world.withConfig(SALES);
    await invariants.check('after the first stack ran');
    const views = await world.viewRows();
    const report = await (await sales.archiver()).run(target('20260101T000009Z'));
    expect([report.outcome, report.rows]).toEqual(['finished', 675]);
    // each stack's views show its own rows once: the same data, copied
    expect(await world.viewRows()).toEqual(views);
    expect(await sales.viewRows()).toEqual(views);
    expect(
      (await world.admin.query('SELECT DISTINCT table_schema FROM archive_sales.batches')).map(
        (r) => r.table_schema,
      ),
    ).toEqual(['sales']);
  });

  test("another configuration pointed at a ledger never adopts it: its batches outside the configuration's lake prefix are refused, before anything is registered", async () => {
    await copySales();
    await (await world.archiver()).run(target());
    const adopting = world.withConfig({ ...SALES, ledger: CONTABYX.ledger });
    for (const attempt of [
      async () => (await adopting.archiver()).setup(),
      async () => (await adopting.archiver()).repair(),
      async () => (await adopting.archiver()).run(target('20260101T000009Z')),
    ]) {
      const refused = attempt();
      await expect(refused).rejects.toBeInstanceOf(InputError);
      await expect(refused).rejects.toThrow(
        `ledger.schema: the ledger in schema "archive_meta" records 9 batches outside this configuration's lake ` +
          `${world.lakeRoot}/sales-parquet/<table>/: transactions 2023 (run ${RUN}) at ${world.lakeRoot}/contabyx-parquet/transactions/year=2023/` +
          `archive_run=${RUN}/year=2023/; transfers 2023 (run ${RUN}) at `,
      );
      await expect(refused).rejects.toThrow(
        '; and 6 more; they are the archive of another configuration (or of an earlier lake.prefix), which a configuration ' +
          "never adopts; allowed: a ledger.schema of this configuration's own, or the lake and lake.prefix they were written " +
          `under (${world.lakeRoot}/contabyx-parquet); nothing was changed`,
      );
    }
    expect(existsSync(LocalCatalog.fileIn(world.lakeRoot, SALES))).toBe(false);
    expect(
      await world.admin.query(
        "SELECT view_name FROM duckdb_views() WHERE schema_name IN ('sales', 'ext_sales')",
      ),
    ).toEqual([]);
    await invariants.check('after the refused commands');
  });

  test('a ledger that does not record the schema yet is taken for the same tables until a command of its own configuration records it', async () => {
    await copySales();
    await (await world.archiver()).run(target());
    await world.admin.execute('ALTER TABLE archive_meta.batches DROP COLUMN table_schema');
    const sales = world.withConfig(SALES);
    const refused = (await sales.archiver()).run(target('20260101T000009Z'));
    await expect(refused).rejects.toThrow(
      'ledger.schema: "archive_sales" holds no ledger, but the ledger in schema "archive_meta" archives tables named ' +
        'transactions, transfers, tax and does not record their schema (it was last written by an earlier version): if ' +
        "they are not the tables of this configuration, a command that writes with that ledger's own configuration (its " +
        'next run, `redshift-archive repair`, or a deploy of its stack) records it; allowed: "archive_meta"; nothing was changed',
    );
    // when the other configuration writes once, its ledger records the schema of every batch
    await (await world.archiver()).repair();
    expect(
      (await world.admin.query('SELECT DISTINCT table_schema FROM archive_meta.batches')).map(
        (r) => r.table_schema,
      ),
    ).toEqual(['contabyx']);
    await invariants.check('after the repair');
    const views = await world.viewRows();
    expect((await (await sales.archiver()).run(target('20260101T000009Z'))).outcome).toBe('finished');
    expect(await world.viewRows()).toEqual(views);
    expect(await sales.viewRows()).toEqual(views);
  });
});

describe('the commit re-checks the files it trusts', () => {
  test('D4: a file replaced between verification and a resumed commit sends the batch back to export; nothing is lost', async () => {
    // given a run that died once the family's 2024 batch was verified
    const crash = new Faults({ at: `execute ${RUN}.verify.tax.2024`, when: 'after' });
    await expect((await world.archiver(crash.wrap)).run(target())).rejects.toThrow(CRASHED);
    // when a valid Parquet file with fewer rows replaces transactions 2024's file meanwhile
    await replaceWithFewerRows(fileOf('transactions', 2024), 5);
    // then the resume exports the batch again instead of committing what it verified earlier
    const report = await (await world.archiver()).run(target());
    expect(report.outcome).toBe('finished');
    expect(
      report.tables.find((t) => t.table === 'transactions')?.years.find((y) => y.year === 2024)?.attempts,
    ).toBe(2);
    await invariants.check('after the resume');
    expect((await (await world.archiver()).audit(true)).ok).toBe(true);
  });

  test('D4: a file replaced while the run goes on, after its verification, is caught before the commit', async () => {
    const watcher = new Faults(undefined, async (label) => {
      if (label.startsWith(`execute ${RUN}.verify.tax.2024.a1`))
        await replaceWithFewerRows(fileOf('transactions', 2024), 5);
    });
    const report = await (await world.archiver(watcher.wrap)).run(target());
    expect(report.outcome).toBe('finished');
    expect(watcher.calls.filter((c) => c.startsWith(`transaction ${RUN}.commit.transactions.2024`))).toEqual([
      `transaction ${RUN}.commit.transactions.2024.a2`,
    ]);
    await invariants.check('after the run');
  });
});

describe('a ledger of an earlier version', () => {
  test('reads without the columns added since, and gains them at the first command that writes', async () => {
    // given the ledger of a version before the files digest, with a committed run
    await (await world.archiver()).run(target());
    await world.admin.execute('ALTER TABLE archive_meta.batches DROP COLUMN files_digest');
    const columns = async () =>
      (
        await world.admin.query(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'batches'`,
        )
      ).map((r) => r.column_name);
    // then status and audit read it as it is, adding nothing
    expect((await (await world.archiver()).status()).runs.map((r) => r.state)).toEqual(['finished']);
    expect((await (await world.archiver()).audit(false)).ok).toBe(true);
    expect(await columns()).not.toContain('files_digest');
    // and the next run adds the column before it writes anything else, and goes on
    await lateRow(2025);
    expect((await (await world.archiver()).run(target('20260101T000009Z'))).outcome).toBe('finished');
    expect(await columns()).toContain('files_digest');
    await invariants.check('after the upgrade');
  });

  test('a ledger from before restore_checks existed is upgraded by the next run, not refused as no ledger', async () => {
    await (await world.archiver()).run(target());
    await world.admin.execute('DROP TABLE archive_meta.restore_checks');
    expect((await (await world.archiver()).status()).runs.map((r) => [r.runId, r.state])).toEqual([
      [RUN, 'finished'],
    ]);
    await lateRow(2025);
    expect((await (await world.archiver()).run(target('20260101T000009Z'))).outcome).toBe('finished');
    expect(await world.tableNames()).toContain('archive_meta.restore_checks');
    await invariants.check('after the upgrade');
  });

  test('two writers upgrading the ledger at once: the one whose ALTER finds the column added reads the shape again and goes on', async () => {
    await (await world.archiver()).run(target());
    await world.admin.execute(
      'ALTER TABLE archive_meta.batches DROP COLUMN files_digest; DROP TABLE archive_meta.restore_checks',
    );
    // given another writer that adds the column (only) just before this one's ledger transaction
    let raced = 0;
    const rival = (deps: ArchiveDeps): ArchiveDeps => ({
      ...deps,
      warehouse: {
        ...deps.warehouse,
        dialect: deps.warehouse.dialect,
        query: (q, step) => deps.warehouse.query(q, step),
        execute: (q, step, options) => deps.warehouse.execute(q, step, options),
        transaction: async (statements, step, options) => {
          if (step === 'setup.ledger' && raced++ === 0)
            await world.admin.execute('ALTER TABLE archive_meta.batches ADD COLUMN files_digest VARCHAR(64)');
          return deps.warehouse.transaction(statements, step, options);
        },
      },
    });
    // when this one runs, then it is not refused with "already exists": it sends what is still missing
    expect((await (await world.archiver(rival)).run(target('20260101T000009Z'))).outcome).toBe(
      'nothing-to-do',
    );
    expect(raced).toBe(2);
    expect(await world.tableNames()).toContain('archive_meta.restore_checks');
    await invariants.check('after the raced upgrade');
  });
});
