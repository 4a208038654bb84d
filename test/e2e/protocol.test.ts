import { parseCalendarDate, RunTarget } from '../../src/core/cutoff';
import { InputError } from '../../src/core/errors';
import { RunBusyError } from '../../src/protocol/archive';
import { CRASHED, Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const RUN = '20260101T000000Z';
const target = (runId = RUN, cutoff = CUTOFF): RunTarget => ({ runId, cutoff });
/** The commit of the transactions family's batch of a year, first attempt. */
const commitOf = (year: number) => `transaction ${RUN}.commit.transactions.${year}.a1`;

let world: World;
beforeEach(async () => {
  world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
});
afterEach(() => world.close());

const hot = (sql: string) => world.admin.query(sql);

describe('a run on the embedded engine', () => {
  test('moves rows older than the cutoff, one batch per year, and leaves NULL, future and cutoff-instant rows hot', async () => {
    // given the small contabyx set, when a run archives everything before 2026
    const invariants = await Invariants.capture(world, CUTOFF);
    const report = await (await world.archiver()).run(target());

    // then the run finished in three batches, and every row older than 2026 left the hot table
    expect([report.outcome, report.batches]).toEqual(['finished', 3]);
    expect((await world.ledgerRuns()).map((r) => [r.run_id, r.state])).toEqual([[RUN, 'finished']]);
    const kept = await hot(
      `SELECT transactionid FROM contabyx.transactions WHERE transactionid > 1000 ORDER BY 1, "time"`,
    );
    expect(kept.map((r) => r.transactionid)).toEqual(['1001', '1002', '1004', '1006']);
    expect(
      await hot(`SELECT COUNT(*) AS n FROM contabyx.transactions WHERE "time" < TIMESTAMP '2026-01-01'`),
    ).toEqual([{ n: '0' }]);
    expect(report.tables.map((t) => [t.table, t.years.map((y) => y.year), t.verified])).toEqual([
      ['transactions', [2023, 2024, 2025], true],
      ['transfers', [2023, 2024, 2025], true],
      ['tax', [2023, 2024, 2025], true],
    ]);
    // and each batch wrote under its own root, partitioned by year, with its manifest beside
    const files = [...world.lakeFiles().keys()]
      .map((p) => p.slice(world.lakeRoot.length + 1))
      .filter((p) => p.includes('/tax/'));
    expect(files.filter((p) => p.endsWith('manifest')).sort()).toEqual(
      [2023, 2024, 2025].map((y) => `contabyx-parquet/tax/year=${y}/archive_run=${RUN}/manifest`),
    );
    expect(
      files
        .filter((p) => p.endsWith('.parquet'))
        .every((p) => /\/year=(\d{4})\/archive_run=[^/]+\/year=\1\//.test(p)),
    ).toBe(true);
    await invariants.check('after the run');
  });

  test('keeps every invariant after every call that writes', async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    const checked: string[] = [];
    const faults = new Faults(undefined, async (label) => {
      if (!label.startsWith('query')) {
        await invariants.check(`after ${label}`);
        checked.push(label);
      }
    });
    await (await world.archiver(faults.wrap)).run(target());
    expect(checked).toEqual(
      expect.arrayContaining([
        `transaction ${RUN}.start`,
        'catalog.add tax 2024',
        commitOf(2023),
        commitOf(2024),
        commitOf(2025),
        `transaction ${RUN}.finish`,
      ]),
    );
  });

  test('a repeated run with the same cutoff changes nothing, and so does a re-delivered trigger', async () => {
    await (await world.archiver()).run(target());
    const files = world.lakeFiles();
    const views = await world.viewRows();
    const redelivered = await (await world.archiver()).run(target());
    const repeated = await (await world.archiver()).run(target('20260105T000000Z'));
    expect([redelivered.outcome, repeated.outcome]).toEqual(['already-done', 'nothing-to-do']);
    expect(world.lakeFiles()).toEqual(files);
    expect(await world.viewRows()).toEqual(views);
    expect(await world.ledgerRuns()).toHaveLength(1);
  });

  test('a later cutoff archives the next year as a new batch', async () => {
    const invariants = await Invariants.capture(world, '2027-01-01');
    await (await world.archiver()).run(target());
    const next = await (
      await world.archiver()
    ).run(target('20270101T000000Z', parseCalendarDate('2027-01-01', 'test')));
    expect(next.tables[0].years.map((y) => y.year)).toEqual([2026]);
    expect(await world.ledgerRuns()).toHaveLength(2);
    await invariants.check('after two yearly runs');
    const batches = await hot(
      `SELECT DISTINCT archive_run, year FROM ext_contabyx.transactions ORDER BY 1, 2`,
    );
    expect(batches.map((r) => `${r.archive_run}/${r.year}`)).toEqual([
      `${RUN}/2023`,
      `${RUN}/2024`,
      `${RUN}/2025`,
      '20270101T000000Z/2026',
    ]);
  });

  test('a child goes with the earliest year of its parents, and stays hot while a parent stays hot or is missing', async () => {
    await (await world.archiver()).run(target());
    // 1005 is archived twice (2024, 2025): its transfer and its tax go once, with 2024
    const archived = await hot(
      `SELECT transferid, year FROM ext_contabyx.transfers WHERE transferid >= 9000 ORDER BY 1`,
    );
    expect(archived).toEqual([{ transferid: '9001', year: '2024' }]);
    expect(await hot(`SELECT year FROM ext_contabyx.tax WHERE transactionid = 1005`)).toEqual([
      { year: '2024' },
    ]);
    // 1006 also has a row of 2026, which stays hot: its transfer stays hot too; so do a transfer
    // with no parent (777777), one with a NULL key and one whose parent is the cutoff instant (1004)
    const hotTransfers = await hot(
      `SELECT transferid FROM contabyx.transfers WHERE transferid >= 9000 ORDER BY 1`,
    );
    expect(hotTransfers.map((r) => r.transferid)).toEqual(['9002', '9003', '9004', '9005']);
    const hotTax = await hot(`SELECT transactionid FROM contabyx.tax WHERE transactionid > 1000 ORDER BY 1`);
    expect(hotTax.map((r) => r.transactionid)).toEqual(['1001', '1002', '888888']);
  });

  test('plan counts per table and year, shows every batch and its SQL, and writes nothing', async () => {
    const before = await world.viewRows();
    const files = world.lakeFiles();
    const plan = await (await world.archiver()).plan(target());
    expect(plan.batches).toEqual([
      { family: 'transactions', year: 2023, rows: 222 },
      { family: 'transactions', year: 2024, rows: 227 },
      { family: 'transactions', year: 2025, rows: 226 },
    ]);
    expect(plan.tables.map((t) => [t.table, t.rows, t.nullRows])).toEqual([
      ['transactions', 369, 1],
      ['transfers', 183, undefined],
      ['tax', 123, undefined],
    ]);
    expect(plan.statements.map((s) => `${s.phase} ${s.batch ?? ''}`.trim())).toEqual([
      'export transactions 2023',
      'commit transactions 2023',
      'export transactions 2024',
      'commit transactions 2024',
      'export transactions 2025',
      'commit transactions 2025',
      'finish',
      'finish',
    ]);
    expect(plan.statements[1].sql[1]).toContain(
      '"row_count" = :archived_rows AND "checksum" = :archived_checksum',
    );
    expect(await world.viewRows()).toEqual(before);
    expect(world.lakeFiles()).toEqual(files);
    expect(await world.ledgerRuns()).toEqual([]);
  });
});

describe('one run at a time', () => {
  test('two runs started at once: one proceeds, the other reports the active run', async () => {
    // both read an empty ledger before either starts
    let arrived = 0;
    let release: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => (release = resolve));
    const gate = async (label: string) => {
      if (label === 'query plan.tax') {
        arrived += 1;
        if (arrived === 2) release();
        await barrier;
      }
    };
    const [a, b] = [new Faults(undefined, gate), new Faults(undefined, gate)];
    // a run that ends before the barrier must not leave the other waiting
    const results = await Promise.allSettled([
      (await world.archiver(a.wrap)).run(target(RUN)).finally(release),
      (await world.archiver(b.wrap)).run(target('20260101T000001Z')).finally(release),
    ]);
    const finished = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(finished).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0].reason).toBeInstanceOf(RunBusyError);
    const winner = (finished[0] as PromiseFulfilledResult<{ runId: string }>).value.runId;
    expect((refused[0].reason as Error).message).toMatch(
      new RegExp(`^run ${winner} \\(cutoff 2026-01-01\\) is active \\(`),
    );
    expect((await world.ledgerRuns()).map((r) => r.run_id)).toEqual([winner]);
  });

  test('a run started while another is unfinished resumes that one instead', async () => {
    // given a run that died right after its first commit
    const crashed = new Faults({ at: commitOf(2023), when: 'after' });
    await expect((await world.archiver(crashed.wrap)).run(target())).rejects.toThrow(CRASHED);
    // when a run with another id and cutoff starts, then it finishes the unfinished one instead
    const report = await (
      await world.archiver()
    ).run(target('20270101T000000Z', parseCalendarDate('2027-01-01', 'test')));
    expect([report.runId, report.cutoff, report.resumed, report.batches]).toEqual([
      RUN,
      '2026-01-01',
      true,
      3,
    ]);
    expect(await world.ledgerRuns()).toHaveLength(1);
  });
});

