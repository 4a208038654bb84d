import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildSync } from 'esbuild';
import { configJson } from '../src/config/config';
import { runTarget } from '../src/core/cutoff';
import { openLocalEngine } from '../src/engines/local/engine';
import { replayOnAws } from '../devkit/replay';
import { CONTABYX, CONTABYX_SMALL_DATA } from '../devkit/world';
import { measureQueries } from './query';
import { Archiver, type Phase } from '../src/protocol/archive';
import { ALL_OLD, Layout, measureRun, RunFigures, Shape, THIRTY_PERCENT_OLD } from './workload';

/**
 * `npm run bench`: the archival costs against the engine's own export, what a one-year query
 * reads, the Lambda bundles, `cdk synth`, and the Data API calls of a run. Prints a table and
 * writes bench/results.json. Not part of `npm test`.
 */

const quick = process.argv.includes('--quick');
// the SDK's notice about Node.js versions would otherwise print in every child process
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const spread = (xs: number[], digits = 0) =>
  `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
const mib = (bytes: number) => bytes / 1024 ** 2;
const rows: string[][] = [];
const out: Record<string, unknown> = {};
const say = (...cells: string[]) => {
  rows.push(cells);
  console.error(cells.join(' | '));
};

/** One measured case of the archival run: rows, shape of data, layout, repeats. */
interface Case {
  readonly label: string;
  readonly rows: number;
  readonly shape: Shape;
  readonly layout: Layout;
  readonly repeats: number;
}

const CASES: Case[] = quick
  ? [{ label: 'numeric, all old', rows: 1_000_000, shape: 'numeric', layout: ALL_OLD, repeats: 2 }]
  : [
      { label: 'numeric, all old', rows: 1_000_000, shape: 'numeric', layout: ALL_OLD, repeats: 5 },
      { label: 'numeric, all old', rows: 10_000_000, shape: 'numeric', layout: ALL_OLD, repeats: 3 },
      { label: 'varchar and decimal, all old', rows: 10_000_000, shape: 'text', layout: ALL_OLD, repeats: 3 },
      {
        label: 'numeric, 30% old',
        rows: 10_000_000,
        shape: 'numeric',
        layout: THIRTY_PERCENT_OLD,
        repeats: 3,
      },
      {
        label: 'varchar and decimal, 30% old',
        rows: 10_000_000,
        shape: 'text',
        layout: THIRTY_PERCENT_OLD,
        repeats: 3,
      },
      {
        label: 'numeric, all old, times scattered (worst case)',
        rows: 10_000_000,
        shape: 'numeric',
        layout: { ...ALL_OLD, ordered: false },
        repeats: 1,
      },
    ];

async function archival(): Promise<void> {
  out.archival = [];
  for (const c of CASES) {
    const runs: RunFigures[] = [];
    for (let i = 0; i < c.repeats; i++) runs.push(await measureRun(c.rows, c.shape, c.layout));
    const ratios = runs.map((r) => r.runMs / r.copyMs);
    const storage = runs.map((r) => r.extraStorage / r.archivedBytes);
    const phases = Object.fromEntries(
      Object.keys(runs[0].phases).map((p) => [
        p,
        Math.round(median(runs.map((r) => r.phases[p as Phase] ?? 0))),
      ]),
    );
    const figures = {
      case: c.label,
      rows: c.rows,
      archivedRows: runs[0].archivedRows,
      repeats: c.repeats,
      copyMs: Math.round(median(runs.map((r) => r.copyMs))),
      runMs: Math.round(median(runs.map((r) => r.runMs))),
      ratio: Number(median(ratios).toFixed(2)),
      ratioSpread: spread(ratios, 2),
      rowsPerSecond: Math.round(runs[0].archivedRows / (median(runs.map((r) => r.runMs)) / 1000)),
      peakRssMiB: Math.round(mib(Math.max(...runs.map((r) => r.runPeakRss)))),
      copyPeakRssMiB: Math.round(mib(Math.max(...runs.map((r) => r.copyPeakRss)))),
      archivedMiB: Number(mib(runs[0].archivedBytes).toFixed(1)),
      extraStorageMiB: Number(mib(median(runs.map((r) => r.extraStorage))).toFixed(2)),
      extraStorageRatio: Number(median(storage).toFixed(4)),
      phasesMs: phases,
    };
    (out.archival as unknown[]).push(figures);
    say(
      `archival run, ${c.label}, ${c.rows.toLocaleString('en-US')} rows (median of ${c.repeats})`,
      `${figures.runMs} ms vs bare COPY ${figures.copyMs} ms: ${figures.ratio}x (range ${figures.ratioSpread}); ` +
        `${figures.rowsPerSecond.toLocaleString('en-US')} archived rows/s; peak RSS ${figures.peakRssMiB} MiB (COPY ${figures.copyPeakRssMiB}); ` +
        `warehouse +${figures.extraStorageMiB} MiB during the run = ${(figures.extraStorageRatio * 100).toFixed(1)}% of the ` +
        `${figures.archivedMiB} MiB archived; phases ${Object.entries(phases)
          .map(([p, ms]) => `${p} ${ms}`)
          .join(', ')} ms`,
    );
  }
}

async function queries(): Promise<void> {
  const q = await measureQueries(quick ? 500_000 : 2_000_000);
  out.query = q;
  say(
    `one-year query, ${q.rows.toLocaleString('en-US')} rows of ${q.year}`,
    `archive (year = ${q.year}) reads ${(q.archiveBytesRead / q.partitionBytes).toFixed(2)}x its partition ` +
      `(${mib(q.archiveBytesRead).toFixed(1)} MiB); union view (filter on time) ${mib(q.viewBytesRead).toFixed(1)} MiB; ` +
      `unpartitioned Parquet ${mib(q.unpartitionedBytesRead).toFixed(1)} MiB (${(q.unpartitionedBytesRead / q.archiveBytesRead).toFixed(1)}x); ` +
      `CSV ${mib(q.csvBytesRead).toFixed(1)} MiB (${(q.csvBytesRead / q.archiveBytesRead).toFixed(1)}x); ` +
      `Parquet/CSV size ${(q.unpartitionedParquetBytes / q.csvBytes).toFixed(2)}`,
  );
}

function bundles(): void {
  const dir = resolve('bench', '.bundles');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  out.bundles = [];
  for (const name of ['unload', 'schema-and-views']) {
    const file = join(dir, `${name}.js`);
    // the options of the stack's NodejsFunction bundling
    buildSync({
      entryPoints: [resolve('lambda', `${name}.ts`)],
      outfile: file,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      define: { 'process.env.ARCHIVE_CONFIG': JSON.stringify(configJson(CONTABYX)) },
      logLevel: 'silent',
    });
    const times = Array.from({ length: quick ? 3 : 7 }, () =>
      Number(
        execFileSync(process.execPath, [
          '-e',
          `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); console.log(Number(process.hrtime.bigint() - t) / 1e6)`,
        ]).toString(),
      ),
    );
    const figures = {
      handler: name,
      bytes: statSync(file).size,
      importMs: Number(median(times).toFixed(1)),
      runs: times.length,
      spread: spread(times, 1),
    };
    (out.bundles as unknown[]).push(figures);
    say(
      `Lambda bundle ${name}`,
      `${(figures.bytes / 1024).toFixed(0)} KiB minified; cold import ${figures.importMs} ms (median of ${times.length}, ${figures.spread})`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Start-up of the command line: `status` on a small embedded warehouse (the demo's sample after a
 * run), through the npm bin, compiled (what `npm ci` builds) and through tsx (no build).
 */
async function cliStartup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cli-startup-'));
  const lake = join(dir, 'lake');
  const engine = await openLocalEngine({
    config: CONTABYX,
    warehousePath: join(dir, 'w.duckdb'),
    lakeRoot: lake,
  });
  await engine.warehouse.execute(CONTABYX_SMALL_DATA);
  await new Archiver(engine).run(runTarget(new Date('2026-01-01T00:00:00Z'), CONTABYX.retention));
  engine.close();
  const config = join(dir, 'config.json');
  writeFileSync(config, configJson(CONTABYX));
  const args = ['status', '--config', config, '--local', join(dir, 'w.duckdb'), '--lake', lake];
  const time = (entry: string) =>
    Array.from({ length: quick ? 3 : 7 }, () => {
      const started = performance.now();
      execFileSync(process.execPath, [entry, ...args], { stdio: 'pipe' });
      return performance.now() - started;
    });
  const bin = resolve('bin', 'redshift-archive.js');
  execFileSync(process.execPath, [resolve('bin', 'build-cli.mjs')]);
  const compiled = time(bin);
  const built = resolve('dist', 'cli.js');
  renameSync(built, `${built}.off`);
  let interpreted: number[];
  try {
    interpreted = time(bin);
  } finally {
    renameSync(`${built}.off`, built);
  }
  rmSync(dir, { recursive: true, force: true });
  out.cliStartup = {
    compiledMs: Math.round(median(compiled)),
    tsxMs: Math.round(median(interpreted)),
    runs: compiled.length,
  };
  say(
    'CLI start-up, `status` on the sample',
    `compiled ${Math.round(median(compiled))} ms (${spread(compiled)}), through tsx ${Math.round(median(interpreted))} ms (${spread(interpreted)}), median of ${compiled.length}`,
  );
}

function synth(): void {
  const times: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const outdir = mkdtempSync(join(tmpdir(), 'synth-'));
    const started = performance.now();
    execFileSync(resolve('node_modules', '.bin', 'cdk'), ['synth', '--quiet', '-o', outdir], {
      stdio: 'pipe',
    });
    times.push(performance.now() - started);
    rmSync(outdir, { recursive: true, force: true });
  }
  out.synth = { ms: Math.round(median(times)), runs: times.length, spread: spread(times) };
  say(
    'cdk synth (offline, bundling, cdk-nag)',
    `${(median(times) / 1000).toFixed(1)} s (median of ${times.length}, ${spread(
      times.map((t) => t / 1000),
      1,
    )} s)`,
  );
}

/** The contabyx tables with 400 transactions spread over the `years` years before 2026 (and `scale` times as many). */
function contabyxOver(years: number, scale = 1): string {
  const n = 400 * scale;
  return `
