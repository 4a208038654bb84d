import type { ColumnType, WarehouseType } from '../core/column-types';
import type { CalendarDate } from '../core/cutoff';
import type { Reader } from '../config/config';

/**
 * One value that goes into a row hash: a bare reference to its column (a checksum's derived table
 * names each column once, under a short alias), the value as it travels (the reference, or a cast
 * or zone conversion of it), and the type it has there.
 */
export interface HashInput {
  readonly ref: string;
  readonly expr: string;
  readonly type: ColumnType;
}

/** The rows one export writes, and the batch's year. */
export interface ExportQuery {
  readonly columns: string;
  readonly from: string;
  readonly where: string;
  readonly year: number;
}

/** What the database identity's probes look at. */
export interface AccessContext {
  /** The hot tables, quoted and schema-qualified, with their parts. */
  readonly tables: readonly { readonly schema: string; readonly name: string; readonly qualified: string }[];
  readonly ledgerSchema: string;
  readonly viewsSchema: string;
  /** The union views' names in their schema. */
  readonly views: readonly string[];
  readonly database: string;
  /** Whether runs end with VACUUM, which only an owner (or superuser) makes do anything. */
  readonly vacuum: boolean;
}

/**
 * One read-only probe of what the database identity may do: a statement with one row of one
 * value, the value that passes, and what to say either way. `{user}` in a fix stands for the
 * identity, which preflight reads first.
 */
export interface AccessProbe {
  readonly check: string;
  readonly sql: string;
  readonly expect: string;
  readonly passed: string;
  readonly failed: string;
  readonly fix: string;
}

/** A column as the warehouse's own catalog describes it. */
export interface CatalogColumn {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  /** The type as the catalog spells it, for messages. */
  readonly typeText: string;
  /** The type, when it is one this project can archive. */
  readonly type?: WarehouseType;
}

/** Which tables `init` reads: whole schemas, and tables by name. */
export interface CatalogScope {
  readonly schemas: readonly string[];
  readonly tables: readonly { readonly schema: string; readonly name: string }[];
}

/**
 * What reads a warehouse's own catalog needs, and nothing else: the schema guard's columns, and
 * what `init` reads (the base tables' columns, the declared foreign keys). Reads only, and none
 * needs the role or key a deployment has, so `init` can send them with an operator's credentials.
 */
export interface CatalogDialect {
  readonly name: 'redshift' | 'duckdb';
  /**
   * A read of the catalog: the columns of the given tables, in their order, with columns
   * `table_schema`, `table_name`, `column_name`, `data_type`, `char_length`, `num_precision`,
   * `num_scale` (names compared in lower case).
   */
  catalogColumnsQuery(tables: readonly { schema: string; name: string }[]): string;
  /**
   * A read of the catalog: the columns of every base table (no view, no external table) of the
   * scope's schemas and of its tables, as {@link catalogColumnsQuery} reads them.
   */
  tableColumnsQuery(scope: CatalogScope): string;
  /**
   * Reads of the catalog: the foreign keys declared on `tables` (one statement each, or one for
   * all), a row per key column with `fk_name`, `fk_schema_name`, `fk_table_name`, `fk_column_name`,
   * `key_seq` (its place in the key, from 1), `pk_schema_name`, `pk_table_name`, `pk_column_name`.
   */
  foreignKeysQueries(tables: readonly { schema: string; name: string }[]): string[];
  /** The type of a row of {@link catalogColumnsQuery}, when it is one this project knows. */
  catalogType(row: Readonly<Record<string, string | null>>): WarehouseType | undefined;
}

/**
 * Everything the protocol's SQL needs that Redshift and DuckDB spell differently. The protocol
 * and the statement builder are shared; each engine has exactly one implementation of this.
 */
