import { isRunId } from './cutoff';
import { InputError, show } from './errors';
import { checkIdentifier } from './identifiers';

/**
 * The one definition of where things live in the lake, on S3 and on disk (keys relative to the
 * bucket or folder, `/`-separated, with a trailing `/`):
 *
 *     <prefix>/<table>/year=<yyyy>/archive_run=<run>/            one batch: what one export writes
 *     <prefix>/<table>/year=<yyyy>/archive_run=<run>/manifest    the export's manifest
 *     <prefix>/<table>/year=<yyyy>/archive_run=<run>/year=<yyyy>/ the batch's partition: Parquet only
 *
 * Each batch (one table, one archive year, one run) writes under a root of its own, which no other
 * batch's root contains, so a retry may empty it. The export partitions by year inside that root
 * (UNLOAD ... PARTITION BY), which keeps its manifest outside the folder that Spectrum and Athena
 * read as the partition: they would take the manifest for a data file.
 */

/** The partition keys of every archive table, in the order of a partition's values. */
export const PARTITION_KEYS = { year: 'year', run: 'archive_run' } as const;

/** The manifest an export writes at its root, as UNLOAD ... MANIFEST does. */
export const MANIFEST_NAME = 'manifest';

function checkRun(runId: string): void {
  if (!isRunId(runId)) {
    throw new InputError(`run: ${show(runId)} is not allowed; allowed: a run id YYYYMMDDTHHMMSSZ`);
  }
}

/** Whether a year has a place in the layout (`year=YYYY`: four digits, 1000 to 9999). */
export function isLayoutYear(year: number): boolean {
  return Number.isInteger(year) && year >= 1000 && year <= 9999;
}

function checkYear(year: number): void {
  if (!isLayoutYear(year)) {
    throw new InputError(`year: ${show(year)} is not allowed; allowed: a year from 1000 to 9999`);
  }
}

/** Where every batch of `table` lies, in both protocols' layouts: `<prefix>/<table>/`. */
export function tablePrefix(lakePrefix: string, table: string): string {
  checkIdentifier(table, 'table');
  return `${lakePrefix}/${table.toLowerCase()}/`;
}

/** The root of one batch: where the export of `table` for `year` in run `runId` writes. */
export function batchRoot(lakePrefix: string, table: string, year: number, runId: string): string {
  const prefix = tablePrefix(lakePrefix, table);
  checkYear(year);
  checkRun(runId);
  return `${prefix}${PARTITION_KEYS.year}=${year}/${PARTITION_KEYS.run}=${runId}/`;
}

/** The folder of a batch's Parquet files: the location its catalog partition is registered at. */
export function partitionLocation(root: string, year: number): string {
  checkYear(year);
  return `${root}${PARTITION_KEYS.year}=${year}/`;
}

/**
 * Whether `key` is exactly a batch root of this lake: the check that stands before anything
 * under it is deleted.
 */
export function isBatchRoot(lakePrefix: string, key: string): boolean {
  const parts = key.startsWith(`${lakePrefix}/`) ? key.slice(lakePrefix.length + 1).split('/') : [];
  const [table, year, run, rest] = parts;
  const yearMarker = `${PARTITION_KEYS.year}=`;
  const runMarker = `${PARTITION_KEYS.run}=`;
  if (parts.length !== 4 || rest !== '' || !year?.startsWith(yearMarker) || !run?.startsWith(runMarker)) {
    return false;
  }
  try {
    const y = Number(year.slice(yearMarker.length));
    return batchRoot(lakePrefix, table, y, run.slice(runMarker.length)) === key;
  } catch {
    return false;
  }
}

/**
 * Where protocol v1 exported one run of one table (all its years): `<prefix>/<table>/archive_run=<run>/`.
 * Read only to finish or clear a run that v1 left unfinished.
 */
export function legacyRunPrefix(lakePrefix: string, table: string, runId: string): string {
  const prefix = tablePrefix(lakePrefix, table);
  checkRun(runId);
  return `${prefix}${PARTITION_KEYS.run}=${runId}/`;
}

/** Whether `key` is exactly a v1 run prefix of this lake. */
export function isLegacyRunPrefix(lakePrefix: string, key: string): boolean {
  const parts = key.startsWith(`${lakePrefix}/`) ? key.slice(lakePrefix.length + 1).split('/') : [];
  const [table, run, rest] = parts;
  const marker = `${PARTITION_KEYS.run}=`;
  if (parts.length !== 3 || rest !== '' || !run?.startsWith(marker)) return false;
  try {
    return legacyRunPrefix(lakePrefix, table, run.slice(marker.length)) === key;
  } catch {
    return false;
  }
}

/** Whether `key` is a root this lake may empty: a batch root, or a v1 run prefix. */
export function isClearable(lakePrefix: string, key: string): boolean {
  return isBatchRoot(lakePrefix, key) || isLegacyRunPrefix(lakePrefix, key);
}
