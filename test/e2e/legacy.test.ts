import { parseCalendarDate } from '../../src/core/cutoff';
import { CRASHED, Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { leaveV1Ledger } from '../support/v1-ledger';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

const V1_FINISHED = '20240101T000000Z';
const V1_STAGED = '20250101T000000Z';

let world: World;
afterEach(() => world.close());

describe('a warehouse where only protocol v1 ever ran', () => {
  /** A warehouse that v1 set up: its runs table and its catalog's tables, nothing of v2. */
  async function setUpByV1(): Promise<World> {
    const v1 = await World.create(CONTABYX, CONTABYX_SMALL_DATA, { setup: false });
    await v1.admin.execute(
      'CREATE SCHEMA archive_meta; CREATE TABLE archive_meta.runs ("run_id" VARCHAR(16) NOT NULL, "cutoff" DATE NOT NULL, "state" VARCHAR(16) NOT NULL, "error" VARCHAR(1024))',
    );
    const catalog = (await v1.session()).catalog;
    for (const t of ['transactions', 'transfers', 'tax']) await catalog.ensureTable(t);
    return v1;
  }

  test('the first command of v2 takes the v1 ledger in: setup and run upgrade it instead of refusing the views v1 built', async () => {
    // given a warehouse where v1 archived 2023 and then staged 2024, and nothing of v2
    world = await setUpByV1();
    await leaveV1Ledger(world, {
      finishedRun: V1_FINISHED,
      finishedCutoff: '2024-01-01',
      stagedRun: V1_STAGED,
      stagedCutoff: '2025-01-01',
    });
    const invariants = await Invariants.capture(world, '2025-01-01');
    const viewsUnderV1 = await world.viewRows();

    // when the deploy's setup runs, then it takes the v1 runs in and the views read the same rows
    await (await world.archiver()).setup();
    expect(await world.viewRows()).toEqual(viewsUnderV1);
    expect((await world.ledgerRuns()).map((r) => [r.run_id, r.state])).toEqual([
      [V1_FINISHED, 'finished'],
      [V1_STAGED, 'running'],
    ]);
    // and the next run finishes the staged v1 run, then archives what is left
    const report = await (
      await world.archiver()
    ).run({ runId: '20260101T000000Z', cutoff: parseCalendarDate('2026-01-01', 'test') });
    expect([report.runId, report.resumed, report.outcome]).toEqual([V1_STAGED, true, 'finished']);
    await invariants.check('after v2 finished the v1 run');
    const next = await (
      await world.archiver()
    ).run({ runId: '20260101T000000Z', cutoff: parseCalendarDate('2026-01-01', 'test') });
    expect([next.outcome, next.tables[0].years.map((y) => y.year)]).toEqual(['finished', [2025]]);
  });

  test('a v1 ledger is taken in by a first run too, with no setup before it', async () => {
    world = await setUpByV1();
    await leaveV1Ledger(world, { finishedRun: V1_FINISHED, finishedCutoff: '2024-01-01' });
    const invariants = await Invariants.capture(world, '2026-01-01');
    // status reads v1's runs as they are, writing nothing
    expect((await (await world.archiver()).status()).runs.map((r) => [r.runId, r.state])).toEqual([
      [V1_FINISHED, 'finished'],
    ]);
    const report = await (
      await world.archiver()
    ).run({ runId: '20260101T000000Z', cutoff: parseCalendarDate('2026-01-01', 'test') });
    expect([report.outcome, report.tables[0].years.map((y) => y.year)]).toEqual(['finished', [2024, 2025]]);
    await invariants.check('after the first v2 run');
  });
});

describe('a ledger left by protocol v1', () => {
  beforeEach(async () => {
    world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
  });

  test('a v1 run left staged is finished by v2: its stage tables are exported per year, checked, emptied and dropped', async () => {
    // given v1 archived 2023 and then staged 2024, and stopped
    const invariants = await Invariants.capture(world, '2025-01-01');
    await leaveV1Ledger(world, {
      finishedRun: V1_FINISHED,
      finishedCutoff: '2024-01-01',
      stagedRun: V1_STAGED,
      stagedCutoff: '2025-01-01',
    });
    const viewsUnderV1 = await world.viewRows();

    // when v2 runs (the yearly schedule of 2026, say)
    const report = await (
      await world.archiver()
    ).run({ runId: '20260101T000000Z', cutoff: parseCalendarDate('2026-01-01', 'test') });

    // then it finished the v1 run first, from its stage tables, and nothing was lost or doubled
    expect([report.runId, report.resumed, report.outcome]).toEqual([V1_STAGED, true, 'finished']);
    expect(report.tables.map((t) => [t.table, t.years.map((y) => y.year)])).toEqual([
      ['transactions', [2024]],
      ['transfers', [2024]],
      ['tax', [2024]],
    ]);
    expect(await world.viewRows()).toEqual(viewsUnderV1);
    await invariants.check('after v2 finished the v1 run');
    expect((await world.tableNames()).filter((t) => t.startsWith('archive_stage.'))).toEqual([]);
    expect((await world.ledgerRuns()).map((r) => [r.run_id, r.state])).toEqual([
      [V1_FINISHED, 'finished'],
      [V1_STAGED, 'finished'],
    ]);
    // and v1's committed batches are in v2's ledger, still read by the views at their v1 locations
    expect(
      (await world.committedBatches())
        .filter((b) => b.runId === V1_FINISHED)
        .map((b) => `${b.table} ${b.year}`),
    ).toEqual(['tax 2023', 'transactions 2023', 'transfers 2023']);
    // and the next run archives 2025 as v2 batches
    const next = await (
      await world.archiver()
    ).run({ runId: '20260101T000000Z', cutoff: parseCalendarDate('2026-01-01', 'test') });
    expect(next.tables[0].years.map((y) => y.year)).toEqual([2025]);
    await invariants.check('after the next run');
  });

  test('a crash while v2 finishes a v1 run leaves every row in one place, and the next invocation goes on', async () => {
    const invariants = await Invariants.capture(world, '2025-01-01');
    await leaveV1Ledger(world, {
      finishedRun: V1_FINISHED,
      finishedCutoff: '2024-01-01',
      stagedRun: V1_STAGED,
      stagedCutoff: '2025-01-01',
    });
    const cutoff = parseCalendarDate('2026-01-01', 'test');
    for (const at of [
      `transaction ${V1_STAGED}.migrate`,
      `transaction ${V1_STAGED}.commit.transactions.2024.a1`,
      `transaction ${V1_STAGED}.finish`,
    ]) {
      const crashed = new Faults({ at, when: 'after' });
      const outcome = await (
        await world.archiver(crashed.wrap)
      )
        .run({ runId: '20260101T000000Z', cutoff })
        .catch((e: Error) => e);
      if (outcome instanceof Error) expect(outcome.message).toMatch(CRASHED);
    }
    await (await world.archiver()).run({ runId: '20260101T000000Z', cutoff });
    await invariants.check('after the resumed runs');
  });
});
