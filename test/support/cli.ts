import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../bin/cli';
import { DuckDbWarehouse } from '../../src/engines/local/duckdb-warehouse';
import { CONTABYX_SMALL_DATA } from '../../devkit/world';

/** A fresh folder holding a DuckDB warehouse with the contabyx sample, and where its lake goes. */
export async function sampleWarehouse(
  prefix: string,
): Promise<{ dir: string; warehouse: string; lake: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const warehouse = join(dir, 'warehouse.duckdb');
  const opened = await DuckDbWarehouse.open(warehouse);
  await opened.warehouse.execute(CONTABYX_SMALL_DATA);
  opened.warehouse.close();
  opened.instance.closeSync();
  return { dir, warehouse, lake: join(dir, 'lake') };
}

/** One command line through the CLI's `main`, at a fixed instant: its exit code, its output, its clock reads. */
export async function cli(args: string[], now = '2026-01-01T00:00:05Z') {
  const out: string[] = [];
  const err: string[] = [];
  let clockReads = 0;
  const code = await main(args, {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    now: () => {
      clockReads += 1;
      return new Date(now);
    },
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), clockReads };
}
