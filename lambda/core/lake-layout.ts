import { PARTITION_KEYS } from '../config/config';
import { isRunId } from './cutoff';
import { InputError, show } from './errors';
import { checkIdentifier } from '../sql/identifiers';

/**
 * The one definition of where a run's export of a table lives in the lake, on S3 and on disk:
 * `<prefix>/<table>/archive_run=<run>/` (with a trailing `/`). The run key comes first so that
 * each run writes under a prefix of its own, which no other partition's location contains.
 */
export function runPrefix(lakePrefix: string, table: string, runId: string): string {
  checkIdentifier(table, 'table');
  if (!isRunId(runId)) {
    throw new InputError(`run: ${show(runId)} is not allowed; allowed: a run id YYYYMMDDTHHMMSSZ`);
  }
  return `${lakePrefix}/${table.toLowerCase()}/${PARTITION_KEYS.run}=${runId}/`;
}

/**
 * Whether `key` (relative to the lake's root, `/`-separated) is exactly a run prefix of this
 * lake: the check that stands before anything under it is deleted.
 */
export function isRunPrefix(lakePrefix: string, key: string): boolean {
  const [table, run, rest] = key.startsWith(`${lakePrefix}/`)
    ? key.slice(lakePrefix.length + 1).split('/')
    : [];
  const marker = `${PARTITION_KEYS.run}=`;
  if (table === undefined || !run?.startsWith(marker) || rest !== '') return false;
  try {
    return runPrefix(lakePrefix, table, run.slice(marker.length)) === key;
  } catch {
    return false;
  }
}
