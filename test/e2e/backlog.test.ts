import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseCalendarDate, RunTarget } from '../../src/core/cutoff';
import type { Warehouse } from '../../src/protocol/ports';
import { CrashError, Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { CONTABYX, World } from '../../devkit/world';

const CUTOFF = parseCalendarDate('2025-01-01', 'test');
const RUN = '20250101T000000Z';
const target = (runId = RUN): RunTarget => ({ runId, cutoff: CUTOFF });

/** The contabyx tables with `n` transactions spread evenly from 2018 to mid-2025, children alike. */
const backlog = (n: number) => `
CREATE SCHEMA contabyx;
CREATE TABLE contabyx.transactions (transactionid INTEGER, clientid INTEGER, typeid INTEGER, "time" TIMESTAMP, amount DOUBLE);
CREATE TABLE contabyx.transfers (transferid INTEGER, expense_transactionid INTEGER, income_transactionid INTEGER);
CREATE TABLE contabyx.tax (transactionid INTEGER, taxtypeid INTEGER, fee DOUBLE);
INSERT INTO contabyx.transactions SELECT i, i % 1000, i % 7, TIMESTAMP '2018-01-01' + to_seconds(CAST(i AS BIGINT) * 236000000 // ${n}), i * 0.37
  FROM range(${n}) r(i);
INSERT INTO contabyx.transfers SELECT i, i * 3, i * 3 + 1 FROM range(${n} // 3) r(i);
INSERT INTO contabyx.tax SELECT i * 2, i % 5, i * 0.01 FROM range(${n} // 2) r(i);
CHECKPOINT;`;

let world: World | undefined;
afterEach(() => world?.close());

test("a seven-year backlog with a crash inside the fourth year's commit: three years stay committed, the resume finishes the rest", async () => {
  // given seven years before the cutoff, 2018 to 2024
  world = await World.create(CONTABYX, backlog(3000));
  const w = world;
  const invariants = await Invariants.capture(w, CUTOFF);
  // when the process dies in the middle of the commit of 2021, half its statements sent
  const dying = (deps: Parameters<Faults['wrap']>[0]) => {
    const warehouse: Warehouse = {
      ...deps.warehouse,
      dialect: deps.warehouse.dialect,
      query: (sql, step) => deps.warehouse.query(sql, step),
      execute: (sql, step, options) => deps.warehouse.execute(sql, step, options),
      transaction: async (sqls, step, options) => {
        if (step !== `${RUN}.commit.transactions.2021.a1`)
          return deps.warehouse.transaction(sqls, step, options);
        const connection = (
          deps.warehouse as unknown as { connection: { run(sql: string): Promise<unknown> } }
        ).connection;
        await connection.run('BEGIN TRANSACTION');
        for (const sql of sqls.slice(0, 6)) await connection.run(sql);
        await connection.run('ROLLBACK');
        throw new CrashError(`crash inside ${step}`);
      },
    };
    return { ...deps, warehouse };
  };
  await expect((await w.archiver(dying)).run(target())).rejects.toThrow(/crash inside/);

  // then 2018, 2019 and 2020 are committed, every row is in exactly one place, 2021 is still hot
  const committed = (await w.committedBatches()).filter((b) => b.table === 'transactions').map((b) => b.year);
  expect(committed).toEqual([2018, 2019, 2020]);
  await invariants.check('after the crash in 2021');
  expect(
    await w.admin.query(
      `SELECT COUNT(*) AS n FROM contabyx.transactions WHERE "time" >= TIMESTAMP '2021-01-01' AND "time" < TIMESTAMP '2022-01-01'`,
    ),
  ).not.toEqual([{ n: '0' }]);

  // and the next invocation resumes with 2021 and finishes 2021 to 2024, never touching 2018-2020
  const resumed = new Faults();
  const report = await (await w.archiver(resumed.wrap)).run(target('20250101T000001Z'));
  expect([report.runId, report.resumed, report.batches]).toEqual([RUN, true, 7]);
  expect(resumed.calls.filter((c) => c.startsWith('transaction') && c.includes('.commit.'))).toEqual(
    [2021, 2022, 2023, 2024].map((y) => `transaction ${RUN}.commit.transactions.${y}.a1`),
  );
  await invariants.check('after the resume');
});

test('the warehouse holds no second copy: its files grow during a run by less than 5% of what the run archives', async () => {
  // given two million transactions (enough that DuckDB's fixed checkpoint cost, a few blocks, is small)
  world = await World.create(CONTABYX, backlog(2_000_000));
  const file = join(world.dir, 'warehouse.duckdb');
  const size = () => statSync(file).size + (existsSync(`${file}.wal`) ? statSync(`${file}.wal`).size : 0);
  const before = size();
  let peak = before;
  // when a run archives seven years, with the size taken after every call
  const faults = new Faults(undefined, async () => {
    peak = Math.max(peak, size());
  });
  const report = await (await world.archiver(faults.wrap)).run(target());
  // then the warehouse never grew by 5% of the archived Parquet bytes (a stage copy would be 100%)
  expect(report.batches).toBe(7);
  expect((peak - before) / report.bytes).toBeLessThan(0.05);
});
