import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ArchiveConfig, parseConfig } from '../src/config/config';
import { parseCalendarDate } from '../src/core/cutoff';
import { openLocalEngine } from '../src/engines/local/engine';
import { Archiver, Phase } from '../src/protocol/archive';

/** The archive cutoff of every bench run: rows before 2026 go. */
export const CUTOFF = parseCalendarDate('2026-01-01', 'bench');

/**
 * The shapes of data measured: integers and doubles cost the least to write and hash; strings
 * and decimals cost more (longer values, a wider hash input, fixed-point Parquet).
 */
export type Shape = 'numeric' | 'text';

/** How the rows' times are laid out in the table. */
export interface Layout {
  /** First and last instant of the rows' times. */
  readonly from: string;
  readonly to: string;
  /**
   * In time order, as an append-only table holds them (each year's rows are together, so a
   * year's delete touches few row groups); or scattered, the worst case.
   */
  readonly ordered: boolean;
}

/** Seven years of rows, 2019 to 2025, all older than the cutoff. */
export const ALL_OLD: Layout = { from: '2019-01-01', to: '2026-01-01', ordered: true };
/** 2024 to mid-2030: 30% of the rows are older than the cutoff. */
export const THIRTY_PERCENT_OLD: Layout = { from: '2024-01-01', to: '2030-09-01', ordered: true };

const COLUMNS: Record<Shape, [string, string, string][]> = {
  // name, configured type, generating expression of i
  numeric: [
    ['transactionid', 'bigint', 'CAST(i AS BIGINT)'],
    ['clientid', 'integer', "CAST(hash(i, 'c') % 100000 AS INTEGER)"],
    ['typeid', 'integer', "CAST(hash(i, 't') % 6 AS INTEGER)"],
    ['time', 'timestamp', ''],
    ['amount', 'double precision', "round(CAST(hash(i, 'a') % 1000000 AS DOUBLE) / 100, 2)"],
  ],
  text: [
    ['transactionid', 'bigint', 'CAST(i AS BIGINT)'],
    ['customer', 'varchar(64)', "'customer-' || CAST(hash(i, 'c') % 100000 AS VARCHAR)"],
    [
      'note',
      'varchar(200)',
      "'payment ' || CAST(i AS VARCHAR) || ' for order ' || CAST(hash(i, 'o') % 10000000 AS VARCHAR)",
    ],
    ['time', 'timestamp', ''],
    ['amount', 'decimal(12,2)', "CAST(hash(i, 'a') % 100000000 AS DECIMAL(12,2)) / 100"],
    ['currency', 'char(3)', "['EUR', 'USD', 'GBP', 'CHF'][1 + CAST(hash(i, 'x') % 4 AS INTEGER)]"],
  ],
};

/** The bench configuration of one shape: one table `bench.transactions` archived by `time`. */
export function benchConfig(shape: Shape): ArchiveConfig {
  return parseConfig({
    warehouse: { type: 'provisioned', clusterIdentifier: 'bench', database: 'dev', dbUser: 'archiver' },
    lake: { prefix: 'lake' },
    catalog: { database: 'bench', externalSchema: 'ext_bench' },
    views: { schema: 'bench', prefix: 'all_' },
    tables: [
      {
        schema: 'bench',
        name: 'transactions',
        archiveBy: { column: 'time' },
        columns: COLUMNS[shape].map(([name, type]) => ({ name, type })),
      },
    ],
  });
}

