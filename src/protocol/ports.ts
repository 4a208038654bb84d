/**
 * The three small interfaces the archive protocol talks to. The AWS implementations are the
 * Redshift Data API, S3 and Glue; the embedded ones are DuckDB, a local folder and a local
 * catalog. The protocol never asks which one it has.
 */
import type { Dialect } from '../sql/dialect';

/** One result row; every value as text (or null), with lower-case column labels. */
export type Row = Readonly<Record<string, string | null>>;

/** How long a statement may take. */
export interface StatementOptions {
  /**
   * The statement may outlive the invocation that sends it (an export, a commit, a VACUUM): the
   * engine then announces its end (on AWS, a Data API event that resumes the run). Reads and
   * setup never do, so that the flow of events goes quiet.
   */
  readonly outlives?: boolean;
}

/** A database that holds the hot tables, the ledger and the union views. */
export interface Warehouse {
  readonly dialect: Dialect;
  /**
   * Runs one read-only statement and returns its rows.
   * @param step - names the statement for logs and for the engine (`<run>.<phase>...`)
   */
  query(sql: string, step: string): Promise<Row[]>;
  /** Runs one statement on its own, outside any transaction. */
  execute(sql: string, step: string, options?: StatementOptions): Promise<void>;
  /** Runs the statements in order as ONE transaction: all of them take effect, or none. */
  transaction(sqls: readonly string[], step: string, options?: StatementOptions): Promise<void>;
  /**
   * Where the work is done in invocations of limited time (AWS Lambda): sends one statement whose
   * completion event resumes the run in a fresh invocation, and ends this one's work by throwing
   * `StillRunningError` naming it. Undefined where nothing ends the work (the embedded engine).
   */
  handOver?(sql: string, step: string): Promise<never>;
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

/** One object of the lake. */
export interface LakeFile {
  readonly url: string;
  readonly bytes: number;
  /**
   * What changes when the object's content is written again: its ETag on S3 (which "reflects
   * changes only to the contents of an object": S3 API Reference, Object), its inode and
   * modification time in a folder. Verification records it, and the commit compares it again.
   */
  readonly tag?: string;
}

/** Object storage laid out as the lake layout module says (`core/lake-layout.ts`). */
export interface Lake {
  /**
   * Where this lake is (`s3://<bucket>`, or a folder's absolute path): every location of its
   * batches starts with it and a `/`. A location the ledger recorded elsewhere is not in it.
   */
  readonly root: string;
  /**
   * The root (URI with a trailing `/`) that one batch's export of one table writes to. No other
   * batch ever writes under it, and no other batch's root contains it.
   */
  batchRoot(table: string, year: number, runId: string): string;
  /**
   * Deletes everything under a batch root (or a v1 run's prefix) and makes it ready to be
   * written. Refuses any other location.
   */
  clear(root: string): Promise<void>;
  /**
   * Reads the manifest that an export wrote at `root`; undefined when there is none (the export
   * did not run, did not complete, or, on Redshift, wrote no rows: UNLOAD writes its manifest
   * after the files).
   */
  readManifest(root: string): Promise<Manifest | undefined>;
  /**
   * Read only: every object under a partition's location (its Parquet files), with its size; what
   * an audit compares with the files the ledger recorded.
   */
  listFiles(location: string): Promise<LakeFile[]>;
  /** Writes a run's JSON report under a prefix that no table reads; returns its location. */
  writeReport(runId: string, report: unknown): Promise<string>;
  /** Where protocol v1 wrote a run of a table (to clear what an unfinished v1 run exported). */
  legacyRunLocation(table: string, runId: string): string;
}

/** A registered partition of an archive table: one batch of one table. */
export interface Partition {
  readonly year: number;
  readonly runId: string;
  /** The partition's own folder of Parquet files. */
  readonly location: string;
}

/** The data catalog (Glue) that defines the external tables Spectrum and Athena read. */
export interface Catalog {
  /** Where the catalog is, for messages: `the Glue database <name>`, `the catalog file <path>`. */
  readonly where: string;
  /** Makes sure the external table for `table` exists with the configured columns. */
  ensureTable(table: string): Promise<void>;
  /** Read only: the columns the catalog declares for `table`; undefined when it has no such table. */
  tableColumns(table: string): Promise<{ name: string; type: string }[] | undefined>;
  /**
   * Registers a partition with its explicit location. One that exists with the same location is
   * fine; one with a different location is an error.
   */
  addPartition(table: string, partition: Partition): Promise<void>;
  /** Read only: every registered partition of `table` (none when the catalog has no such table). */
  partitions(table: string): Promise<Partition[]>;
  /** Removes the partitions of one run, of one year or of all its years; the files are the lake's business. */
  removePartitions(table: string, runId: string, year?: number): Promise<void>;
  /**
   * Optional second reader: rows of one batch's partition, counted by another engine than the
   * warehouse (Athena). Verification then requires both to match.
   */
  countRows?(table: string, runId: string, year: number): Promise<number>;
  /**
   * Optional: sets aside a catalog that cannot be read (the embedded engine's file) and starts an
   * empty one, for `repair` to register every committed batch again from the ledger.
   */
  recreate?(): Promise<void>;
}