CREATE SCHEMA contabyx;
CREATE TABLE contabyx.transactions (transactionid INTEGER, clientid INTEGER, typeid INTEGER, "time" TIMESTAMP, amount DOUBLE);
CREATE TABLE contabyx.transfers (transferid INTEGER, expense_transactionid INTEGER, income_transactionid INTEGER);
CREATE TABLE contabyx.tax (transactionid INTEGER, taxtypeid INTEGER, fee DOUBLE);
INSERT INTO contabyx.transactions SELECT i, i % 7, i % 3,
  TIMESTAMP '${2026 - years}-01-01' + to_seconds(CAST(i AS BIGINT) * ${years * 365 * 86400} // ${n + 1}), i * 1.25 FROM range(1, ${n + 1}) r(i);
INSERT INTO contabyx.transfers SELECT i, i * 2, i * 2 + 1 FROM range(1, ${n / 2}) r(i);
INSERT INTO contabyx.tax SELECT i, i % 4, i * 0.5 FROM range(1, ${n}, 3) r(i);`;
}

async function dataApiCalls(): Promise<void> {
  const cases: [string, typeof CONTABYX, string][] = [
    ['contabyx, 3 tables, 1 archive year', CONTABYX, contabyxOver(1)],
    ['contabyx, 3 tables, 3 archive years', CONTABYX, contabyxOver(3)],
    ['contabyx, 3 tables, 3 archive years, 10x the rows', CONTABYX, contabyxOver(3, 10)],
    ['contabyx, 3 tables, 10 archive years', CONTABYX, contabyxOver(10)],
    ['2 tables, 3 archive years', { ...CONTABYX, tables: CONTABYX.tables.slice(0, 2) }, contabyxOver(3)],
  ];
  out.dataApi = [];
  for (const [label, config, data] of cases) {
    const replay = await replayOnAws(config, data, '2026-01-01T00:00:00Z');
    const total = Object.values(replay.dataApiCalls).reduce((a, b) => a + b, 0);
    const statements = replay.aws.sent.reduce((sum, st) => sum + st.sql.length, 0);
    const withEvent = replay.aws.sent.filter((st) => st.withEvent).length;
    (out.dataApi as unknown[]).push({
      label,
      rows: replay.local.rows,
      calls: replay.dataApiCalls,
      total,
      statements,
      withEvent,
    });
    say(
      `Data API of a run: ${label}`,
      `${total} calls (${Object.entries(replay.dataApiCalls)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}), ${statements} statements (${withEvent} with an event) for ${replay.local.rows.toLocaleString('en-US')} rows`,
    );
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  out.machine = {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
  };
  await archival();
  await queries();
  bundles();
  await cliStartup();
  synth();
  await dataApiCalls();
  out.totalSeconds = Math.round((performance.now() - started) / 1000);
  const widths = [Math.max(...rows.map((r) => r[0].length))];
  console.log(`\nredshift-archive benchmark (${JSON.stringify(out.machine)}), ${out.totalSeconds} s\n`);
  for (const [what, figures] of rows) console.log(`${what.padEnd(widths[0])}  ${figures}`);
  if (!quick) writeFileSync(resolve('bench', 'results.json'), `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
