import type { Prices } from '../config/prices';
import type { Row } from './ports';
import { count, type LedgerView } from './ledger';

/** GB and TB as AWS bills storage and scans: 1 GB = 1,024^3 bytes, 1 TB = 1,024 GB. */
const GB = 1024 ** 3;
const TB = 1024 * GB;

/** What the warehouse says one table occupies. */
export interface TableSize {
  readonly bytes: number;
  /** The rows those bytes hold (on Redshift, with deleted rows not yet vacuumed). */
  readonly rows: number;
}

/** How the lake's bytes of some rows are known. */
export type LakeBasis = 'measured' | 'earlier batches' | 'assumed as the warehouse' | 'mixed' | 'unknown';

/** What some rows occupy in the warehouse and in the lake, and what that costs a year. */
export interface Savings {
  /** Warehouse bytes the rows occupy: what leaving frees, once the space is reclaimed; null when unknown. */
  readonly warehouseBytes: number | null;
  /** Bytes the rows take in the lake; null when unknown. */
  readonly lakeBytes: number | null;
  readonly lakeBasis: LakeBasis;
  /** Dollars a year the warehouse no longer charges for those bytes. */
  readonly warehouseDollarsPerYear: number | null;
  /** Dollars a year the lake charges for its bytes (in the lifecycle's storage class). */
  readonly lakeDollarsPerYear: number | null;
  /** Saved minus charged, a year. */
  readonly netDollarsPerYear: number | null;
  /** One deep audit's read of the lake bytes: scanned, plus the retrieval fee of the storage class. */
  readonly deepAuditDollars: number | null;
}

/**
 * Reads the warehouse's own storage figures (`ArchiveSql.tableSizesQuery`) per configured table,
 * by lower-case `schema.name`. A table the warehouse says nothing of (empty, not visible to this
 * user, data not yet on disk) has no entry.
 */
export function tableSizes(rows: readonly Row[]): Map<string, TableSize> {
  const sizes = new Map<string, TableSize>();
  for (const r of rows) {
    const size = { bytes: count(r.bytes), rows: count(r.row_count) };
    if (size.bytes > 0 && size.rows > 0)
      sizes.set(`${String(r.table_schema)}.${String(r.table_name)}`.toLowerCase(), size);
  }
  return sizes;
}

/** The warehouse bytes `rows` of a table occupy: its size scaled by the rows that leave. */
export function warehouseShare(size: TableSize | undefined, rows: number): number | undefined {
  if (!size) return undefined;
  return Math.round((size.bytes * Math.min(rows, size.rows)) / size.rows);
}

/** Lake bytes per row of a table, from its committed batches so far; undefined without any. */
export function lakeBytesPerRow(ledger: LedgerView, table: string): number | undefined {
  const batches = ledger.archived(table).filter((b) => b.bytes !== null && (b.rows ?? 0) > 0);
  const rows = batches.reduce((sum, b) => sum + (b.rows ?? 0), 0);
  if (rows === 0) return undefined;
  return batches.reduce((sum, b) => sum + (b.bytes ?? 0), 0) / rows;
}

/**
 * What bytes cost a year at `prices`: storage by the GB-month, a deep audit's scan by the TB and
 * its retrieval by the GB.
 */
export function savings(
  warehouseBytes: number | null,
  lake: { readonly bytes: number | null; readonly basis: LakeBasis },
  prices: Prices,
): Savings {
  const yearly = (bytes: number | null, perGbMonth: number) =>
    bytes === null ? null : (bytes / GB) * perGbMonth * 12;
  const saved = yearly(warehouseBytes, prices.warehouseGbMonth);
  const charged = yearly(lake.bytes, prices.lakeGbMonth);
  return {
    warehouseBytes,
    lakeBytes: lake.bytes,
    lakeBasis: lake.basis,
    warehouseDollarsPerYear: saved,
    lakeDollarsPerYear: charged,
    netDollarsPerYear: saved === null || charged === null ? null : saved - charged,
    deepAuditDollars:
      lake.bytes === null
        ? null
        : (lake.bytes / TB) * prices.scanPerTb + (lake.bytes / GB) * prices.retrievalPerGb,
  };
}

/** Adds up savings (a run's tables): unknown when any part is unknown. */
export function totalSavings(parts: readonly Savings[], prices: Prices): Savings {
  const sum = (of: (s: Savings) => number | null) =>
    parts.some((p) => of(p) === null) ? null : parts.reduce((total, p) => total + (of(p) as number), 0);
  const bases = new Set(parts.map((p) => p.lakeBasis));
  const basis: LakeBasis = bases.size === 1 ? [...bases][0] : bases.has('unknown') ? 'unknown' : 'mixed';
  return savings(
    sum((p) => p.warehouseBytes),
    { bytes: sum((p) => p.lakeBytes), basis },
    prices,
  );
}
