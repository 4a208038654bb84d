import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { configJson } from '../src/config/config';
import { runTarget } from '../src/core/cutoff';
import { openLocalEngine } from '../src/engines/local/engine';
import { replayOnAws } from '../devkit/replay';
import { backlogWarehouse, HUNDRED_TABLES, LATENCY_PROFILES, statementLatency } from '../devkit/backlog';
import { STALLED_AFTER_MS } from '../src/contract';
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

/** The Lambda handlers as the package ships them (dist/handlers, bin/build.mjs): size and cold import. */
function bundles(): void {
  execFileSync(process.execPath, [resolve('bin', 'build.mjs'), 'handlers']);
  out.bundles = [];
  for (const name of readdirSync(resolve('dist', 'handlers')).sort()) {
    const file = resolve('dist', 'handlers', name, 'index.js');
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
}

/**
 * Start-up of the command line: `status` on a small embedded warehouse (the demo's sample after a
 * run), through the command as `npm install -g` installs it from the packed tarball (plain Node.js,
 * no npm in between), and through `npx redshift-archive` in this clone (npm's own start-up first).
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
  const time = (command: string, before: string[] = []) =>
    Array.from({ length: quick ? 3 : 7 }, () => {
      const started = performance.now();
      execFileSync(command, [...before, ...args], { stdio: 'pipe' });
      return performance.now() - started;
    });
  execFileSync('npm', ['pack', '--pack-destination', dir], { stdio: 'pipe' });
  const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz')) as string);
  const prefix = join(dir, 'global');
  execFileSync(
    'npm',
    ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
    {
      stdio: 'pipe',
    },
  );
  const installed = time(join(prefix, 'bin', 'redshift-archive'));
  const npx = time('npx', ['redshift-archive']);
  rmSync(dir, { recursive: true, force: true });
  out.cliStartup = {
    installedMs: Math.round(median(installed)),
    installedSpread: spread(installed),
    npxMs: Math.round(median(npx)),
    npxSpread: spread(npx),
    runs: installed.length,
  };
  say(
    'CLI start-up, `status` on the sample',
    `installed (npm install -g) ${Math.round(median(installed))} ms (${spread(installed)}), through npx ${Math.round(median(npx))} ms (${spread(npx)}), median of ${installed.length}`,
  );
}

function synth(): void {
  const times: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const outdir = mkdtempSync(join(tmpdir(), 'synth-'));
    const started = performance.now();
    execFileSync(
      resolve('node_modules', '.bin', 'cdk'),
      ['synth', '--quiet', '-c', 'config=sample', '-o', outdir],
      {
        stdio: 'pipe',
      },
    );
    times.push(performance.now() - started);
    rmSync(outdir, { recursive: true, force: true });
  }
  out.synth = { ms: Math.round(median(times)), runs: times.length, spread: spread(times) };
  say(
    'cdk synth (offline: the handlers built, cdk-nag, the validator)',
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

/** The unload function's time per invocation: Lambda's 15 minutes less the 60 s it keeps in hand. */
const INVOCATION_MS = 14 * 60_000;

/**
 * A first run with a long backlog (100 tables in 35 families, 7 archive years: 245 batches),
 * replayed through the deployed function's code on scripted AWS under two sets of assumed
 * latencies: the Data API calls and statements per batch, and the wall time.
 */
async function backlog(): Promise<void> {
  const { config, seedSql } = backlogWarehouse(HUNDRED_TABLES);
  out.backlog = [];
  for (const profile of quick ? LATENCY_PROFILES.slice(0, 1) : LATENCY_PROFILES) {
    const replay = await replayOnAws(config, seedSql, '2026-01-01T00:00:00Z', {
      callMs: profile.callMs,
      athenaMs: profile.athenaMs,
      statementMs: statementLatency(profile, config),
    });
    if (replay.outcome.outcome !== 'run')
      throw new Error(`the backlog run answered ${replay.outcome.outcome}`);
    const batches = replay.outcome.report.batches;
    const calls = Object.values(replay.dataApiCalls).reduce((a, b) => a + b, 0);
    const statements = replay.aws.sent.reduce((sum, st) => sum + st.sql.length, 0);
    const submitted = replay.aws.sent.length;
    const withEvent = replay.aws.sent.filter((st) => st.withEvent).length;
    const figures = {
      profile,
      tables: config.tables.length,
      batches,
      rows: replay.local.rows,
      dataApiCalls: replay.dataApiCalls,
      callsPerBatch: Number((calls / batches).toFixed(1)),
      submittedPerBatch: Number((submitted / batches).toFixed(1)),
      statementsPerBatch: Number((statements / batches).toFixed(1)),
      withEvent,
      athenaQueries: replay.athenaQueries.length,
      wallMs: replay.elapsedMs,
      msPerBatch: Math.round(replay.elapsedMs / batches),
      // each invocation hands over to the next at a batch boundary (a mark with an event)
      invocations: Math.ceil(replay.elapsedMs / INVOCATION_MS),
      stalledAfterMs: STALLED_AFTER_MS,
    };
    (out.backlog as unknown[]).push(figures);
    say(
      `backlog: ${config.tables.length} tables, ${batches} batches, ${profile.label} latencies`,
      `${calls.toLocaleString('en-US')} Data API calls (${figures.callsPerBatch} per batch), ${submitted.toLocaleString('en-US')} submissions ` +
        `(${figures.submittedPerBatch} per batch, ${withEvent} with an event), ${statements.toLocaleString('en-US')} SQL statements ` +
        `(${figures.statementsPerBatch} per batch), ${replay.athenaQueries.length} Athena counts; wall ${(replay.elapsedMs / 3_600_000).toFixed(2)} h ` +
        `(${(figures.msPerBatch / 1000).toFixed(1)} s per batch), about ${figures.invocations} invocations of 14 min`,
    );
  }
}

/** The measurements, by their key in bench/results.json; `--only key,...` runs some of them. */
const SECTIONS: Record<string, () => void | Promise<void>> = {
  archival,
  queries,
  bundles,
  cliStartup,
  synth,
  dataApi: dataApiCalls,
  backlog,
};

async function main(): Promise<void> {
  const started = performance.now();
  const only = process.argv
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const unknown = (only ?? []).filter((key) => !(key in SECTIONS));
  if (unknown.length > 0)
    throw new Error(
      `--only: ${unknown.join(', ')} is not allowed; allowed: ${Object.keys(SECTIONS).join(', ')}`,
    );
  out.machine = {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
    // other work on the machine slows every figure: the 1-minute load average when the run began
    load: Number(loadavg()[0].toFixed(2)),
  };
  for (const [key, measure] of Object.entries(SECTIONS)) if (!only || only.includes(key)) await measure();
  out.totalSeconds = Math.round((performance.now() - started) / 1000);
  const widths = [Math.max(...rows.map((r) => r[0].length))];
  console.log(`\nredshift-archive benchmark (${JSON.stringify(out.machine)}), ${out.totalSeconds} s\n`);
  for (const [what, figures] of rows) console.log(`${what.padEnd(widths[0])}  ${figures}`);
  // `--only` keeps the other sections' figures, and the machine and date, of the last full run
  const file = resolve('bench', 'results.json');
  const last =
    only && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const results = only
    ? {
        ...last,
        ...out,
        machine: last.machine,
        totalSeconds: last.totalSeconds,
        updated: { ...(out.machine as object), only: only.join(','), seconds: out.totalSeconds },
      }
    : out;
  if (!quick) writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
