import { firstLine, StillRunningError } from '../core/errors';
import { tableNamed, type ArchiveConfig } from '../config/config';
import type { ArchiveSql } from '../sql/statements';
import { count, type BatchRecord, type LedgerView } from './ledger';
import type { Catalog, Lake, LakeFile, Partition, Warehouse } from './ports';

/** One committed batch of one table, as the audit found it. */
export interface AuditedBatch {
  readonly table: string;
  readonly runId: string;
  readonly year: number;
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
  /** What differs from the ledger; empty when the batch is intact (or recorded lost). */
  readonly problems: readonly string[];
  /** Recorded lost by an operator (`repair --accept-lost`): why, as the ledger says. Not checked. */
  readonly lost?: string;
}

/** The answer to "is the archive still what the ledger says it is?". */
export interface AuditReport {
  readonly ok: boolean;
  /** The batches were also read back through the external table. */
  readonly deep: boolean;
  readonly batches: readonly AuditedBatch[];
}

/** What an audit reads; it writes nothing. */
export interface AuditDeps {
  readonly config: ArchiveConfig;
  readonly warehouse: Warehouse;
  readonly lake: Lake;
  readonly catalog: Catalog;
}

/**
 * After a run the lake holds the only copy of the archived rows. For every committed batch that
 * holds rows (and was not restored), the audit checks that the lake still holds exactly the files
 * the ledger recorded (count and bytes), that the catalog still registers the batch's partition at
 * the recorded location, and, when `deep`, that the rows read back through the external table have
 * the recorded row count and checksum. Batches an operator recorded as lost are listed as such,
 * not checked: they are no damage to report again. Read only.
 */
export async function audit(
  deps: AuditDeps,
  sql: ArchiveSql,
  ledger: LedgerView,
  deep: boolean,
): Promise<AuditReport> {
  const partitions = new Map<string, Partition[] | string>();
  const batches: AuditedBatch[] = [];
  for (const b of ledger.archived().filter((x) => x.location !== null)) {
    const key = b.table.toLowerCase();
    if (!partitions.has(key)) {
      partitions.set(key, await deps.catalog.partitions(b.table).catch((error: unknown) => firstLine(error)));
    }
    const files = await filesAt(deps.lake, b.location as string);
    const problems = [
      ...fileProblems(
        b,
        files.length,
        files.reduce((sum, f) => sum + f.bytes, 0),
      ),
      ...partitionProblems(b, partitions.get(key) as Partition[] | string),
      ...(deep ? await readBackProblems(deps, sql, b) : []),
    ];
    batches.push(audited(b, problems));
  }
  for (const b of ledger.lost()) batches.push({ ...audited(b, []), lost: b.error ?? 'recorded lost' });
  return { ok: batches.every((b) => b.problems.length === 0), deep, batches };
}

/** A batch as the audit reports it, with what differs. */
function audited(b: BatchRecord, problems: readonly string[]): AuditedBatch {
  return {
    table: b.table,
    runId: b.runId,
    year: b.year,
    rows: b.rows ?? 0,
    files: b.files ?? 0,
    bytes: b.bytes ?? 0,
    problems,
  };
}

/** The files at a recorded location: none when the location is not in this lake at all. */
export async function filesAt(lake: Lake, location: string): Promise<LakeFile[]> {
  return location.startsWith(`${lake.root}/`) ? lake.listFiles(location) : [];
}

/** How the files at a batch's location differ from what the ledger recorded (count and bytes). */
export function fileProblems(b: BatchRecord, files: number, bytes: number): string[] {
  if (files === b.files && bytes === b.bytes) return [];
  return [
    `the lake holds ${files} files of ${bytes} bytes under ${b.location}; the ledger recorded ${b.files} files of ${b.bytes} bytes`,
  ];
}

/** How the catalog's partition of a batch differs from what the ledger recorded. */
export function partitionProblems(b: BatchRecord, partitions: Partition[] | string): string[] {
  if (typeof partitions === 'string') return [`the catalog cannot be read: ${partitions}`];
  const partition = partitions.find((p) => p.runId === b.runId && p.year === b.year);
  if (!partition) return [`the catalog has no partition for run ${b.runId}, year ${b.year}`];
  const trimmed = (location: string) => location.replace(/\/+$/, '');
  if (trimmed(partition.location) !== trimmed(b.location as string)) {
    return [`the catalog's partition points at ${partition.location}; the ledger recorded ${b.location}`];
  }
  return [];
}

async function readBackProblems(deps: AuditDeps, sql: ArchiveSql, b: BatchRecord): Promise<string[]> {
  const table = tableNamed(deps.config, b.table);
  try {
    const [row] = await deps.warehouse.query(
      sql.archiveFiguresQuery(table, b),
      `audit.${b.runId}.${b.year}.${table.alias}`,
    );
    const rows = count(row?.row_count);
    const checksum = row?.checksum ?? '';
    if (rows === b.rows && checksum === b.checksum) return [];
    return [
      `read back ${rows} rows with checksum ${checksum}; the ledger recorded ${b.rows} rows with checksum ${b.checksum}`,
    ];
  } catch (error) {
    // A read that outlives the invocation says nothing about the batch: it fails the audit
    // instead of reporting damage that may not be there.
    if (error instanceof StillRunningError) throw error;
    return [`cannot be read back through the external table: ${firstLine(error)}`];
  }
}
