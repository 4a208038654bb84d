/**
 * The one type mapping: a Redshift column type, the Parquet type UNLOAD writes for it, the Glue
 * type the external table must declare for Spectrum to read that file, and the DuckDB type the
 * embedded engine uses. The traps it encodes: REAL is Parquet FLOAT and Glue `float` while
 * DOUBLE PRECISION is `double`; TIMESTAMPTZ is stored as a UTC timestamp (the zone is lost in
 * Parquet, so views cast it back); DECIMAL keeps precision and scale; VARCHAR lengths are bytes;
 * CHAR longer than Athena's 255 is `varchar` in Glue. It also holds how each warehouse's catalog
 * spells a type, and reads a Glue type back, so no other module keeps a table of type names.
 */

/** Athena's `char(n)` takes 1 <= n <= 255 (Athena User Guide, "Data types in Amazon Athena"). */
const ATHENA_CHAR_MAX = 255;

/** A parsed column type from configuration. */
export type ColumnType = PlainColumnType | DecimalColumnType | CharacterColumnType;

/** A type without parameters. Named, as each kind below, so that jsii could compile it. */
export interface PlainColumnType {
  readonly kind:
    | 'smallint'
    | 'integer'
    | 'bigint'
    | 'real'
    | 'double precision'
    | 'boolean'
    | 'date'
    | 'timestamp'
    | 'timestamptz';
}

/** `decimal(precision, scale)`. */
export interface DecimalColumnType {
  readonly kind: 'decimal';
  readonly precision: number;
  readonly scale: number;
}

/** `char(length)` or `varchar(length)`, the length in bytes. */
export interface CharacterColumnType {
  readonly kind: 'char' | 'varchar';
  readonly length: number;
}

/** How one type is spelled in each place it travels through. */
export interface TypeMapping {
  /** Redshift DDL and casts. */
  readonly redshift: string;
  /** The logical Parquet type in the exported files. */
  readonly parquet: string;
  /** The Glue (Hive) column type of the external table. */
  readonly glue: string;
  /** The DuckDB type of the embedded engine. */
  readonly duckdb: string;
}

/** The engines whose catalogs report column types: the warehouse's truth, read before any write. */
export type CatalogEngine = 'redshift' | 'duckdb';

/** A type's spellings, and how each warehouse's catalog reports it (SVV_COLUMNS, information_schema). */
interface Spelling extends TypeMapping {
  readonly catalog: Readonly<Record<CatalogEngine, string>>;
}

type Kind = ColumnType['kind'];
type SimpleKind = Exclude<Kind, 'decimal' | 'char' | 'varchar'>;

/** The one table of the types without parameters; every other lookup is derived from it. */
const SIMPLE: Record<SimpleKind, Spelling> = {
  smallint: {
    redshift: 'SMALLINT',
    parquet: 'INT32 (INT_16)',
    glue: 'smallint',
    duckdb: 'SMALLINT',
    catalog: { redshift: 'smallint', duckdb: 'SMALLINT' },
  },
  integer: {
    redshift: 'INTEGER',
    parquet: 'INT32',
    glue: 'int',
    duckdb: 'INTEGER',
    catalog: { redshift: 'integer', duckdb: 'INTEGER' },
  },
  bigint: {
    redshift: 'BIGINT',
    parquet: 'INT64',
    glue: 'bigint',
    duckdb: 'BIGINT',
    catalog: { redshift: 'bigint', duckdb: 'BIGINT' },
  },
  real: {
    redshift: 'REAL',
    parquet: 'FLOAT',
    glue: 'float',
    duckdb: 'REAL',
    catalog: { redshift: 'real', duckdb: 'FLOAT' },
  },
  'double precision': {
    redshift: 'DOUBLE PRECISION',
    parquet: 'DOUBLE',
    glue: 'double',
    duckdb: 'DOUBLE',
    catalog: { redshift: 'double precision', duckdb: 'DOUBLE' },
  },
  boolean: {
    redshift: 'BOOLEAN',
    parquet: 'BOOLEAN',
    glue: 'boolean',
    duckdb: 'BOOLEAN',
    catalog: { redshift: 'boolean', duckdb: 'BOOLEAN' },
  },
  date: {
    redshift: 'DATE',
    parquet: 'INT32 (DATE)',
    glue: 'date',
    duckdb: 'DATE',
    catalog: { redshift: 'date', duckdb: 'DATE' },
  },
  timestamp: {
    redshift: 'TIMESTAMP',
    parquet: 'INT64 (TIMESTAMP, MICROS)',
    glue: 'timestamp',
    duckdb: 'TIMESTAMP',
    catalog: { redshift: 'timestamp without time zone', duckdb: 'TIMESTAMP' },
  },
  timestamptz: {
    redshift: 'TIMESTAMPTZ',
    // Exported as its UTC wall-clock TIMESTAMP (see travelType).
    parquet: 'INT64 (TIMESTAMP, MICROS)',
    glue: 'timestamp',
    duckdb: 'TIMESTAMPTZ',
    catalog: { redshift: 'timestamp with time zone', duckdb: 'TIMESTAMP WITH TIME ZONE' },
  },
};

const SIMPLE_KINDS = Object.keys(SIMPLE) as SimpleKind[];

/**
 * The type that an engine's catalog reports as `dataType`, for the types without parameters;
 * undefined for any other name (the dialects read lengths, precision and scale from their own
 * catalog columns).
 */
