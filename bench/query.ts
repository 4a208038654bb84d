import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalEngine } from '../src/engines/local/engine';
import { Archiver } from '../src/protocol/archive';
import { ALL_OLD, benchConfig, CUTOFF, generateSql } from './workload';

/** Bytes this process has read through system calls so far (Linux): what an engine really fetched. */
function bytesRead(): number {
  return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
}

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

/** What reading one year costs from the archive and from the alternatives. */
export interface QueryFigures {
  readonly rows: number;
  readonly year: number;
  readonly partitionBytes: number;
  readonly archiveBytesRead: number;
  readonly viewBytesRead: number;
  readonly unpartitionedParquetBytes: number;
  readonly unpartitionedBytesRead: number;
  readonly csvBytes: number;
  readonly csvBytesRead: number;
}

/**
 * Archives `rows` rows, then reads every column of one year's rows: from the archive's external
 * table filtered on `year` (partition pruning), through the union view filtered on the archive
 * column, from one unpartitioned Parquet file and from a CSV export of the same rows.
 */
export async function measureQueries(rows: number, year = 2023): Promise<QueryFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'archive-query-'));
  const engine = await openLocalEngine({
    config: benchConfig('numeric'),
    warehousePath: join(dir, 'w.duckdb'),
    lakeRoot: join(dir, 'lake'),
  });
  try {
    const w = engine.warehouse;
    await w.execute(generateSql(rows, 'numeric', ALL_OLD));
    const flat = join(dir, 'flat.parquet');
    const csv = join(dir, 'flat.csv');
    await w.execute(`COPY bench.transactions TO '${flat}' (FORMAT PARQUET)`);
    await w.execute(`COPY bench.transactions TO '${csv}' (FORMAT CSV, HEADER)`);
    const archiver = new Archiver(engine);
    await archiver.setup();
    await archiver.run({ runId: '20260101T000000Z', cutoff: CUTOFF });
    const all = '"transactionid", "clientid", "typeid", "time", "amount"';
    const range = `"time" >= TIMESTAMP '${year}-01-01' AND "time" < TIMESTAMP '${year + 1}-01-01'`;
    const read = async (sql: string) => {
      const before = bytesRead();
      const [row] = await w.query(sql);
      const after = bytesRead();
      return { bytes: after - before, rows: Number(row.n) };
    };
    const wrap = (from: string, where: string) =>
      `SELECT COUNT(*) AS n, SUM(hash(${all})) AS h FROM ${from} WHERE ${where}`;
    const archive = await read(wrap('ext_bench.transactions', `"year" = ${year}`));
    const view = await read(wrap('bench.all_transactions', range));
    const unpartitioned = await read(wrap(`read_parquet('${flat}')`, range));
    const text = await read(wrap(`read_csv('${csv}')`, range));
    const partition = join(engine.lake.batchRoot('transactions', year, '20260101T000000Z'), `year=${year}`);
    if (new Set([archive.rows, view.rows, unpartitioned.rows, text.rows]).size !== 1) {
      throw new Error(
        `the four reads disagree: ${archive.rows}, ${view.rows}, ${unpartitioned.rows}, ${text.rows}`,
      );
    }
    return {
      rows: archive.rows,
      year,
      partitionBytes: sizeOf(partition),
      archiveBytesRead: archive.bytes,
      viewBytesRead: view.bytes,
      unpartitionedParquetBytes: sizeOf(flat),
      unpartitionedBytesRead: unpartitioned.bytes,
      csvBytes: sizeOf(csv),
      csvBytesRead: text.bytes,
    };
  } finally {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
