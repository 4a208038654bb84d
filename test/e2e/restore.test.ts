import { existsSync, readFileSync } from 'node:fs';
import { parseCalendarDate, RunTarget } from '../../src/core/cutoff';
import { InputError, RunFailedError } from '../../src/core/errors';
import { LocalCatalog } from '../../src/engines/local/local-catalog';
import type { RestoreRequest } from '../../src/protocol/archive';
import { CRASHED, Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const RUN = '20260101T000000Z';
const target = (runId = RUN): RunTarget => ({ runId, cutoff: CUTOFF });
const request = (change: Partial<RestoreRequest> = {}): RestoreRequest => ({
  year: 2024,
  deleteFiles: false,
  restoreId: 'R20261123T100000',
  ...change,
});

/** The rows of 2024 of each table as they were hot: transactions by date, children by their parents. */
const ROWS_OF_2024 = {
  transactions: `contabyx.transactions WHERE "time" >= TIMESTAMP '2024-01-01' AND "time" < TIMESTAMP '2025-01-01'`,
};

let world: World | undefined;
afterEach(() => world?.close());

/** A world whose run of 2026-01-01 archived 2023, 2024 and 2025. */
async function archived(): Promise<World> {
  world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
  await (await world.archiver()).run(target());
  return world;
}

function partitions(w: World, table: string): { year: number; runId: string }[] {
  const file = LocalCatalog.fileIn(w.lakeRoot, w.config);
  const catalog = JSON.parse(readFileSync(file, 'utf8'));
  return catalog.tables[table].partitions.map((p: { year: number; runId: string }) => ({
    year: p.year,
    runId: p.runId,
  }));
}

describe('restore puts an archive year back into the hot tables', () => {
  test('restores 2024 with its exact values: the views return the same rows, the partitions leave the catalog, the files stay', async () => {
    // given the rows of 2024 before the run, and a run that archived them
    const before = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
    const hot2024 = await before.rows(`(SELECT * FROM ${ROWS_OF_2024.transactions})`);
    before.close();
    const w = await archived();
    expect(await w.rows(`(SELECT * FROM ${ROWS_OF_2024.transactions})`)).toEqual([]);
    const invariants = await Invariants.capture(w, CUTOFF);
    await invariants.restoring(2024);
    const files = [...w.lakeFiles().keys()].filter((f) => f.includes('/year=2024/'));

    // when 2024 is restored
    const report = await (await w.archiver()).restore(request());

    // then its rows are hot again, value for value, and every view returns the same multiset
    expect(await w.rows(`(SELECT * FROM ${ROWS_OF_2024.transactions})`)).toEqual(hot2024);
    await invariants.check('after the restore');
    expect(report.tables.map((t) => [t.table, t.runs])).toEqual([
      ['transactions', [RUN]],
      ['transfers', [RUN]],
      ['tax', [RUN]],
    ]);
    expect(report.rows).toBe(report.tables.reduce((sum, t) => sum + t.rows, 0));
    expect(report.tables[0].rows).toBe(hot2024.length);
    // the batches are restored in the ledger, their partitions gone, their files kept
    const states = (await w.batches()).filter((b) => b.year === '2024').map((b) => b.state);
    expect(states).toEqual(['restored', 'restored', 'restored']);
    expect(partitions(w, 'transactions').map((p) => p.year)).toEqual([2023, 2025]);
    expect(report.partitionsRemoved).toBe(3);
    expect(files.every((f) => existsSync(f))).toBe(true);
  });

  test('a later run archives the restored rows again, as they are still older than its cutoff', async () => {
    // given 2024 restored
    const w = await archived();
    const invariants = await Invariants.capture(w, CUTOFF);
    await invariants.restoring(2024);
    const archivedRows = (await (await w.archiver()).status()).runs[0].archivedRows;
    const restored = await (await w.archiver()).restore(request({ restoreId: 'R20261123100000' }));
    // then status shows the restore, and the run's restored year no longer counts as archived
    const status = await (await w.archiver()).status();
    expect(status.restores).toEqual([
      {
        restoreId: 'R20261123100000',
        at: '2026-11-23T10:00:00.000Z',
        year: 2024,
        tables: [
          { table: 'tax', rows: restored.tables[2].rows },
          { table: 'transactions', rows: restored.tables[0].rows },
          { table: 'transfers', rows: restored.tables[1].rows },
        ],
        rows: restored.rows,
      },
    ]);
    expect(status.runs.map((r) => [r.archivedRows, r.restoredRows])).toEqual([
      [archivedRows - restored.rows, restored.rows],
    ]);
    // when the next run starts with the same cutoff
    const report = await (await w.archiver()).run(target('20260102T000000Z'));
    // then it moves exactly 2024, and every view still returns the same rows
    expect(report.tables[0].years.map((y) => y.year)).toEqual([2024]);
    await invariants.check('after the second run');
    expect(partitions(w, 'transactions').map((p) => `${p.year} ${p.runId}`)).toEqual([
      `2023 ${RUN}`,
      `2025 ${RUN}`,
      '2024 20260102T000000Z',
    ]);
  });

  test('restores one family with --table, and deletes its files when asked', async () => {
    const w = await archived();
    const invariants = await Invariants.capture(w, CUTOFF);
    await invariants.restoring(2024);
    const report = await (await w.archiver()).restore(request({ table: 'TRANSACTIONS', deleteFiles: true }));
    await invariants.check('after the restore');
    expect(report.filesDeleted).toBe(true);
    expect(
      [...w.lakeFiles().keys()].filter((f) => f.includes('/year=2024/') && f.endsWith('.parquet')),
    ).toEqual([]);
  });

  test('restoring a year twice changes nothing the second time', async () => {
    const w = await archived();
    await (await w.archiver()).restore(request());
    const rows = await w.viewRows();
    const again = await (await w.archiver()).restore(request());
    expect(again.tables).toEqual([]);
    expect(again.partitionsRemoved).toBe(0);
    expect(await w.viewRows()).toEqual(rows);
  });

  test('fails restoring a child table alone, naming its parent, and changes nothing', async () => {
    const w = await archived();
    const batches = await w.batches();
    await expect((await w.archiver()).restore(request({ table: 'tax' }))).rejects.toThrow(
      new InputError(
        'table: "tax" is contabyx.tax, archived with its parent "transactions"; allowed: a root table, by its alias or as schema.name (transactions), whose children are restored with it',
      ),
    );
    await expect((await w.archiver()).restore(request({ table: 'nope' }))).rejects.toThrow(
      'table: "nope" is not configured; allowed: a root table, by its alias or as schema.name (transactions)',
    );
    await expect((await w.archiver()).restore(request({ year: 24 }))).rejects.toThrow(
      'year: 24 is not allowed; allowed: a year from 1000 to 9999',
    );
    expect(await w.batches()).toEqual(batches);
  });

  test('fails and changes nothing when the lake no longer holds the files the ledger recorded', async () => {
    // given a 2024 tax file overwritten with one other row after the run
    const w = await archived();
    const file = [...w.lakeFiles().keys()].find(
      (f) => f.includes('/tax/') && f.includes('/year=2024/') && f.endsWith('.parquet'),
    );
    if (!file) throw new Error('no tax file of 2024');
    await w.admin.execute(
      `COPY (SELECT 1 AS transactionid, 1 AS taxtypeid, 0.5 AS fee) TO '${file}' (FORMAT PARQUET)`,
    );
    const [batches, hot] = [await w.batches(), await w.rows('contabyx.tax')];
    // when 2024 is restored
    const restoring = (await w.archiver()).restore(request());
    // then the lake is refused before anything is written, naming the batch
    await expect(restoring).rejects.toThrow(
      new RegExp(
        `^lake: ${w.lakeRoot} lacks the files of 1 of 9 committed batches; tax 2024 \\(run ${RUN}\\): `,
      ),
    );
    expect(await w.batches()).toEqual(batches);
    expect(await w.rows('contabyx.tax')).toEqual(hot);
    expect(partitions(w, 'tax').map((p) => p.year)).toEqual([2023, 2024, 2025]);
  });

  test('fails and changes nothing when the rows read back are not those the ledger recorded', async () => {
    // given a ledger whose figures for tax 2024 are not those of its files
    const w = await archived();
    await w.admin.execute(
      `UPDATE archive_meta.batches SET "checksum" = '1' WHERE "table_name" = 'tax' AND "year" = 2024`,
    );
    const [batches, hot] = [await w.batches(), await w.rows('contabyx.tax')];
    // when 2024 is restored
    const restoring = (await w.archiver()).restore(request());
    // then the one transaction fails on its check: nothing went back, the ledger is unchanged
    await expect(restoring).rejects.toThrow('restore of transactions 2024 failed, and changed nothing');
    expect(await w.batches()).toEqual(batches);
    expect(await w.rows('contabyx.tax')).toEqual(hot);
    expect(partitions(w, 'tax').map((p) => p.year)).toEqual([2023, 2024, 2025]);
  });

  test('fails while a run is active, and changes nothing', async () => {
    // given a run that crashed after its first commit
    world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
    const w = world;
    const crashed = new Faults({ at: `transaction ${RUN}.commit.transactions.2024`, when: 'before' });
    await expect((await w.archiver(crashed.wrap)).run(target())).rejects.toThrow(CRASHED);
    const batches = await w.batches();
    // when 2023 (committed) is restored meanwhile
    const restoring = (await w.archiver()).restore(request({ year: 2023 }));
    // then the restore refuses and changes nothing
    await expect(restoring).rejects.toThrow(RunFailedError);
    await expect(restoring).rejects.toThrow(`restore: run ${RUN} is active (running); nothing changed`);
    expect(await w.batches()).toEqual(batches);
  });

  test('a crash before or after any step of a restore leaves every row in one place, and restoring again completes', async () => {
    // given the calls a clean restore makes
    const scratch = await archived();
    const probe = new Faults();
    await (await scratch.archiver(probe.wrap)).restore(request());
    scratch.close();
    world = undefined;
    const writes = probe.calls.flatMap((label, at) => (label.startsWith('query') ? [] : [at]));
    const failures: string[] = [];
    for (const at of writes) {
      const w = await archived();
      try {
        const invariants = await Invariants.capture(w, CUTOFF);
        await invariants.restoring(2024);
        // when the process dies after that step
        const crashed = new Faults({ at, when: 'after' });
        await (await w.archiver(crashed.wrap)).restore(request()).catch((error: Error) => {
          if (!CRASHED.test(error.message)) throw error;
        });
        await invariants.check(`crash after call ${at} (${probe.calls[at]})`);
        // then restoring again finishes the job
        await (await w.archiver()).restore(request());
        await invariants.check(`restore again after call ${at}`);
        if (partitions(w, 'transactions').some((p) => p.year === 2024))
          throw new Error('a partition of 2024 is left');
      } catch (error) {
        failures.push(`after call ${at} (${probe.calls[at]}): ${(error as Error).message}`);
      } finally {
        w.close();
        world = undefined;
      }
    }
    expect(writes.length).toBeGreaterThan(3);
    expect(failures).toEqual([]);
  }, 120_000);
});