export function simpleCatalogType(engine: CatalogEngine, dataType: string): ColumnType | undefined {
  const kind = SIMPLE_KINDS.find((k) => SIMPLE[k].catalog[engine] === dataType);
  return kind && { kind };
}

/**
 * The type a Glue column type declares, as Spectrum and Athena read the Parquet files: a Glue
 * `timestamp` is a TIMESTAMP (the zone travelled as UTC), a `char` or `varchar` keeps its length.
 */
export function typeOfGlue(glue: string): ColumnType | undefined {
  const kind = SIMPLE_KINDS.find((k) => SIMPLE[k].glue === glue);
  return kind ? { kind } : parseColumnType(glue);
}

/** The type names that configuration accepts, as error messages list them. */
export const ALLOWED_TYPES =
  'smallint, integer, bigint, decimal(p,s) with 1 <= p <= 38 and 0 <= s <= p, real, double precision, ' +
  'boolean, char(n) with 1 <= n <= 4096, varchar(n) with 1 <= n <= 65535, date, timestamp, timestamptz';

const PARAMETERIZED = /^(decimal|char|varchar)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/;

/** Parses a Redshift type name from configuration; returns undefined when it is not supported. */
export function parseColumnType(text: string): ColumnType | undefined {
  const name = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (name in SIMPLE) return { kind: name as keyof typeof SIMPLE };
  const match = PARAMETERIZED.exec(name);
  if (!match) return undefined;
  const [, kind, first, second] = match;
  const a = Number(first);
  if (kind === 'decimal') {
    const scale = second === undefined ? undefined : Number(second);
    if (scale === undefined || a < 1 || a > 38 || scale > a) return undefined;
    return { kind, precision: a, scale };
  }
  const max = kind === 'char' ? 4096 : 65535;
  if (second !== undefined || a < 1 || a > max) return undefined;
  return { kind: kind as 'char' | 'varchar', length: a };
}

/** The spelling of `type` in Redshift, Parquet, Glue and DuckDB. */
export function typeMapping(type: ColumnType): TypeMapping {
  switch (type.kind) {
    case 'decimal': {
      const ps = `(${type.precision},${type.scale})`;
      return {
        redshift: `DECIMAL${ps}`,
        parquet: `DECIMAL${ps}`,
        glue: `decimal${ps}`,
        duckdb: `DECIMAL${ps}`,
      };
    }
    case 'char':
    case 'varchar': {
      const upper = type.kind.toUpperCase();
      // The union views cast the external column back to CHAR(n), so Redshift's type is kept.
      const glueKind = type.kind === 'char' && type.length > ATHENA_CHAR_MAX ? 'varchar' : type.kind;
      return {
        redshift: `${upper}(${type.length})`,
        parquet: 'BYTE_ARRAY (UTF8)',
        glue: `${glueKind}(${type.length})`,
        // DuckDB has one string type; lengths are enforced by Redshift, not by the local engine.
        duckdb: 'VARCHAR',
      };
    }
    default: {
      const { redshift, parquet, glue, duckdb } = SIMPLE[type.kind];
      return { redshift, parquet, glue, duckdb };
    }
  }
}

/** The canonical configuration spelling of a type, e.g. `decimal(12,2)`. */
export function typeName(type: ColumnType): string {
  return typeMapping(type).redshift.toLowerCase();
}

/** Whether rows can be archived by a column of this type (it has a year). */
export function isTemporal(type: ColumnType): boolean {
  return type.kind === 'date' || type.kind === 'timestamp' || type.kind === 'timestamptz';
}

/** Types whose values compare with each other, for foreign keys. */
export function typeFamily(type: ColumnType): string {
  switch (type.kind) {
    case 'smallint':
    case 'integer':
    case 'bigint':
    case 'decimal':
      return 'exact number';
    case 'real':
    case 'double precision':
      return 'approximate number';
    case 'char':
    case 'varchar':
      return 'text';
    default:
      return type.kind;
  }
}

/**
 * The type a column's values travel as, into the Parquet files and into the row hash: a
 * TIMESTAMPTZ as its UTC TIMESTAMP (Parquet keeps no zone, and no session time zone may shift
 * it), a CHAR(n) as VARCHAR(n) (so that blank padding never decides whether two rows are equal).
 * Every other type travels as itself.
 */
export function travelType(type: ColumnType): ColumnType {
  if (type.kind === 'timestamptz') return { kind: 'timestamp' };
  if (type.kind === 'char') return { kind: 'varchar', length: type.length };
  return type;
}

/**
 * A column type as a warehouse's catalog reports it: a configurable type, or a string type whose
 * length the engine does not record (DuckDB has one VARCHAR).
 */
export type WarehouseType = ColumnType | { kind: 'text' };

/**
 * Whether a configured type is exactly the type of a warehouse column. Exactly: a narrower
 * configured type would change or lose values on their way to the lake, and a wider one would
 * make the Parquet files (which carry the table's types) disagree with the catalog's declared
 * types, which Spectrum requires to match. DuckDB's one VARCHAR has no length to compare.
 */
export function sameType(configured: ColumnType, actual: WarehouseType): boolean {
  if (actual.kind === 'text') return configured.kind === 'varchar' || configured.kind === 'char';
  return JSON.stringify(configured) === JSON.stringify(actual);
}
