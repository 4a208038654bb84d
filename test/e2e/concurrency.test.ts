import { parseCalendarDate, RunTarget } from '../../src/core/cutoff';
import { RunFailedError } from '../../src/core/errors';
import type { ProgressEvent } from '../../src/protocol/archive';
import { Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const RUN = '20260101T000000Z';
const target = (runId = RUN): RunTarget => ({ runId, cutoff: CUTOFF });
const commitOf = (year: number, attempt = 1) => `transaction ${RUN}.commit.transactions.${year}.a${attempt}`;

let world: World;
beforeEach(async () => {
  world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
});
afterEach(() => world.close());

const hot = (sql: string) => world.admin.query(sql);

/** A transactions row as the union view returns it, as a JSON line. */
const transaction = (id: number, time: string, amount = 9.5) =>
  JSON.stringify({ transactionid: String(id), clientid: '9', typeid: '9', time, amount: String(amount) });

describe('other sessions write while a run goes on', () => {
  test('an update, a delete and an old insert between export and commit fail the check; the batch is exported again and committed', async () => {
    // given a run that has exported and verified 2024, and another session
    const invariants = await Invariants.capture(world, CUTOFF);
    const other = await world.session();
    const [updated] = await world.rows(`(SELECT * FROM contabyx.transactions WHERE transactionid = 130)`);
    const [deleted] = await world.rows(`(SELECT * FROM contabyx.transactions WHERE transactionid = 131)`);
    const progress: ProgressEvent[] = [];
    let changed = false;
    const faults = new Faults(undefined, async (label) => {
      if (
        !changed &&
        label === `execute ${RUN}.verify.tax.2024.a1: UPDATE "archive_meta"."batches" SET "sta`
      ) {
        changed = true;
        // when, before its commit, it updates one old row, deletes another and inserts one of 2024
        await other.warehouse.execute(
          `UPDATE contabyx.transactions SET amount = 1000.5 WHERE transactionid = 130`,
        );
        await other.warehouse.execute(`DELETE FROM contabyx.transactions WHERE transactionid = 131`);
        await other.warehouse.execute(
          `INSERT INTO contabyx.transactions VALUES (7001, 9, 9, TIMESTAMP '2024-07-01 00:00:00', 9.5)`,
        );
      }
    });
    const report = await (
      await world.archiver((deps) => ({ ...faults.wrap(deps), progress: (e) => progress.push(e) }))
    ).run(target());
    invariants.removeRows('transactions', [updated, deleted]);
    invariants.addLate('transactions', [
      JSON.stringify({ ...JSON.parse(updated), amount: '1000.5' }),
      transaction(7001, '2024-07-01 00:00:00'),
    ]);

    // then the first commit of 2024 failed its check and changed nothing, the second committed
    expect(faults.calls).toContain(commitOf(2024, 1));
    expect(faults.calls).toContain(commitOf(2024, 2));
    // (one row left and another came, so every column's checksum differs)
    expect(progress.filter((e) => e.message.startsWith('discarded')).map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^discarded for another export: the hot rows changed since the export: transactions 2024: 124 rows \(checksum \d+\) in the warehouse, 124 rows \(checksum \d+\) in the archive; columns that differ: transactionid, clientid, typeid, time, amount$/,
      ),
    ]);
    expect(report.tables[0].years.map((y) => [y.year, y.rows, y.attempts])).toEqual([
      [2023, 121, 1],
      [2024, 124, 2],
      [2025, 124, 1],
    ]);
    // and nothing is lost or shown twice: the changed rows went with the second export
    await invariants.check('after the run');
    expect(
      await hot(
        `SELECT amount FROM ext_contabyx.transactions WHERE transactionid IN (130, 131, 7001) ORDER BY 1`,
      ),
    ).toEqual([{ amount: '9.5' }, { amount: '1000.5' }]);
  });

  test('fails the run after maxAttempts when the old rows change before every commit, and deletes nothing of that year', async () => {
    // given a session that changes an old tax row of 2024 before every commit of 2024
    const invariants = await Invariants.capture(world, CUTOFF);
    const other = await world.session();
    let fee = 0;
    const faults = new Faults(undefined, async (label) => {
      if (/^execute 20260101T000000Z\.verify\.tax\.2024\.a\d: /.test(label)) {
        fee += 1;
        await other.warehouse.execute(
          `UPDATE contabyx.tax SET fee = ${fee} + 0.25 WHERE transactionid = 151`,
        );
      }
    });
    const [before] = await world.rows(`(SELECT * FROM contabyx.tax WHERE transactionid = 151)`);
    const run = (await world.archiver(faults.wrap)).run(target());

    // then the run fails after three exports of 2024, naming the table, the year and the figures
    await expect(run).rejects.toBeInstanceOf(RunFailedError);
    await expect(run).rejects.toThrow(
      /^run 20260101T000000Z failed at transactions 2024: transactions 2024: the commit check failed 3 times \(maxAttempts 3\); the hot rows changed since the export: tax 2024: 41 rows \(checksum -?\d+\) in the warehouse, 41 rows \(checksum -?\d+\) in the archive; columns that differ: fee\. Nothing was deleted; run again to try once more\n/,
    );
    expect(faults.calls.filter((c) => c.startsWith(`transaction ${RUN}.commit.transactions.2024`))).toEqual([
      commitOf(2024, 1),
      commitOf(2024, 2),
      commitOf(2024, 3),
    ]);
    // and 2023 stays committed while every row of 2024 is still hot, and nothing of 2024 is in the lake
    expect([...new Set((await world.committedBatches()).map((b) => b.year))]).toEqual([2023]);
    expect(
      await hot(
        `SELECT COUNT(*) AS n FROM contabyx.transactions WHERE "time" >= TIMESTAMP '2024-01-01' AND "time" < TIMESTAMP '2025-01-01'`,
      ),
    ).toEqual([{ n: '124' }]);
    expect(
      [...world.lakeFiles().keys()].filter((p) => p.includes('/year=2024/') && p.endsWith('.parquet')),
    ).toEqual([]);
    invariants.removeRows('tax', [before]);
    invariants.addLate('tax', [JSON.stringify({ ...JSON.parse(before), fee: '3.25' })]);
    await invariants.check('after the failed run');
    expect((await world.ledgerRuns())[0].error).toMatch(/the commit check failed 3 times/);

    // and a completion event does not try again, while an explicit run gives the batch three more attempts
    await expect((await world.archiver()).resume()).rejects.toThrow(
      /transactions 2024: the commit check failed 3 times \(maxAttempts 3\)/,
    );
    const resumed = await (await world.archiver()).run(target());
    expect([resumed.outcome, resumed.resumed, resumed.batches]).toEqual(['finished', true, 3]);
    await invariants.check('after the explicit run');
  });

  test('old rows that arrive after their year committed stay hot, and a later run archives them as a new batch', async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    const other = await world.session();
    const faults = new Faults(undefined, async (label) => {
      if (label === commitOf(2023)) {
        await other.warehouse.execute(
          `INSERT INTO contabyx.transactions VALUES (5000, 9, 9, TIMESTAMP '2023-06-01 00:00:00', 9.5)`,
        );
        await other.warehouse.execute(`INSERT INTO contabyx.tax VALUES (5000, 9, 0.5)`);
        // a row of 2024 arrives before 2024 is exported: it goes with 2024
        await other.warehouse.execute(
          `INSERT INTO contabyx.transactions VALUES (5001, 9, 9, TIMESTAMP '2024-06-01 00:00:00', 9.5)`,
        );
        invariants.addLate('transactions', [
          transaction(5000, '2023-06-01 00:00:00'),
          transaction(5001, '2024-06-01 00:00:00'),
        ]);
        invariants.addLate('tax', [JSON.stringify({ transactionid: '5000', taxtypeid: '9', fee: '0.5' })]);
      }
    });
    const report = await (await world.archiver(faults.wrap)).run(target());
    expect(report.tables[0].years.find((y) => y.year === 2024)?.rows).toBe(125);
    expect(
      await hot(
        `SELECT transactionid FROM contabyx.transactions WHERE "time" < TIMESTAMP '2026-01-01' ORDER BY 1`,
      ),
    ).toEqual([{ transactionid: '5000' }]);
    await invariants.check('after the run');
    // then a later run with the same cutoff archives them as a second batch of 2023
    const second = await (await world.archiver()).run(target('20260102T000000Z'));
    expect([second.rows, second.batches]).toEqual([2, 1]);
    await invariants.check('after the second run');
    expect(
      await hot(`SELECT COUNT(*) AS n FROM contabyx.transactions WHERE "time" < TIMESTAMP '2026-01-01'`),
    ).toEqual([{ n: '0' }]);
  });

  test('rows another session inserts during the commit transaction are neither checked nor deleted', async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    const other = await world.session();
    await (
      await world.archiver((deps) => ({
        ...deps,
        warehouse: {
          ...deps.warehouse,
          dialect: deps.warehouse.dialect,
          query: (sql, step) => deps.warehouse.query(sql, step),
          execute: (sql, step, options) => deps.warehouse.execute(sql, step, options),
          transaction: async (sqls, step, options) => {
            if (step !== `${RUN}.commit.transactions.2024.a1`)
              return deps.warehouse.transaction(sqls, step, options);
            // the commit has checked its snapshot when the other session commits an old row
            const w = deps.warehouse as unknown as { connection: { run(sql: string): Promise<unknown> } };
            await w.connection.run('BEGIN TRANSACTION');
            for (const sql of sqls.slice(0, 4)) await w.connection.run(sql);
            await other.warehouse.execute(
              `INSERT INTO contabyx.transactions VALUES (7000, 1, 1, TIMESTAMP '2024-01-02 00:00:00', 1.0)`,
            );
            for (const sql of sqls.slice(4)) await w.connection.run(sql);
            await w.connection.run('COMMIT');
          },
        },
      }))
    ).run(target());
    invariants.addLate(
      'transactions',
      await world.rows('(SELECT * FROM contabyx.transactions WHERE transactionid = 7000)'),
    );
    await invariants.check('after a run with a concurrent insert');
    expect(
      await hot(`SELECT transactionid FROM contabyx.transactions WHERE "time" < TIMESTAMP '2026-01-01'`),
    ).toEqual([{ transactionid: '7000' }]);
  });

  test('a commit that lost to a concurrent transaction is tried again, unchanged, after a pause', async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    const pauses: number[] = [];
    const progress: string[] = [];
    let lost = false;
    const commits: string[][] = [];
    const report = await (
      await world.archiver((deps) => ({
        ...deps,
        sleep: async (ms) => {
          pauses.push(ms);
        },
        progress: (e) => progress.push(e.message),
        warehouse: {
          ...deps.warehouse,
          dialect: deps.warehouse.dialect,
          query: (sql, step) => deps.warehouse.query(sql, step),
          execute: (sql, step, options) => deps.warehouse.execute(sql, step, options),
          transaction: async (sqls, step, options) => {
            if (step === `${RUN}.commit.transactions.2023.a1`) commits.push([...sqls]);
            if (step === `${RUN}.commit.transactions.2023.a1` && !lost) {
              lost = true;
              throw new Error(
                'TransactionContext Error: Catalog write-write conflict on alter with "views_version"',
              );
            }
            return deps.warehouse.transaction(sqls, step, options);
          },
        },
      }))
    ).run(target());
    expect(report.outcome).toBe('finished');
    expect(commits).toHaveLength(2);
    expect(commits[1]).toEqual(commits[0]);
    expect(pauses).toEqual([1000]);
    expect(progress).toContain('lost to a concurrent transaction; trying the same commit again (1 of 5)');
    await invariants.check('after the run');
  });
});
