import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { parseCalendarDate, RunTarget } from '../../src/core/cutoff';
import { ArchiveMismatchError, InputError, RunFailedError } from '../../src/core/errors';
import { LocalCatalog } from '../../src/engines/local/local-catalog';
import { CRASHED, Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

// Every state a crash or a fault leaves resumes with `run` or `abort` alone: no hand-made SQL.
// Each test reproduces one defect of /work/shared/research/reliability-defects.md.

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const RUN = '20260101T000000Z';
const target = (runId = RUN): RunTarget => ({ runId, cutoff: CUTOFF });

let world: World;
afterEach(() => world.close());

async function fresh(seed = CONTABYX_SMALL_DATA): Promise<Invariants> {
  world = await World.create(CONTABYX, seed);
  return Invariants.capture(world, CUTOFF);
}

/** Edits the catalog file as a process that died right after writing it would have left it. */
function editCatalog(
  edit: (tables: Record<string, { partitions: { year: number; runId: string; location: string }[] }>) => void,
) {
  const file = LocalCatalog.fileIn(world.lakeRoot, world.config);
  const catalog = JSON.parse(readFileSync(file, 'utf8'));
  edit(catalog.tables);
  writeFileSync(file, JSON.stringify(catalog));
}

/** A run that died right after `label`. */
async function crashAfter(label: string): Promise<void> {
  const crash = new Faults({ at: label, when: 'after' });
  await expect((await world.archiver(crash.wrap)).run(target())).rejects.toThrow(CRASHED);
}

describe('a crash inside a catalog change resumes with run or abort alone', () => {
  test('D1a: a crash between the catalog file and the external table in registration: the resume reads the partition back and finishes', async () => {
    const invariants = await fresh();
    // given a run that died while registering tax 2024: the file lists the partition, the external table does not
    const crash = new Faults({ at: 'catalog.add tax 2024', when: 'before' });
    await expect((await world.archiver(crash.wrap)).run(target())).rejects.toThrow(CRASHED);
    const [tax] = (await world.batches()).filter((b) => b.table_name === 'tax' && b.year === '2024');
    editCatalog((tables) =>
      tables.tax.partitions.push({ year: 2024, runId: RUN, location: String(tax.location) }),
    );
    await invariants.check('after the crash');
    // when run resumes, then it verifies and commits without a false "read back 0"
    const report = await (await world.archiver()).run(target());
    expect([
      report.outcome,
      report.tables.find((t) => t.table === 'tax')?.years.map((y) => y.attempts),
    ]).toEqual(['finished', [1, 1, 1]]);
    await invariants.check('after the resume');
  });

  test('D1b: a crash between the catalog file and the external table in removal: abort again keeps every view readable', async () => {
    const invariants = await fresh();
    await crashAfter(`execute ${RUN}.verify.tax.2024`);
    // given an abort that died right after writing the catalog file without tax 2024
    const dying = new Faults({ at: 'catalog.remove', when: 'before' });
    await expect((await world.archiver(dying.wrap)).abort()).rejects.toThrow(CRASHED);
    editCatalog((tables) => {
      tables.tax.partitions = tables.tax.partitions.filter((p) => p.year !== 2024);
    });
    // when abort runs again, then it finishes, deleting no file that a definition still names
    expect(await (await world.archiver()).abort()).toBeUndefined();
    await invariants.check('after the second abort');
    expect(
      [...world.lakeFiles().keys()].filter((f) => f.includes('/year=2024/') && f.endsWith('.parquet')),
    ).toEqual([]);
    expect((await (await world.archiver()).run(target('20260101T000009Z'))).outcome).toBe('finished');
    await invariants.check('after the next run');
  });
});

describe('an abort whose clean-up fails after it committed', () => {
  test('says the run WAS aborted and what to do, as a failure (exit 1), never as bad input that changed nothing', async () => {
    const invariants = await fresh();
    await crashAfter(`execute ${RUN}.verify.tax.2024`);
    const file = LocalCatalog.fileIn(world.lakeRoot, world.config);
    // the catalog file becomes unreadable right after the abort's transaction
    const breaking = new Faults(undefined, async (label) => {
      if (label === `transaction ${RUN}.abort`) truncateSync(file, 50);
    });
    const failed = (await world.archiver(breaking.wrap)).abort();
    await expect(failed).rejects.toBeInstanceOf(RunFailedError);
    await expect(failed).rejects.not.toBeInstanceOf(ArchiveMismatchError);
    await expect(failed).rejects.toThrow(
      new RegExp(
        `^run ${RUN} was aborted: its uncommitted batches are discarded \\(their rows were never deleted, and no view reads them\\); ` +
          `removing their partitions and files then failed: catalog: the catalog file ${file} cannot be read \\(.+\\); ` +
          'run `redshift-archive repair`, which rebuilds it from the ledger\n' +
          'Fix that, then run `redshift-archive abort` again \\(on AWS: invoke \\{"action": "abort"\\}\\), which removes what is left.$',
      ),
    );
    expect((await world.ledgerRuns()).map((r) => [r.run_id, r.state])).toEqual([[RUN, 'aborted']]);
    await invariants.check('after the failed clean-up');
    // when the operator does what it says, then nothing of the discarded batches is left
    await (await world.archiver()).repair();
    expect(await (await world.archiver()).abort()).toBeUndefined();
    expect(
      [...world.lakeFiles().keys()].filter((f) => /year=202[45]\//.test(f) && f.endsWith('.parquet')),
    ).toEqual([]);
    await invariants.check('after abort again');
  });
});

describe('a committed batch whose files are gone for good (a bucket version expired, a bucket without versions)', () => {
  test('every command that writes refuses naming the way out; repair --accept-lost records the loss, the views stop reading it, and the tool goes on', async () => {
    await fresh();
    await (await world.archiver()).run(target());
    const before = await world.viewRows();
    const transactions = world.sql.tables[0];
    const partition = `(SELECT ${transactions.columns.map((c) => `"${c.name}"`).join(', ')} FROM ${world.sql.archiveSource(transactions, [{ runId: RUN, year: 2024 }])} WHERE "archive_run" = '${RUN}' AND "year" = 2024)`;
    const gone = await world.rows(partition);
    const [batch] = (await world.batches()).filter(
      (b) => b.table_name === 'transactions' && b.year === '2024',
    );
    const file = [...world.lakeFiles().keys()].find(
      (f) => f.startsWith(String(batch.location)) && f.endsWith('.parquet'),
    );
    rmSync(String(file));
    const lacking = (rows = '') =>
      `transactions 2024 (run ${RUN}${rows}): the ledger recorded 1 files of ${batch.byte_count} bytes under ${batch.location}, ` +
      'the lake holds 0 files of 0 bytes';

    // then run and abort refuse, naming the way back and the way out
    for (const attempt of [
      async () => (await world.archiver()).run(target('20260101T000009Z')),
      async () => (await world.archiver()).abort(),
    ]) {
      await expect(attempt()).rejects.toThrow(
        `lake: ${world.lakeRoot} lacks the files of 1 of 9 committed batches; ${lacking()}; put the files back ` +
          '(a versioned bucket keeps their earlier versions; `redshift-archive audit` names every damaged batch), or, where ' +
          'they cannot be, record their rows as lost: `redshift-archive repair --accept-lost` (on AWS: {"action": "repair", ' +
          '"acceptLost": true}); nothing was changed',
      );
    }
    // and repair without the flag names every damaged batch and its rows, and changes nothing
    await expect((await world.archiver()).repair()).rejects.toThrow(
      `lake: ${world.lakeRoot} lacks the files of 1 of 9 committed batches: ${lacking(`, ${gone.length} rows`)}; ` +
        'put the files back (a versioned bucket keeps their earlier versions), or, where they cannot be, run ' +
        '`redshift-archive repair --accept-lost` (on AWS: {"action": "repair", "acceptLost": true}), which records these 1 ' +
        `batches (${gone.length} rows) as lost: the views and the catalog stop reading them; nothing was changed`,
    );
    expect(await world.viewRows().catch((e: Error) => e.message)).toMatch(/No files found/);

    // when the operator accepts the loss
    const repaired = await (await world.archiver()).repair({ acceptLost: true });
    expect(repaired.lost).toEqual([
      {
        runId: RUN,
        table: 'transactions',
        year: 2024,
        rows: gone.length,
        reason:
          `recorded lost by repair --accept-lost: the lake holds 0 files of 0 bytes under ${batch.location}; ` +
          `the ledger recorded 1 files of ${batch.byte_count} bytes`,
      },
    ]);
    expect(repaired.removed).toBe(1);

    // then every view reads again, without the lost rows, and shows no row twice
    const after = await world.viewRows();
    expect(after.transactions).toEqual(before.transactions.filter((r) => !gone.includes(r)));
    expect([after.transfers, after.tax]).toEqual([before.transfers, before.tax]);
    // and the external table (what Athena reads) no longer names the lost partition
    expect(
      await world.admin.query('SELECT COUNT(*) AS n FROM ext_contabyx.transactions WHERE "year" = 2024'),
    ).toEqual([{ n: '0' }]);
    // and status and audit say lost, not damaged
    const status = await (await world.archiver()).status();
    expect(status.lost).toEqual(repaired.lost);
    const audit = await (await world.archiver()).audit(true);
    expect([audit.ok, audit.batches.filter((b) => b.lost).map((b) => `${b.table} ${b.year}`)]).toEqual([
      true,
      ['transactions 2024'],
    ]);
    // and the tool goes on: a late row is archived by the next run
    const invariants = await Invariants.capture(world, CUTOFF);
    await world.admin.execute(
      `INSERT INTO contabyx.transactions VALUES (88000001, 1, 1, TIMESTAMP '2024-05-05 05:05:05', 1.0)`,
    );
    invariants.addLate(
      'transactions',
      await world.rows('(SELECT * FROM contabyx.transactions WHERE transactionid = 88000001)'),
    );
    expect((await (await world.archiver()).run(target('20260101T000009Z'))).outcome).toBe('finished');
    await invariants.check('after the next run');
    expect((await (await world.archiver()).audit(true)).ok).toBe(true);
  });
});

describe('a restore that died inside its catalog change', () => {
  test('D1b: restoring again with --delete-files leaves no definition that names the deleted files', async () => {
    const invariants = await fresh();
    await (await world.archiver()).run(target());
    // given a restore of 2024 that died right after writing the catalog file without tax 2024
    await invariants.restoring(2024);
    const request = { year: 2024, deleteFiles: true, restoreId: 'R1' };
    const dying = new Faults({ at: 'catalog.remove', when: 'before' });
    await expect((await world.archiver(dying.wrap)).restore(request)).rejects.toThrow(CRASHED);
    editCatalog((tables) => {
      tables.tax.partitions = tables.tax.partitions.filter((p) => p.year !== 2024);
    });
    // when the same restore runs again, then it finishes, and every external table still reads
    await (await world.archiver()).restore(request);
    for (const table of ['transactions', 'transfers', 'tax'])
      await world.admin.query(`SELECT COUNT(*) AS n FROM ext_contabyx.${table}`);
    await invariants.check('after the second restore');
  });
});

describe('a fault in an uncommitted batch never makes a view unreadable', () => {
  const deleteTransactions2024 = () => {
    const file = [...world.lakeFiles().keys()].find(
      (f) => f.includes('/transactions/year=2024/') && f.endsWith('.parquet'),
    ) as string;
    rmSync(file);
  };

  test('D5: a deleted file of a verified, uncommitted batch: every view reads, and run exports it again and finishes', async () => {
    const invariants = await fresh();
    await crashAfter(`execute ${RUN}.verify.tax.2024`);
    deleteTransactions2024();
    await invariants.check('with the file gone');
    const report = await (await world.archiver()).run(target());
    expect([report.outcome, report.tables[0].years.map((y) => y.attempts)]).toEqual(['finished', [1, 2, 1]]);
    await invariants.check('after the resume');
  });

  test('D5: a file deleted between its export and its verification: the run stops, and run alone exports it again', async () => {
    const invariants = await fresh();
    const deleting = new Faults(undefined, async (label) => {
      if (label.startsWith(`execute ${RUN}.export.transactions.2024.a1: UPDATE`)) deleteTransactions2024();
    });
    await expect((await world.archiver(deleting.wrap)).run(target())).rejects.toThrow(
      new RegExp(
        `^run ${RUN} failed at transactions 2024: transactions 2024: the files under .* cannot be read back: Error: IO Error: No files found`,
      ),
    );
    await invariants.check('after the stopped run');
    const report = await (await world.archiver()).run(target());
    expect([report.outcome, report.tables[0].years.map((y) => y.attempts)]).toEqual(['finished', [1, 2, 1]]);
    await invariants.check('after the resume');
  });

  test('D5: a deleted file of a verified, uncommitted batch: abort alone ends the run', async () => {
    const invariants = await fresh();
    await crashAfter(`execute ${RUN}.verify.tax.2024`);
    deleteTransactions2024();
    await invariants.check('with the file gone');
    expect((await (await world.archiver()).abort())?.runId).toBe(RUN);
    await invariants.check('after the abort');
    expect((await (await world.archiver()).run(target('20260101T000009Z'))).outcome).toBe('finished');
    await invariants.check('after the next run');
  });
});

describe('a manifest cut short', () => {
  test('D6: a manifest cut short by a crash counts as missing: the resume exports the batch again', async () => {
    const invariants = await fresh();
    // given a run that died before recording transactions 2023's export, whose manifest was cut short
    const crash = new Faults({ at: `execute ${RUN}.export.transactions.2023.a1: UPDATE`, when: 'before' });
    await expect((await world.archiver(crash.wrap)).run(target())).rejects.toThrow(CRASHED);
    const manifest = [...world.lakeFiles().keys()].find(
      (f) => f.includes('/transactions/year=2023/') && f.endsWith('/manifest'),
    ) as string;
    writeFileSync(manifest, readFileSync(manifest, 'utf8').slice(0, 60));
    // when run resumes, then it exports again instead of failing on the manifest
    const resumed = new Faults();
    expect((await (await world.archiver(resumed.wrap)).run(target())).outcome).toBe('finished');
    expect(
      resumed.calls.filter((c) => c.startsWith(`execute ${RUN}.export.transactions.2023.a1: COPY`)),
    ).toHaveLength(2);
    await invariants.check('after the resume');
  });
});

describe('a year the lake layout cannot hold', () => {
  test('D10: a row dated in year 1 is found by plan and refused naming table, column and row, before a run starts', async () => {
    const invariants = await fresh(
      `${CONTABYX_SMALL_DATA}\nINSERT INTO contabyx.transactions VALUES (99000001, 1, 1, TIMESTAMP '0001-01-01 00:00:00', 0);`,
    );
    const message =
      'tables["contabyx.transactions"].archiveBy.column: "time" of contabyx.transactions holds 0001-01-01 00:00:00 (year 1) in the row whose ' +
      'transactionid is 99000001; allowed: a year from 1000 to 9999, which the lake layout (year=YYYY) can hold. ' +
      'Change that value (NULL stays hot); nothing was changed';
    for (const attempt of [
      (await world.archiver()).plan(target()),
      (await world.archiver()).run(target()),
      (await world.archiver()).run(target()),
    ]) {
      await expect(attempt).rejects.toBeInstanceOf(InputError);
      await expect(attempt).rejects.toThrow(message);
    }
    expect(await world.ledgerRuns()).toEqual([]);
    expect(await (await world.archiver()).abort()).toBeUndefined();
    await invariants.check('after the refusals');
    // once the row is fixed, the run goes
    const row = '(SELECT * FROM contabyx.spectrum_transactions WHERE transactionid = 99000001)';
    invariants.removeRows('transactions', await world.rows(row));
    await world.admin.execute(
      'UPDATE contabyx.transactions SET "time" = NULL WHERE transactionid = 99000001',
    );
    invariants.addLate('transactions', await world.rows(row));
    expect((await (await world.archiver()).run(target())).outcome).toBe('finished');
    await invariants.check('after the run');
  });
});

describe('run ids', () => {
  test('D11: a run started in the second of an aborted run gets an id of its own and archives', async () => {
    const invariants = await fresh();
    await crashAfter(`transaction ${RUN}.commit.transactions.2023`);
    expect((await (await world.archiver()).abort())?.runId).toBe(RUN);
    const report = await (await world.archiver()).run(target());
    expect([report.outcome, report.runId]).toEqual(['finished', '20260101T000001Z']);
    expect((await world.ledgerRuns()).map((r) => [r.run_id, r.state])).toEqual([
      [RUN, 'aborted'],
      ['20260101T000001Z', 'finished'],
    ]);
    await invariants.check('after the new run');
  });
});
