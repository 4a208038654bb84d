import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCalendarDate, RunTarget } from '../../src/core/cutoff';
import { ArchiveMismatchError, InputError } from '../../src/core/errors';
import { LocalCatalog } from '../../src/engines/local/local-catalog';
import { CRASHED, Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { random } from '../support/random';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

// Runs interleaved with random operator mistakes and crashes, seeded so a failure replays: after
// every step, every union view returns exactly the original rows (plus the late ones), each row in
// one place (Invariants.check). Mistakes the ledger can tell are refused before anything is
// written; the rest (a crash, a file replaced during a run) are resumed or caught.

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const STEPS = 12;

/** One step: what it did, for the message of a broken invariant. */
type Step = (w: World, next: () => number) => Promise<string>;

let runs = 0;
/** Each run its own id, as each trigger's instant gives it. */
const target = (): RunTarget => ({
  runId: `20260101T0000${String(++runs).padStart(2, '0')}Z`,
  cutoff: CUTOFF,
});

const committed = async (w: World) => (await w.committedBatches()).length > 0;
const pick = <T>(items: readonly T[], next: () => number): T => items[Math.floor(next() * items.length)];

/** A run that may die at any of its first 80 calls (kill -9), before or after it. */
const run: Step = async (w, next) => {
  const at = Math.floor(next() * 80);
  const when = next() < 0.5 ? 'before' : 'after';
  const faults = new Faults(next() < 0.6 ? { at, when } : undefined);
  const ended = await (await w.archiver(faults.wrap)).run(target()).catch((error: Error) => error);
  if (ended instanceof Error && !CRASHED.test(ended.message)) throw ended;
  return ended instanceof Error ? `run killed ${when} call ${at}` : `run ${ended.outcome}`;
};

/** An abort, which may die too. */
const abort: Step = async (w, next) => {
  const at = Math.floor(next() * 12);
  const faults = new Faults(next() < 0.5 ? { at, when: 'after' } : undefined);
  const ended = await (await w.archiver(faults.wrap)).abort().catch((error: Error) => error);
  if (ended instanceof Error && !CRASHED.test(ended.message)) throw ended;
  return ended instanceof Error ? `abort killed after call ${at}` : 'abort';
};

/** A run given another lake folder: refused once the ledger records committed batches. */
const wrongLake: Step = async (w, next) => {
  if (!(await committed(w))) return run(w, next);
  const other = mkdtempSync(join(tmpdir(), 'wrong-lake-'));
  try {
    await expect((await w.withLake(other).archiver()).run(target())).rejects.toBeInstanceOf(
      ArchiveMismatchError,
    );
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
  return 'run on a wrong lake refused';
};

/** A committed partition removed from the catalog: the next run is refused until repair. */
const removedPartition: Step = async (w, next) => {
  const batches = await w.committedBatches();
  if (batches.length === 0) return run(w, next);
  const gone = pick(batches, next);
  const file = LocalCatalog.fileIn(w.lakeRoot, w.config);
  const catalog = JSON.parse(readFileSync(file, 'utf8'));
  const entry = catalog.tables[gone.table.toLowerCase()];
  entry.partitions = entry.partitions.filter(
    (p: { year: number; runId: string }) => p.year !== gone.year || p.runId !== gone.runId,
  );
  writeFileSync(file, JSON.stringify(catalog));
  await expect((await w.archiver()).run(target())).rejects.toBeInstanceOf(ArchiveMismatchError);
  await (await w.archiver()).repair();
  return `partition ${gone.table} ${gone.year} removed, run refused, repaired`;
};

/** The catalog file deleted: the next run is refused until repair rebuilds it from the ledger. */
const deletedCatalog: Step = async (w, next) => {
  if (!(await committed(w))) return run(w, next);
  rmSync(LocalCatalog.fileIn(w.lakeRoot, w.config));
  await expect((await w.archiver()).run(target())).rejects.toBeInstanceOf(ArchiveMismatchError);
  await (await w.archiver()).repair();
  return 'catalog file deleted, run refused, repaired';
};

/** A run during which another writer replaces a file right after its verification. */
const replacedFile: Step = async (w) => {
  let replaced = '';
  const watcher = new Faults(undefined, async (label) => {
    const [, runId, table, year] = /^execute (\w+)\.verify\.(\w+)\.(\d{4})\.a\d+: UPDATE/.exec(label) ?? [];
    if (!table || replaced) return;
    const file = [...w.lakeFiles().keys()].find(
      (f) => f.includes(`/${table}/year=${year}/archive_run=${runId}/`) && f.endsWith('.parquet'),
    );
    if (!file) return;
    replaced = `${table} ${year}`;
    await w.admin.execute(
      `COPY (SELECT * FROM read_parquet('${file}', hive_partitioning = false) LIMIT 1) TO '${file}.new' (FORMAT PARQUET)`,
    );
    renameSync(`${file}.new`, file);
  });
  const report = await (await w.archiver(watcher.wrap)).run(target());
  return `run ${report.outcome}${replaced ? `, ${replaced}'s file replaced after its verification` : ''}`;
};

/** A configuration with another ledger.schema: refused while the ledger archives these tables. */
const renamedLedger: Step = async (w, next) => {
  if ((await w.ledgerRuns()).length === 0) return run(w, next);
  const moved = w.withConfig({ ...CONTABYX, ledger: { ...CONTABYX.ledger, schema: 'archive_renamed' } });
  await expect((await moved.archiver()).run(target())).rejects.toBeInstanceOf(InputError);
  return 'run with a renamed ledger schema refused';
};

/** Another session inserts an old row: a later run archives it. */
const lateRow =
  (invariants: Invariants): Step =>
  async (w, next) => {
    const id = 70_000_000 + Math.floor(next() * 1_000_000);
    const year = 2023 + Math.floor(next() * 3);
    const day = 1 + Math.floor(next() * 28);
    await w.admin.execute(
      `INSERT INTO contabyx.transactions VALUES (${id}, 1, 1, TIMESTAMP '${year}-02-${String(day).padStart(2, '0')} 10:00:00', 1.5)`,
    );
    invariants.addLate(
      'transactions',
      await w.rows(`(SELECT * FROM contabyx.transactions WHERE transactionid = ${id})`),
    );
    return `late row ${id}`;
  };

describe('operator mistakes between runs', () => {
  test.each([11, 22, 33])(
    'random mistakes and crashes between runs never hide or duplicate a row (seed %d)',
    async (seed) => {
      const next = random(seed);
      const w = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
      try {
        const invariants = await Invariants.capture(w, CUTOFF);
        const steps: Step[] = [
          run,
          run,
          abort,
          wrongLake,
          removedPartition,
          deletedCatalog,
          replacedFile,
          renamedLedger,
          lateRow(invariants),
          lateRow(invariants),
        ];
        const done: string[] = [];
        for (let i = 0; i < STEPS; i++) {
          done.push(await pick(steps, next)(w, next));
          await invariants.check(`seed ${seed}, after ${done.join('; ')}`);
        }
        // and a run on its own finishes whatever the mistakes left, exactly
        const report = await (await w.archiver()).run(target());
        expect(['finished', 'nothing-to-do']).toContain(report.outcome);
        await invariants.check(`seed ${seed}, after the last run (${done.join('; ')})`);
        expect((await w.ledgerRuns()).filter((r) => r.state === 'running')).toEqual([]);
        expect((await (await w.archiver()).audit(true)).ok).toBe(true);
      } finally {
        w.close();
      }
    },
    120_000,
  );
});
