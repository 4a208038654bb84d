import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a module that an install with --omit=optional left out throws when required. */
function notInstalled(name: string): never {
  const error = new Error(`Cannot find module '${name}' from 'redshift-archive'`) as NodeJS.ErrnoException;
  error.code = 'MODULE_NOT_FOUND';
  throw error;
}

test('fails with exit 2 naming DuckDB when the embedded engine is asked for but not installed', async () => {
  // given an install without the optional dependencies
  jest.doMock('@duckdb/node-api', () => notInstalled('@duckdb/node-api'));
  const { main } = await import('../../bin/cli');
  const dir = mkdtempSync(join(tmpdir(), 'optional-'));
  const stderr: string[] = [];

  // when a command asks for the embedded engine
  const code = await main(
    [
      'status',
      '--config',
      'config/contabyx.json',
      '--local',
      join(dir, 'w.duckdb'),
      '--lake',
      join(dir, 'lake'),
    ],
    { stdout: () => undefined, stderr: (text) => stderr.push(text), now: () => new Date() },
  );

  // then it says what is missing and how to get it, and changes nothing
  expect(code).toBe(2);
  expect(stderr).toEqual([
    'redshift-archive: --local: needs @duckdb/node-api, an optional dependency of redshift-archive that is not installed; ' +
      'allowed: an install without --omit=optional',
  ]);
  expect(readdirSync(dir)).toEqual([]);
  expect(existsSync(join(dir, 'w.duckdb'))).toBe(false);
});
