/**
 * The three small interfaces the archive protocol talks to. The AWS implementations are the
 * Redshift Data API, S3 and Glue; the embedded ones are DuckDB, a local folder and a local
 * catalog. The protocol never asks which one it has.
 */
import type { Dialect } from '../sql/dialect';

/** One result row; every value as text (or null), with lower-case column labels. */
export type Row = Readonly<Record<string, string | null>>;

/** A database that holds the hot tables, the stage tables, the ledger and the union views. */
export interface Warehouse {
  readonly dialect: Dialect;
  /**
   * Runs one read-only statement and returns its rows.
   * @param step - names the statement for logs and for the engine (`<run>.<phase>...`)
   */
  query(sql: string, step: string): Promise<Row[]>;
  /** Runs one statement on its own, outside any transaction. */
  execute(sql: string, step: string): Promise<void>;
  /** Runs the statements in order as ONE transaction: all of them take effect, or none. */
  transaction(sqls: readonly string[], step: string): Promise<void>;
}

/** One file listed in an export's manifest. */
export interface ManifestEntry {
  readonly url: string;
  readonly bytes: number;
  readonly rows: number;
}

/** The export's own record of what it wrote (UNLOAD's MANIFEST VERBOSE). */
export interface Manifest {
  readonly entries: readonly ManifestEntry[];
  /** Total rows as the manifest states it. */
  readonly rows: number;
}

/** Object storage laid out as `<prefix>/<table>/archive_run=<run>/year=<yyyy>/`. */
export interface Lake {
  /**
   * The location (URI with a trailing `/`) that one run's export of one table writes to. No
   * other run ever writes under it, and no other partition's location contains it.
   */
  runLocation(table: string, runId: string): string;
  /**
   * Deletes everything under a run location and makes it ready to be written. Refuses any
   * location that is not a run location of this lake.
   */
  clearRunLocation(location: string): Promise<void>;
  /**
   * Reads the manifest that an export wrote under `location`; undefined when there is none (the
   * export did not run, or did not complete: UNLOAD writes its manifest after the files).
   */
  readManifest(location: string): Promise<Manifest | undefined>;
  /** Writes a run's JSON report under a prefix that no table reads; returns its location. */
  writeReport(runId: string, report: unknown): Promise<string>;
}

/** A registered partition of an archive table. */
export interface Partition {
  readonly year: number;
  readonly runId: string;
  /** The partition's own folder, `<run location>year=<yyyy>/`. */
  readonly location: string;
}

/** The data catalog (Glue) that defines the external tables Spectrum and Athena read. */
export interface Catalog {
  /** Makes sure the external table for `table` exists with the configured columns. */
  ensureTable(table: string): Promise<void>;
  /**
   * Registers partitions with their explicit locations. A partition that exists with the same
   * location is fine; one with a different location is an error.
   */
  addPartitions(table: string, partitions: readonly Partition[]): Promise<void>;
  /** Removes the partitions of one run (abort); the files are the lake's business. */
  removePartitions(table: string, runId: string): Promise<void>;
  /**
   * Optional second reader: rows per year of one run's partitions, counted by another engine
   * than the warehouse (Athena). Verification then requires both to match.
   */
  countRows?(table: string, runId: string): Promise<{ year: number; rows: number }[]>;
}
