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

/**
 * A fake engine clock: it starts at `from` and moves on `stepMs` at every reading, so the instants
 * a run records and the durations it prints are the same on every machine.
 */
export function steppingClock(from: string, stepMs = 1000): () => Date {
  let at = Date.parse(from);
  return () => {
    const now = new Date(at);
    at += stepMs;
    return now;
  };
}

/**
 * One command line through the CLI's `main`, at a fixed instant, with a stepping engine clock from
 * that instant on: its exit code, its output, its reads of the command's one clock.
 */
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
    clock: steppingClock(now),
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), clockReads };
}