/** SQL that fills `bench.transactions` with `rows` rows of a shape and layout (deterministic). */
export function generateSql(rows: number, shape: Shape, layout: Layout): string {
  const span = `CAST(epoch(TIMESTAMP '${layout.to}') - epoch(TIMESTAMP '${layout.from}') AS BIGINT)`;
  // In order: spread evenly, with up to an hour of jitter; scattered: anywhere in the span.
  const offset = layout.ordered
    ? `CAST(i AS BIGINT) * ${span} // ${rows} + CAST(hash(i, 'j') % 3600 AS BIGINT)`
    : `CAST(hash(i, 'time') % ${span} AS BIGINT)`;
  const time = `LEAST(TIMESTAMP '${layout.from}' + to_seconds(${offset}), TIMESTAMP '${layout.to}' - INTERVAL 1 SECOND)`;
  const select = COLUMNS[shape].map(([name, type, expr]) => {
    const sqlType = type === 'double precision' ? 'DOUBLE' : type.toUpperCase();
    return `CAST(${name === 'time' ? time : expr} AS ${sqlType}) AS "${name}"`;
  });
  return `CREATE SCHEMA bench; CREATE TABLE bench.transactions AS SELECT ${select.join(', ')} FROM range(${rows}) r(i)`;
}

/** Samples the process's resident memory (and a file size) while `work` runs. */
export async function sampled<T>(
  work: () => Promise<T>,
  size: () => number = () => 0,
): Promise<{ result: T; ms: number; peakRss: number; peakSize: number }> {
  let peak = process.memoryUsage().rss;
  let peakSize = size();
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
    peakSize = Math.max(peakSize, size());
  };
  const timer = setInterval(sample, 5);
  const started = performance.now();
  try {
    const result = await work();
    const ms = performance.now() - started;
    sample();
    return { result, ms, peakRss: peak, peakSize };
  } finally {
    clearInterval(timer);
  }
}

/** One side-by-side measurement of an archival run and the bare export of the same rows. */
export interface RunFigures {
  readonly copyMs: number;
  readonly runMs: number;
  readonly copyPeakRss: number;
  readonly runPeakRss: number;
  readonly phases: Partial<Record<Phase, number>>;
  readonly archivedRows: number;
  readonly archivedBytes: number;
  /** Peak size of the warehouse's files (database and WAL) during the run, minus before it. */
  readonly extraStorage: number;
}

/**
 * The bare partitioned COPY of the rows older than the cutoff (the engine's own limit), then
 * the whole archival run on the same rows, with the warehouse's files watched throughout.
 */
export async function measureRun(rows: number, shape: Shape, layout: Layout): Promise<RunFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'archive-bench-'));
  const config = benchConfig(shape);
  const file = join(dir, 'w.duckdb');
  const engine = await openLocalEngine({ config, warehousePath: file, lakeRoot: join(dir, 'lake') });
  try {
    await engine.warehouse.execute(generateSql(rows, shape, layout));
    await engine.warehouse.execute('CHECKPOINT');
    const columns = config.tables[0].columns.map((c) => `"${c.name}"`).join(', ');
    const copy = await sampled(() =>
      engine.warehouse.execute(
        `COPY (SELECT ${columns}, CAST(EXTRACT(YEAR FROM "time") AS INTEGER) AS "year" FROM bench.transactions ` +
          `WHERE "time" < TIMESTAMP '${CUTOFF} 00:00:00') TO '${join(dir, 'baseline')}' (FORMAT PARQUET, PARTITION_BY ("year"))`,
      ),
    );
    const marks: { phase: Phase; at: number }[] = [];
    const archiver = new Archiver({
      ...engine,
      progress: (e) => marks.push({ phase: e.phase, at: performance.now() }),
    });
    await archiver.setup();
    const size = () => statSync(file).size + (existsSync(`${file}.wal`) ? statSync(`${file}.wal`).size : 0);
    const before = size();
    const started = performance.now();
    const run = await sampled(() => archiver.run({ runId: '20260101T000000Z', cutoff: CUTOFF }), size);
    // a phase's time runs from the previous progress event to its own
    const phases: Partial<Record<Phase, number>> = {};
    let previous = started;
    for (const mark of marks.filter((m) => m.at >= started)) {
      phases[mark.phase] = (phases[mark.phase] ?? 0) + (mark.at - previous);
      previous = mark.at;
    }
    return {
      copyMs: copy.ms,
      runMs: run.ms,
      copyPeakRss: copy.peakRss,
      runPeakRss: run.peakRss,
      phases,
      archivedRows: run.result.rows,
      archivedBytes: run.result.bytes,
      extraStorage: run.peakSize - before,
    };
  } finally {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