export interface Dialect extends CatalogDialect {
  /** A string literal for a value that was validated already. */
  literal(text: string): string;
  /** The engine's spelling of a configured column type, for casts. */
  columnType(type: ColumnType): string;
  /**
   * A value of a type that travels as text (`travelsAsText`: TIME, TIMETZ, VARBYTE, SUPER) as that
   * text, over `ref`: exact, so that {@link fromText} gives the value back, and NULL for NULL.
   */
  asText(type: ColumnType, ref: string): string;
  /** The value of `type` that the text of {@link asText} (the archive's column `ref`) stands for. */
  fromText(type: ColumnType, ref: string): string;
  /** The size in bytes of a SUPER value's text as {@link asText} writes it (what Spectrum must read whole). */
  textSize(type: ColumnType, ref: string): string;
  /**
   * The first instant of `date` in `timeZone`, as a literal comparable with a column of `type`
   * (a constant, so zone maps and sort keys stay usable). TIMESTAMPTZ literals carry an explicit
   * UTC offset, so no session time zone changes them.
   */
  boundLiteral(type: ColumnType, date: CalendarDate, timeZone: string): string;
  /**
   * An exact hash of one group of a row's values, the `group`-th (from 0) of its row: equal for
   * equal values, and (short of a collision) different for other values, or for the same values
   * in another group. NULL differs from every value, and string boundaries are part of the hash;
   * never NULL.
   */
  groupHash(values: readonly HashInput[], group: number): string;
  /**
   * How many values one {@link groupHash} takes at most: a wider row is hashed in groups, whose
   * hashes {@link combineHashes} combines. The grouping depends only on the number of columns,
   * which both sides of a comparison share.
   */
  readonly hashGroup: number;
  /**
   * An exact hash of a row from its groups' hashes (two or more, never NULL), in their order:
   * equal lists hash equal, and (short of a collision) others differently.
   */
  combineHashes(hashes: readonly string[]): string;
  /** An aggregate over a row hash: the exact, order-independent sum of the hashes, as text. */
  checksum(rowHash: string): string;
  /** CREATE OR REPLACE VIEW: keeps the view's owner and grants; the columns must stay the same. */
  replaceView(name: string, select: string): string;
  /** CREATE VIEW, for a view that does not exist or was dropped because its columns changed. */
  createView(name: string, select: string): string;
  /**
   * Statements that export one batch's rows (`SELECT <columns> FROM <from> WHERE <where>`) as
   * Parquet into the partition folder `<location>year=<year>/`, with a manifest of files and
   * row counts at `location` (as UNLOAD ... PARTITION BY ... MANIFEST VERBOSE writes them).
   */
  unload(rows: ExportQuery, location: string): string[];
  /** Statements that reclaim space and refresh statistics after deletes (not transactional). */
  maintenance(table: string): string[];
  /** A read of the catalog: the text of the given views (`table_schema`, `table_name`, `definition`). */
  viewDefinitionsQuery(views: readonly { schema: string; name: string }[]): string;
  /** A read of the catalog: the catalog database an external schema reads (`database`); no row without one. */
  externalDatabaseQuery(schema: string): string;
  /** A read of the catalog: the schemas that hold a table of this name (`table_schema`). */
  schemasWithTableQuery(table: string): string;
  /**
   * Where the warehouse would read every registered partition's files to bind an external table
   * (DuckDB, unlike Spectrum, which prunes by the filter): the relation that holds just these
   * partitions of `schema`.`table`. Undefined: the external table itself.
   */
  externalPartitions?(
    schema: string,
    table: string,
    partitions: readonly { runId: string; year: number }[],
  ): string;
  /** GRANTs that let `reader` query a view: none where the engine has no users. */
  grantSelect(view: string, reader: Reader): string[];
  /** REVOKE SELECT on a view from `reader`: none where the engine has no users. */
  revokeSelect(view: string, reader: Reader): string[];
  /** GRANT USAGE on a schema to `reader`: none where the engine has no users. */
  grantUsage(schema: string, reader: Reader): string[];
  /** What preflight asks of the database identity: none where the engine has no users. */
  accessProbes(context: AccessContext): AccessProbe[];
  /** Whether a failed transaction lost to a concurrent one (and may simply be tried again). */
  isConflict(message: string): boolean;
  /**
   * A read of the warehouse's own storage figures: per given table that it knows, `table_schema`,
   * `table_name`, `bytes` (what the table occupies) and `row_count` (the rows those bytes hold), as
   * text. A table the warehouse says nothing of has no row.
   */
  tableSizesQuery(tables: readonly { schema: string; name: string }[]): string;
}
