import { parseCalendarDate, RunTarget } from '../../lambda/core/cutoff';
import { InputError, RunFailedError } from '../../lambda/core/errors';
import { RunBusyError } from '../../lambda/protocol/archive';
import { CRASHED, Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../support/world';

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
/** The call that records a run as verified (an execute: one statement, no transaction needed). */
const VERIFIED = 'execute 20260101T000000Z.verify: UPDATE "archive_meta"."runs" SET "state"';
const target = (runId = '20260101T000000Z', cutoff = CUTOFF): RunTarget => ({ runId, cutoff });

let world: World;
beforeEach(async () => {
  world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
});
afterEach(() => world.close());

const hot = (sql: string) => world.admin.query(sql);

/** Leaves `world` as a run whose process died right after the named call. */
async function crashAfter(label: string): Promise<void> {
  const faults = new Faults({ at: label, when: 'after' });
  const run = (await world.archiver(faults.wrap)).run(target());
  await expect(run).rejects.toThrow(CRASHED);
  expect(faults.calls).toContain(label);
}

describe('a run on the embedded engine', () => {
  test('moves rows older than the cutoff and leaves NULL, future and cutoff-instant rows hot', async () => {
    // given the small contabyx set, when a run archives everything before 2026
    const invariants = await Invariants.capture(world, CUTOFF);
    const report = await (await world.archiver()).run(target());

    // then the run finished and every row older than 2026 left the hot table
    expect(report.outcome).toBe('finished');
    expect((await world.ledgerRuns()).map((r) => [r.run_id, r.state])).toEqual([
      ['20260101T000000Z', 'finished'],
    ]);
    const kept = await hot(
      `SELECT transactionid FROM contabyx.transactions WHERE transactionid > 1000 ORDER BY 1, "time"`,
    );
    expect(kept.map((r) => r.transactionid)).toEqual(['1001', '1002', '1004', '1006']);
    expect(
      await hot(`SELECT COUNT(*) AS n FROM contabyx.transactions WHERE "time" < TIMESTAMP '2026-01-01'`),
    ).toEqual([{ n: '0' }]);
    expect(report.tables[0].years.map((y) => y.year)).toEqual([2023, 2024, 2025]);
    expect(report.tables.every((t) => t.verified)).toBe(true);
    expect(await world.stageTables()).toEqual([]);
    await invariants.check('after the run');
  });

  test('keeps every invariant after every phase', async () => {
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
        'transaction 20260101T000000Z.stage',
        'catalog.add tax',
        VERIFIED,
        'transaction 20260101T000000Z.publish',
        'transaction 20260101T000000Z.finish',
      ]),
    );
  });

  test('a crash before or after any step leaves every row in one place, and a resume completes', async () => {
    // given the number of port calls a clean run makes
    const probe = new Faults();
    const scratch = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
    await (await scratch.archiver(probe.wrap)).run(target());
    scratch.close();
    // A crash before a read leaves the same state as a crash after the call before it, so the
    // points that matter are before and after each call that writes.
    const writes = probe.calls.flatMap((label, at) => (label.startsWith('query') ? [] : [at]));
    const failures: string[] = [];
    for (const at of writes) {
      for (const when of ['before', 'after'] as const) {
        const w = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
        const point = `${when} call ${at} (${probe.calls[at]})`;
        try {
          const invariants = await Invariants.capture(w, CUTOFF);
          // when the process dies there
          const crashed = new Faults({ at, when });
          await expect((await w.archiver(crashed.wrap)).run(target())).rejects.toThrow(CRASHED);
          // then every invariant holds, and the next invocation resumes and finishes the same run
          await invariants.check(`crash ${point}`);
          const report = await (await w.archiver()).run(target('20260101T000001Z'));
          await invariants.check(`resume after crash ${point}`);
          const runs = await w.ledgerRuns();
          // a crash before the stage committed leaves no run: the next invocation starts its own
          if (runs.length !== 1 || runs[0].state !== 'finished' || report.outcome === 'already-done') {
            throw new Error(
              `ledger after resume: ${JSON.stringify(runs)}, report ${report.outcome} ${report.runId}`,
            );
          }
          if ((await w.stageTables()).length > 0) throw new Error('stage tables left behind');
        } catch (error) {
          failures.push(`${point}: ${(error as Error).message}`);
        } finally {
          w.close();
        }
      }
    }
    expect(writes.length).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  });

  test('old rows inserted between phases stay hot, and a later run archives them as a new batch', async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    const other = await world.session();
    const late = async (id: number) => {
      await other.warehouse.execute(
        `INSERT INTO contabyx.transactions VALUES (${id}, 9, 9, TIMESTAMP '2024-06-01 00:00:00', 9.5)`,
      );
      await other.warehouse.execute(`INSERT INTO contabyx.tax VALUES (${id}, 9, 0.5)`);
      invariants.addLate('transactions', [
        JSON.stringify({
          transactionid: String(id),
          clientid: '9',
          typeid: '9',
          time: '2024-06-01 00:00:00',
          amount: '9.5',
        }),
      ]);
      invariants.addLate('tax', [JSON.stringify({ transactionid: String(id), taxtypeid: '9', fee: '0.5' })]);
    };
    let n = 5000;
    const faults = new Faults(undefined, async (label) => {
      if (label.startsWith('transaction 2026') || label === VERIFIED) {
        await late(n++);
        await invariants.check(`after ${label}`);
      }
    });
    // when rows older than the cutoff arrive after the stage transaction and after each later one
    await (await world.archiver(faults.wrap)).run(target());
    const lateIds = await hot(
      `SELECT transactionid FROM contabyx.transactions WHERE "time" < TIMESTAMP '2026-01-01' ORDER BY 1`,
    );
    expect(lateIds.map((r) => r.transactionid)).toEqual(['5000', '5001', '5002', '5003']);

    // then a later run with the same cutoff archives them as a second batch
    const second = await (await world.archiver()).run(target('20260102T000000Z'));
    expect(second.rows).toBe(8);
    expect((await world.ledgerRuns()).map((r) => r.state)).toEqual(['finished', 'finished']);
    await invariants.check('after the second run');
    await expect(
      hot(`SELECT COUNT(*) AS n FROM contabyx.transactions WHERE "time" < TIMESTAMP '2026-01-01'`),
    ).resolves.toEqual([{ n: '0' }]);
  });

  test('rows another session inserts during the stage transaction are neither copied nor deleted', async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    const other = await world.session();
    await (
      await world.archiver((deps) => ({
        ...deps,
        warehouse: {
          ...deps.warehouse,
          dialect: deps.warehouse.dialect,
          query: (sql, step) => deps.warehouse.query(sql, step),
          execute: (sql, step) => deps.warehouse.execute(sql, step),
          transaction: async (sqls, step) => {
            if (!step.endsWith('.stage')) return deps.warehouse.transaction(sqls, step);
            // the stage transaction has read its snapshot when the other session commits
            const w = deps.warehouse as unknown as { connection: { run(sql: string): Promise<unknown> } };
            await w.connection.run('BEGIN TRANSACTION');
            await w.connection.run(sqls[0]);
            await w.connection.run(sqls[2]);
            await other.warehouse.execute(
              `INSERT INTO contabyx.transactions VALUES (7000, 1, 1, TIMESTAMP '2024-01-02 00:00:00', 1.0)`,
            );
            for (const sql of sqls.slice(3).concat(sqls[1])) await w.connection.run(sql);
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
    expect(world.lakeFiles().size).toBeGreaterThan(0);
    const batches = await hot(`SELECT DISTINCT archive_run FROM ext_contabyx.transactions ORDER BY 1`);
    expect(batches.map((r) => r.archive_run)).toEqual(['20260101T000000Z', '20270101T000000Z']);
  });

  test('duplicate parent keys do not duplicate child rows, and children without a moving parent stay hot', async () => {
    await (await world.archiver()).run(target());
    // 1005 is archived twice (2024, 2025): its transfer is archived once, with the earlier year
    const archived = await hot(
      `SELECT transferid, year FROM ext_contabyx.transfers WHERE transferid >= 9000 ORDER BY 1`,
    );
    expect(archived).toEqual([
      { transferid: '9001', year: '2024' },
      { transferid: '9002', year: '2024' },
    ]);
    // no parent (777777), a NULL key, a hot parent (1004) and tax of a hot or missing parent stay hot
    const hotTransfers = await hot(
      `SELECT transferid FROM contabyx.transfers WHERE transferid >= 9000 ORDER BY 1`,
    );
    expect(hotTransfers.map((r) => r.transferid)).toEqual(['9003', '9004', '9005']);
    const hotTax = await hot(`SELECT transactionid FROM contabyx.tax WHERE transactionid > 1000 ORDER BY 1`);
    expect(hotTax.map((r) => r.transactionid)).toEqual(['1001', '1002', '888888']);
  });
});

describe('one run at a time', () => {
  test('two runs started at once: one proceeds, the other reports the active run', async () => {
    // both read an empty ledger before either stages
    let arrived = 0;
    let release: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => (release = resolve));
    const gate = async (label: string) => {
      if (label.startsWith('query plan.tax.')) return;
      if (label === 'query plan.tax') {
        arrived += 1;
        if (arrived === 2) release();
        await barrier;
      }
    };
    const [a, b] = [new Faults(undefined, gate), new Faults(undefined, gate)];
    // a run that ends before the barrier must not leave the other waiting
    const results = await Promise.allSettled([
      (await world.archiver(a.wrap)).run(target('20260101T000000Z')).finally(release),
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
    // given a run that died right after its stage transaction
    await crashAfter('transaction 20260101T000000Z.stage');
    // when a run with another id and cutoff starts, then it finishes the unfinished one instead
    const report = await (
      await world.archiver()
    ).run(target('20270101T000000Z', parseCalendarDate('2027-01-01', 'test')));
    expect([report.runId, report.cutoff, report.resumed]).toEqual(['20260101T000000Z', '2026-01-01', true]);
    expect(await world.ledgerRuns()).toHaveLength(1);
  });
});

describe('verification and abort', () => {
  test('fails the run when the archive does not read back as staged, publishes nothing, and recovers on resume', async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    const tamper = new Faults(undefined, async (label) => {
      if (label.startsWith('lake.manifest') && label.includes('tax/')) {
        const parquet = [...world.lakeFiles().keys()].find(
          (p) => p.includes('/tax/') && p.includes('year=2024'),
        );
        await world.admin.execute(
          `COPY (SELECT 1 AS transactionid, 1 AS taxtypeid, 0.5 AS fee) TO '${parquet}' (FORMAT PARQUET)`,
        );
      }
    });
    // when a file is replaced between the export and its verification
    const failed = (await world.archiver(tamper.wrap)).run(target());
    await expect(failed).rejects.toBeInstanceOf(RunFailedError);
    await expect(failed).rejects.toThrow(
      /^run 20260101T000000Z failed in phase verify: tax: rows per year read back through the external table are 2023: \d+, 2024: 1, 2025: \d+; the ledger says/,
    );
    // then nothing is published, the rows are still visible once, and the ledger says why
    const [run] = await world.ledgerRuns();
    expect(run.state).toBe('staged');
    expect(run.error).toMatch(/failed in phase verify/);
    // and the files that did not match are gone, so the next attempt cannot reuse them
    expect([...world.lakeFiles().keys()].filter((p) => p.includes('/tax/'))).toEqual([]);
    await invariants.check('after a failed verification');
    // and the next invocation exports that table again and finishes
    const report = await (await world.archiver()).run(target());
    expect([report.outcome, report.resumed]).toEqual(['finished', true]);
    await invariants.check('after the resumed run');
  });

  test('an export that completed unrecorded is recorded from its manifest, not done again', async () => {
    // given a run whose process died after tax's export wrote its manifest, before recording it
    const invariants = await Invariants.capture(world, CUTOFF);
    const manifestWritten = 'execute 20260101T000000Z.export.tax: COPY (SELECT file_name AS url, file_size';
    await crashAfter(manifestWritten);
    const files = world.lakeFiles();
    // when the next invocation resumes it
    const resumed = new Faults();
    await (await world.archiver(resumed.wrap)).run(target());
    // then tax is not exported again: its files are the ones written before the crash
    expect(resumed.calls.filter((c) => c.startsWith('execute 20260101T000000Z.export.tax: COPY'))).toEqual(
      [],
    );
    const taxFiles = [...files].filter(([path]) => path.includes('/tax/') && path.endsWith('.parquet'));
    expect(taxFiles.length).toBeGreaterThan(0);
    for (const [path, hash] of taxFiles) expect(world.lakeFiles().get(path)).toBe(hash);
    await invariants.check('after the resumed run');
  });

  test("abort before publish moves staged rows back and removes the run's partitions and files", async () => {
    const invariants = await Invariants.capture(world, CUTOFF);
    const before = await world.rows('contabyx.transactions');
    await crashAfter(VERIFIED);
    const aborted = await (await world.archiver()).abort();
    expect(aborted?.runId).toBe('20260101T000000Z');
    expect(await world.rows('contabyx.transactions')).toEqual(before);
    expect([...world.lakeFiles().keys()].filter((p) => p.endsWith('.parquet'))).toEqual([]);
    expect(await hot(`SELECT COUNT(*) AS n FROM ext_contabyx.transactions`)).toEqual([{ n: '0' }]);
    expect((await world.ledgerRuns()).map((r) => r.state)).toEqual(['aborted']);
    await invariants.check('after abort');
  });

  test('fails to abort a published run', async () => {
    await crashAfter('transaction 20260101T000000Z.publish');
    const abort = (await world.archiver()).abort();
    await expect(abort).rejects.toBeInstanceOf(InputError);
    await expect(abort).rejects.toThrow(
      'abort: run 20260101T000000Z is published and is not aborted; allowed: abort before publish. Run again to finish it.',
    );
  });
});