describe('abort', () => {
  test('discards the uncommitted batches, keeps the committed ones, and removes only the discarded files', async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    // given a run that died after committing 2023 and exporting 2024
    const crashed = new Faults({ at: `execute ${RUN}.verify.tax.2024.a1:`, when: 'after' });
    await expect((await world.archiver(crashed.wrap)).run(target())).rejects.toThrow(CRASHED);
    // when it is aborted
    const aborted = await (await world.archiver()).abort();
    // then 2023 stays archived, 2024 and 2025 are hot again, and 2024's files are gone
    expect(aborted?.runId).toBe(RUN);
    expect((await world.ledgerRuns()).map((r) => r.state)).toEqual(['aborted']);
    expect((await world.committedBatches()).map((b) => b.year)).toEqual([2023, 2023, 2023]);
    const parquet = [...world.lakeFiles().keys()].filter((p) => p.endsWith('.parquet'));
    expect(parquet.length).toBeGreaterThan(0);
    expect(parquet.every((p) => p.includes('/year=2023/'))).toBe(true);
    expect(await hot(`SELECT DISTINCT year FROM ext_contabyx.transactions`)).toEqual([{ year: '2023' }]);
    await invariants.check('after abort');
    // and a later run archives 2024 and 2025 as new batches
    const next = await (await world.archiver()).run(target('20260102T000000Z'));
    expect(next.tables[0].years.map((y) => y.year)).toEqual([2024, 2025]);
    await invariants.check('after the next run');
  });

  test('with nothing unfinished, abort changes nothing', async () => {
    await (await world.archiver()).run(target());
    const files = world.lakeFiles();
    expect(await (await world.archiver()).abort()).toBeUndefined();
    expect(world.lakeFiles()).toEqual(files);
    expect((await world.ledgerRuns()).map((r) => r.state)).toEqual(['finished']);
  });

  test('fails to abort a run that protocol v1 staged, which only a run can finish', async () => {
    await world.admin.execute(
      `CREATE TABLE archive_meta.run_years (run_id VARCHAR, table_name VARCHAR, year INTEGER, row_count BIGINT, checksum VARCHAR)`,
    );
    await world.admin.execute(
      `CREATE TABLE archive_meta.run_exports (run_id VARCHAR, table_name VARCHAR, location VARCHAR, file_count INTEGER, byte_count BIGINT, row_count BIGINT, year_files VARCHAR)`,
    );
    await world.admin.execute(
      `INSERT INTO archive_meta.runs (run_id, cutoff, state, error) VALUES ('${RUN}', DATE '2026-01-01', 'staged', NULL)`,
    );
    await world.admin.execute(
      `INSERT INTO archive_meta.run_years VALUES ('${RUN}', 'transactions', 2024, 0, '')`,
    );
    const abort = (await world.archiver()).abort();
    await expect(abort).rejects.toBeInstanceOf(InputError);
    await expect(abort).rejects.toThrow(
      `abort: run ${RUN} was started by protocol v1 and holds rows in its stage tables; allowed: run, which finishes it`,
    );
  });
});
