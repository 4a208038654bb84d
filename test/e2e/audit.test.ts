import { copyFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { parseCalendarDate } from '../../src/core/cutoff';
import { CONTABYX, CONTABYX_SMALL_DATA, World } from '../../devkit/world';

const RUN = '20260101T000000Z';

let world: World | undefined;
afterEach(() => world?.close());

/** A world whose run of 2026-01-01 archived 2023, 2024 and 2025 of three tables. */
async function archived(): Promise<World> {
  world = await World.create(CONTABYX, CONTABYX_SMALL_DATA);
  await (await world.archiver()).run({ runId: RUN, cutoff: parseCalendarDate('2026-01-01', 'test') });
  return world;
}

const fileOf = (w: World, table: string, year: number) => {
  const file = [...w.lakeFiles().keys()].find(
    (f) => f.includes(`/${table}/`) && f.includes(`/year=${year}/`) && f.endsWith('.parquet'),
  );
  if (!file) throw new Error(`no file of ${table} ${year}`);
  return file;
};

/** The batches the audit found damaged, as `table year: problem`. */
async function damage(w: World, deep = false): Promise<string[]> {
  const report = await (await w.archiver()).audit(deep);
  expect(report.ok).toBe(report.batches.every((b) => b.problems.length === 0));
  return report.batches.flatMap((b) => b.problems.map((p) => `${b.table} ${b.year}: ${p}`));
}

describe('audit says whether the archive is still what the ledger recorded', () => {
  test('finds every committed batch intact after a run, light and deep', async () => {
    const w = await archived();
    const report = await (await w.archiver()).audit(true);
    expect(report).toMatchObject({ ok: true, deep: true });
    expect(report.batches.map((b) => `${b.table} ${b.year}`)).toEqual([
      'tax 2023',
      'transactions 2023',
      'transfers 2023',
      'tax 2024',
      'transactions 2024',
      'transfers 2024',
      'tax 2025',
      'transactions 2025',
      'transfers 2025',
    ]);
    expect(report.batches.every((b) => b.rows > 0 && b.files > 0 && b.bytes > 0)).toBe(true);
  });

  test('names a batch whose file was deleted, and deep names it unreadable', async () => {
    const w = await archived();
    const file = fileOf(w, 'tax', 2024);
    const bytes = statSync(file).size;
    rmSync(file);
    const light = await damage(w);
    expect(light).toHaveLength(1);
    expect(light[0]).toMatch(
      new RegExp(
        `^tax 2024: the lake holds 0 files of 0 bytes under .*; the ledger recorded 1 files of ${bytes} bytes$`,
      ),
    );
    const deep = await damage(w, true);
    // each batch is read through its own partition (as Spectrum prunes): only tax 2024 is unreadable
    expect(deep.filter((p) => p !== light[0]).map((p) => p.split(': ').slice(0, 2).join(': '))).toEqual([
      'tax 2024: cannot be read back through the external table',
    ]);
  });

  test('names a batch whose file was truncated, or that gained a file', async () => {
    const w = await archived();
    const file = fileOf(w, 'transactions', 2023);
    truncateSync(file, 100);
    copyFileSync(fileOf(w, 'tax', 2025), `${fileOf(w, 'tax', 2025)}.extra.parquet`);
    const found = await damage(w);
    expect(found.map((p) => p.split(':')[0])).toEqual(['transactions 2023', 'tax 2025']);
    expect(found[0]).toMatch(/the lake holds 1 files of 100 bytes/);
    expect(found[1]).toMatch(/the lake holds 2 files of \d+ bytes .*; the ledger recorded 1 files/);
  });

  test('deep finds a batch whose rows changed, which counting files cannot see', async () => {
    const w = await archived();
    const file = fileOf(w, 'tax', 2023);
    const copy = `${file}.orig`;
    copyFileSync(file, copy);
    // the same rows but one fee changed
    await w.admin.execute(
      `COPY (SELECT transactionid, taxtypeid, CASE WHEN transactionid = (SELECT MIN(transactionid) FROM read_parquet('${copy}')) ` +
        `THEN fee + 1 ELSE fee END AS fee FROM read_parquet('${copy}')) TO '${file}' (FORMAT PARQUET)`,
    );
    rmSync(copy);
    const deep = await damage(w, true);
    expect(
      deep.some((p) =>
        /^tax 2023: read back \d+ rows with checksum \d+; the ledger recorded \d+ rows with checksum \d+$/.test(
          p,
        ),
      ),
    ).toBe(true);
  });

  test('names a batch whose partition left the catalog', async () => {
    const w = await archived();
    await (await w.session()).catalog.removePartitions('transfers', RUN, 2025);
    expect(await damage(w)).toEqual([
      `transfers 2025: the catalog has no partition for run ${RUN}, year 2025`,
    ]);
  });

  test('a restored year is no longer audited', async () => {
    const w = await archived();
    await (await w.archiver()).restore({ year: 2024, deleteFiles: true, restoreId: 'R1' });
    const report = await (await w.archiver()).audit(true);
    expect(report.ok).toBe(true);
    expect(report.batches.some((b) => b.year === 2024)).toBe(false);
  });
});
