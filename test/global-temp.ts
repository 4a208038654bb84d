import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Every temporary folder the tests make (their own, and the cdk.out* of each synthesized App) goes
// under one folder of this jest run, removed when it ends. Set here, in jest's own process, so
// that the workers inherit it: inside a test, process.env is a copy that os.tmpdir() never reads.
const KEY = 'REDSHIFT_ARCHIVE_TEST_TMP';

/** jest globalSetup: one temporary root for the run. */
export function setup(): void {
  const root = mkdtempSync(join(tmpdir(), 'redshift-archive-test-'));
  process.env[KEY] = root;
  process.env.TMPDIR = root;
}

/** jest globalTeardown: the root goes, with whatever a test left in it. */
export function teardown(): void {
  const root = process.env[KEY];
  if (root) rmSync(root, { recursive: true, force: true });
}
