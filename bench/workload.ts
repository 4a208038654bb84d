import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../lambda/config/config';
import { parseCalendarDate } from '../lambda/core/cutoff';
import { openLocalEngine } from '../lambda/engines/local/engine';
import { Archiver, Phase } from '../lambda/protocol/archive';

/** One table of transactions over 2019-2025: every row is older than the 2026 cutoff. */
export const BENCH_CONFIG = parseConfig({
  warehouse: { type: 'provisioned', clusterIdentifier: 'bench', database: 'dev', dbUser: 'archiver' },
  lake: { prefix: 'lake' },
  catalog: { database: 'bench', externalSchema: 'ext_bench' },
  views: { schema: 'bench', prefix: 'all_' },
  tables: [
    {
      schema: 'bench',
      name: 'transactions',
      archiveBy: { column: 'time' },
      columns: [
        { name: 'transactionid', type: 'bigint' },
        { name: 'clientid', type: 'integer' },
        { name: 'typeid', type: 'integer' },
        { name: 'time', type: 'timestamp' },
        { name: 'amount', type: 'double precision' },
      ],
    },
  ],
});

export const CUTOFF = parseCalendarDate('2026-01-01', 'bench');

/** SQL that fills the bench table with `rows` rows (deterministic, from hash()). */
export function generateSql(rows: number): string {
  return (
    `CREATE SCHEMA bench; CREATE TABLE bench.transactions AS SELECT CAST(i AS BIGINT) AS transactionid, ` +
    `CAST(hash(i, 'c') % 100000 AS INTEGER) AS clientid, CAST(hash(i, 't') % 6 AS INTEGER) AS typeid, ` +
    `TIMESTAMP '2019-01-01' + to_seconds(CAST(hash(i, 'time') % (7 * 365 * 86400) AS BIGINT)) AS "time", ` +
    `round(CAST(hash(i, 'a') % 1000000 AS DOUBLE) / 100, 2) AS amount FROM range(${rows}) r(i)`
  );
}

/** Samples the process's resident memory while `work` runs. */
export async function withPeakRss<T>(
  work: () => Promise<T>,
): Promise<{ result: T; ms: number; peakRss: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  try {
    const result = await work();
    const ms = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, ms, peakRss: peak };
  } finally {
    clearInterval(timer);
  }
}

/** One side-by-side measurement: the bare partitioned COPY, then the whole archival run, on the same rows. */
export async function measureRun(rows: number): Promise<{
  copyMs: number;
  runMs: number;
  copyPeakRss: number;
  runPeakRss: number;
  phases: Partial<Record<Phase, number>>;
  archived: number;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'archive-bench-'));
  const engine = await openLocalEngine({
    config: BENCH_CONFIG,
    warehousePath: join(dir, 'w.duckdb'),
    lakeRoot: join(dir, 'lake'),
  });
  try {
    await engine.warehouse.execute(generateSql(rows));
    await engine.warehouse.execute('CHECKPOINT');
    const copy = await withPeakRss(() =>
      engine.warehouse.execute(
        `COPY (SELECT "transactionid", "clientid", "typeid", "time", "amount", CAST(EXTRACT(YEAR FROM "time") AS INTEGER) AS "year" ` +
          `FROM bench.transactions WHERE "time" < TIMESTAMP '2026-01-01 00:00:00') TO '${join(dir, 'baseline')}' ` +
          `(FORMAT PARQUET, PARTITION_BY ("year"))`,
      ),
    );
    const marks: { phase: Phase; at: number }[] = [];
    const archiver = new Archiver({
      ...engine,
      progress: (e) => marks.push({ phase: e.phase, at: performance.now() }),
    });
    await archiver.setup();
    const started = performance.now();
    const run = await withPeakRss(() => archiver.run({ runId: '20260101T000000Z', cutoff: CUTOFF }));
    // a phase's time runs from the previous phase's last event to its own last event
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
      archived: run.result.rows,
    };
  } finally {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
