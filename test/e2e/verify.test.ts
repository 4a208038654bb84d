import { parseCalendarDate, RunTarget } from '../../src/core/cutoff';
import { RunFailedError } from '../../src/core/errors';
import type { ProgressEvent } from '../../src/protocol/archive';
import { CRASHED, Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const RUN = '20260101T000000Z';
const target = (): RunTarget => ({ runId: RUN, cutoff: CUTOFF });

let world: World;
beforeEach(async () => {
  world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
});
afterEach(() => world.close());

/** The exported tax file of `year`; a hook that fires before the export fails here, not in a stray file. */
function taxFile(year: number): string {
  const file = [...world.lakeFiles().keys()].find(
    (p) => p.includes('/tax/') && p.includes(`/year=${year}/`) && p.endsWith('.parquet'),
  );
  if (file === undefined) throw new Error(`no exported tax file of ${year} in the lake yet`);
  return file;
}

describe('nothing is deleted unless the same rows were read back from the lake first', () => {
  test('fails the run when a file reads back other rows than its manifest lists, discards the batch, and recovers on resume', async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    // when tax's 2024 file is replaced by one of a single row between its export and its verification
    const tamper = new Faults(undefined, async (label) => {
      if (label.startsWith(`execute ${RUN}.export.tax.2024.a1: UPDATE`)) {
        await world.admin.execute(
          `COPY (SELECT 1 AS transactionid, 1 AS taxtypeid, 0.5 AS fee) TO '${taxFile(2024)}' (FORMAT PARQUET)`,
        );
      }
    });
    const failed = (await world.archiver(tamper.wrap)).run(target());
    // then the run fails in verification, naming what differs; nothing of 2024 was deleted
    await expect(failed).rejects.toBeInstanceOf(RunFailedError);
    await expect(failed).rejects.toThrow(
      `run ${RUN} failed at transactions 2024: tax 2024: the manifest lists 41 rows; read back through the external table: 1\n`,
    );
    expect(tamper.calls.filter((c) => c.includes('.commit.transactions.2024'))).toEqual([]);
    const [run] = await world.ledgerRuns();
    expect([
      run.state,
      run.error?.startsWith(`run ${RUN} failed at transactions 2024: tax 2024: the manifest lists 41 rows`),
    ]).toEqual(['running', true]);
    // and the batch's files are gone, so the next attempt cannot reuse them
    expect([...world.lakeFiles().keys()].filter((p) => p.includes('/year=2024/'))).toEqual([]);
    await invariants.check('after a failed verification');
    // and the next invocation exports 2024 again and finishes
    const report = await (await world.archiver()).run(target());
    expect([report.outcome, report.resumed, report.tables[2].years[1].attempts]).toEqual([
      'finished',
      true,
      2,
    ]);
    await invariants.check('after the resumed run');
  });

  test('a file whose values were changed reads back the same number of rows, but fails the commit check: nothing is deleted', async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    const progress: ProgressEvent[] = [];
    let tampered = false;
    const tamper = new Faults(undefined, async (label) => {
      if (!tampered && label.startsWith(`execute ${RUN}.export.tax.2024.a1: UPDATE`)) {
        tampered = true;
        const file = taxFile(2024);
        await world.admin.execute(
          `CREATE TABLE t AS SELECT * FROM read_parquet('${file}', hive_partitioning = false)`,
        );
        await world.admin.execute(
          `UPDATE t SET fee = fee + 1 WHERE transactionid = (SELECT MIN(transactionid) FROM t)`,
        );
        await world.admin.execute(`COPY t TO '${file}' (FORMAT PARQUET); DROP TABLE t`);
      }
    });
    const report = await (
      await world.archiver((deps) => ({ ...tamper.wrap(deps), progress: (e) => progress.push(e) }))
    ).run(target());
    expect(progress.filter((e) => e.message.startsWith('discarded')).map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^discarded for another export: the hot rows changed since the export: tax 2024: 41 rows \(checksum -?\d+\) in the warehouse, 41 rows \(checksum -?\d+\) in the archive; columns that differ: fee$/,
      ),
    ]);
    expect(report.tables[2].years.map((y) => y.attempts)).toEqual([1, 2, 1]);
    await invariants.check('after the run');
  });

  test('an export that completed unrecorded is recorded from its manifest, not done again', async () => {
    // given a run whose process died after tax's 2024 export wrote its manifest, before recording it
    const invariants = await Invariants.capture(world, CUTOFF);
    const crashed = new Faults({
      at: `execute ${RUN}.export.tax.2024.a1: COPY (SELECT file_name`,
      when: 'after',
    });
    await expect((await world.archiver(crashed.wrap)).run(target())).rejects.toThrow(CRASHED);
    const file = taxFile(2024);
    const hash = world.lakeFiles().get(file);
    // when the next invocation resumes it
    const resumed = new Faults();
    await (await world.archiver(resumed.wrap)).run(target());
    // then tax 2024 is not exported again: its file is the one written before the crash
    expect(resumed.calls.filter((c) => c.startsWith(`execute ${RUN}.export.tax.2024.a1: COPY`))).toEqual([]);
    expect(world.lakeFiles().get(file)).toBe(hash);
    await invariants.check('after the resumed run');
  });

  test('a table with no rows in a year exports nothing, registers no partition, and is still checked in the commit', async () => {
    // given no tax rows in 2025
    await world.admin.execute(
      `DELETE FROM contabyx.tax WHERE transactionid IN (SELECT transactionid FROM contabyx.transactions WHERE "time" >= TIMESTAMP '2025-01-01')`,
    );
    const invariants = await Invariants.capture(world, CUTOFF);
    const faults = new Faults();
    const report = await (await world.archiver(faults.wrap)).run(target());
    expect(report.tables[2].years.map((y) => [y.year, y.rows > 0, y.files, y.committed])).toEqual([
      [2023, true, 1, true],
      [2024, true, 1, true],
      [2025, false, 0, true],
    ]);
    expect(faults.calls.filter((c) => c.startsWith(`execute ${RUN}.export.tax.2025.a1: COPY`))).toEqual([]);
    expect(faults.calls).not.toContain('catalog.add tax 2025');
    await invariants.check('after the run');
  });
});
