import type { ColumnType } from '../core/column-types';

/**
 * A validated configuration, as `parseConfig` and `loadConfig` return it: every default applied,
 * column types and readers parsed. Plain interfaces, one per section of the file, so that the
 * construct's props name no zod type. `test/unit/config-types.test.ts` fails to compile when the
 * schema's output (`config.ts`) and these interfaces drift apart: a field added to one is added to
 * the other. The file's keys and their defaults are listed in the README ("Configuration").
 */
export interface ArchiveConfig {
  /** The Redshift warehouse whose tables are archived. */
  readonly warehouse: WarehouseConfig;
  /** Where the archive's files go in the bucket. */
  readonly lake: LakeConfig;
  /** The Glue database of the archive tables, and the Redshift external schema over it. */
  readonly catalog: CatalogConfig;
  /** Where the union views of hot and archived rows are, and who may read them. */
  readonly views: ViewsConfig;
  /** Which rows are old enough to archive. */
  readonly retention: RetentionConfig;
  /**
   * Exports of a batch whose commit check fails (its hot rows changed since the export) before the
   * run stops; 1 to 10. In the file: `3` when left out.
   */
  readonly maxAttempts: number;
  /** Where the ledger lives. */
  readonly ledger: LedgerConfig;
  /** What a run does to the hot tables once it is done. */
  readonly maintenance: MaintenanceConfig;
  /**
   * The prices that `plan` and the run report turn bytes into dollars with; left out (or any price
   * left out), us-east-1 list prices (`DEFAULT_PRICES` in `src/config/prices.ts`).
   */
  readonly prices?: PricesConfig;
  /** The archived tables: roots (archived by a date column) and their children. */
  readonly tables: TableConfig[];
}

/** The warehouse: a provisioned cluster or a Serverless workgroup. */
export type WarehouseConfig = ProvisionedWarehouse | ServerlessWarehouse;

/** A provisioned cluster, reached through the Data API with a database user or a secret. */
export interface ProvisionedWarehouse {
  readonly type: 'provisioned';
  readonly clusterIdentifier: string;
  readonly database: string;
  /** The database user (temporary credentials); exactly one of `dbUser` and `secretArn`. */
  readonly dbUser?: string;
  /** The Secrets Manager secret of the database user; exactly one of `dbUser` and `secretArn`. */
  readonly secretArn?: string;
  /**
   * A role of yours, associated with the cluster, that Redshift assumes for UNLOAD and Spectrum.
   * Left out: the stack creates one and associates it.
   */
  readonly roleArn?: string;
}

/** A Serverless workgroup, reached through the Data API as the stack's role (`IAMR:<role name>`). */
export interface ServerlessWarehouse {
  readonly type: 'serverless';
  readonly workgroupName: string;
  readonly database: string;
  /**
   * A role of yours, associated with the namespace, that Redshift assumes for UNLOAD and Spectrum.
   * Left out: the stack creates one and associates it.
   */
  readonly roleArn?: string;
}

/** The S3 side of the archive. */
export interface LakeConfig {
  /** Key prefix of the archive tables. */
  readonly prefix: string;
  /** Key prefix of the run reports; in the file, `archive-reports` when left out. */
  readonly reportsPrefix: string;
  /** The name of the bucket the stack creates; left out, CloudFormation names it. */
  readonly bucketName?: string;
}

/** The Glue database and the Redshift external schema on it. */
export interface CatalogConfig {
  /** The Glue database (lower case). */
  readonly database: string;
  readonly externalSchema: string;
  /** The Athena workgroup's name; left out, `<database>-archive`. */
  readonly athenaWorkgroup?: string;
}

/** The union views: `<schema>.<prefix><table>`. */
export interface ViewsConfig {
  readonly schema: string;
  /** May be empty. */
  readonly prefix: string;
  /**
   * Who may query the views; in the file, `"user NAME"` or `"group NAME"` (a role cannot be granted
   * USAGE on the external schema the views read).
   */
  readonly readers: Reader[];
}

/** A database identity that may query the union views (`views.readers`). */
export interface Reader {
  /** `role` only in the footprint of an earlier deployment (to revoke): a configuration refuses it. */
  readonly kind: 'user' | 'group' | 'role';
  readonly name: string;
}

/** Which rows are old enough to archive. */
export interface RetentionConfig {
  /** Years kept hot, the current one included (1 to 100); in the file, `1` when left out. */
  readonly keepYears: number;
  /** The IANA time zone of the year boundary; in the file, `UTC` when left out. */
  readonly timeZone: string;
}

/** Where the ledger lives. */
export interface LedgerConfig {
  /** In the file, `archive_meta` when left out. */
  readonly schema: string;
  /** Where protocol v1 kept its stage tables; in the file, `archive_stage` when left out. */
  readonly stageSchema: string;
}

/** What a run does to the hot tables once it is done. */
export interface MaintenanceConfig {
  /** VACUUM DELETE ONLY and ANALYZE of each hot table; in the file, `true` when left out. */
  readonly vacuum: boolean;
}

/** Prices in US dollars; each left out takes its default. */
export interface PricesConfig {
  /** Warehouse storage (Redshift Managed Storage), per GB-month. */
  readonly warehouseGbMonth?: number;
  /** Lake storage in the storage class the lifecycle rule moves archived files to, per GB-month. */
  readonly lakeGbMonth?: number;
  /** Spectrum or Athena, per TB scanned. */
  readonly scanPerTb?: number;
  /** Retrieval from the lake's storage class, per GB read (what a deep audit pays). */
  readonly retrievalPerGb?: number;
  /** Where these prices come from, and when (shown beside the estimates). */
  readonly source?: string;
}

/** One archived table. */
export interface TableConfig {
  readonly schema: string;
  readonly name: string;
  /**
   * What the archive calls the table: its Glue table, its folder in the lake, its union view
   * (`<views.prefix><alias>`) and its rows in the ledger. Unique among the tables, so that two
   * schemas' tables of the same name (`sales.payments`, `billing.payments`) can both be archived;
   * in the file, the table's name when left out.
   */
  readonly alias: string;
  /** By its own date or timestamp column (a root), or with its parent through a foreign key. */
  readonly archiveBy: ArchiveBy;
  /** Exactly the table's columns, in their order, with their types. */
  readonly columns: ColumnConfig[];
}

/** How a table's rows are chosen. */
export type ArchiveBy = ArchiveByColumn | ArchiveByParent;

/** A root table: rows whose `column` (date, timestamp or timestamptz) is older than the cutoff. */
export interface ArchiveByColumn {
  readonly column: string;
}

/**
 * A child table: rows follow the rows of `parent` whose `parentKey` columns equal their
 * `foreignKey` columns, one for one (a composite key has several; in the file, a single column may
 * be written as a string). A row with NULL in any of its key columns has no parent, and stays hot.
 */
export interface ArchiveByParent {
  /** The parent's alias (its name unless it sets one), or its `schema.name`. */
  readonly parent: string;
  readonly foreignKey: string[];
  readonly parentKey: string[];
}

/** One column of an archived table. */
export interface ColumnConfig {
  readonly name: string;
  readonly type: ColumnType;
}
