/**
 * The one type mapping: a Redshift column type, the Parquet type UNLOAD writes for it, the Glue
 * type the external table must declare for Spectrum to read that file, and the DuckDB type the
 * embedded engine uses. The traps it encodes: REAL is Parquet FLOAT and Glue `float` while
 * DOUBLE PRECISION is `double`; TIMESTAMPTZ is stored as a UTC timestamp (the zone is lost in
 * Parquet, so views cast it back); DECIMAL keeps precision and scale; VARCHAR lengths are bytes;
 * CHAR longer than Athena's 255 is `varchar` in Glue; TIME, TIMETZ, VARBYTE and SUPER travel as
 * text (Spectrum and Athena have no such type, and UNLOAD refuses VARBYTE in Parquet), which the
 * views cast back. It also holds how each warehouse's catalog spells a type, Redshift's own
 * spellings of each (`int4`, `numeric(p,s)`, `character varying(n)`, ...), the types that cannot be
 * archived and why, and reads a Glue type back, so no other module keeps a table of type names.
 * The facts and their sources: docs/design.md §7 ("Column types").
 */

/** Athena's `char(n)` takes 1 <= n <= 255 (Athena User Guide, "Data types in Amazon Athena"). */
const ATHENA_CHAR_MAX = 255;

/** A parsed column type from configuration. */
export type ColumnType = PlainColumnType | DecimalColumnType | CharacterColumnType | BinaryColumnType;

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
    | 'timestamptz'
    | 'time'
    | 'timetz'
    | 'super';
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

/** `varbyte(length)`, the length in bytes (at most {@link MAX_VARBYTE}, so that its hex fits a VARCHAR). */
export interface BinaryColumnType {
  readonly kind: 'varbyte';
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

/**
 * A type's spellings, and how each warehouse's catalog reports it (SVV_COLUMNS, information_schema):
 * every spelling read as this type, the documented or tested one first.
 */
interface Spelling extends TypeMapping {
  readonly catalog: Readonly<Record<CatalogEngine, readonly string[]>>;
}

type Kind = ColumnType['kind'];
/** Types that travel as text: no Spectrum or Athena type holds them (docs/design.md §7). */
type TextKind = 'time' | 'timetz' | 'super';
type SimpleKind = Exclude<Kind, 'decimal' | 'char' | 'varchar' | 'varbyte' | TextKind>;

/** The longest VARCHAR of Redshift and Spectrum, in bytes (DG "Character types", CREATE EXTERNAL TABLE). */
const MAX_VARCHAR = 65535;

/**
 * The longest VARBYTE that can be archived: it travels as hex, two characters a byte, in a VARCHAR
 * of at most {@link MAX_VARCHAR} bytes. UNLOAD writes VARBYTE to text or CSV only, not Parquet
 * (DG UNLOAD), so it cannot travel as itself.
 */
export const MAX_VARBYTE = Math.floor(MAX_VARCHAR / 2);

/** The one table of the types without parameters that travel as themselves. */
const SIMPLE: Record<SimpleKind, Spelling> = {
  smallint: {
    redshift: 'SMALLINT',
    parquet: 'INT32 (INT_16)',
    glue: 'smallint',
    duckdb: 'SMALLINT',
    catalog: { redshift: ['smallint'], duckdb: ['SMALLINT'] },
  },
  integer: {
    redshift: 'INTEGER',
    parquet: 'INT32',
    glue: 'int',
    duckdb: 'INTEGER',
    catalog: { redshift: ['integer'], duckdb: ['INTEGER'] },
  },
  bigint: {
    redshift: 'BIGINT',
    parquet: 'INT64',
    glue: 'bigint',
    duckdb: 'BIGINT',
    catalog: { redshift: ['bigint'], duckdb: ['BIGINT'] },
  },
  real: {
    redshift: 'REAL',
    parquet: 'FLOAT',
    glue: 'float',
    duckdb: 'REAL',
    catalog: { redshift: ['real'], duckdb: ['FLOAT'] },
  },
  'double precision': {
    redshift: 'DOUBLE PRECISION',
    parquet: 'DOUBLE',
    glue: 'double',
    duckdb: 'DOUBLE',
    catalog: { redshift: ['double precision'], duckdb: ['DOUBLE'] },
  },
  boolean: {
    redshift: 'BOOLEAN',
    parquet: 'BOOLEAN',
    glue: 'boolean',
    duckdb: 'BOOLEAN',
    catalog: { redshift: ['boolean'], duckdb: ['BOOLEAN'] },
  },
  date: {
    redshift: 'DATE',
    parquet: 'INT32 (DATE)',
    glue: 'date',
    duckdb: 'DATE',
    catalog: { redshift: ['date'], duckdb: ['DATE'] },
  },
  timestamp: {
    redshift: 'TIMESTAMP',
    parquet: 'INT64 (TIMESTAMP, MICROS)',
    glue: 'timestamp',
    duckdb: 'TIMESTAMP',
    catalog: { redshift: ['timestamp without time zone'], duckdb: ['TIMESTAMP'] },
  },
  timestamptz: {
    redshift: 'TIMESTAMPTZ',
    // Exported as its UTC wall-clock TIMESTAMP (see travelType).
    parquet: 'INT64 (TIMESTAMP, MICROS)',
    glue: 'timestamp',
    duckdb: 'TIMESTAMPTZ',
    catalog: { redshift: ['timestamp with time zone'], duckdb: ['TIMESTAMP WITH TIME ZONE'] },
  },
};

/**
 * The types that travel as text, with the VARCHAR length their text needs: TIME as
 * `HH:MI:SS.ffffff` (15), TIMETZ with its offset up to `+HH:MM:SS` (24; Redshift's offsets reach
 * 14:59, DG "Datetime types"), SUPER as its JSON (Spectrum's longest VARCHAR; preflight checks the
 * largest value fits, as Spectrum truncates longer ones silently). SVV_COLUMNS spells TIME and
 * TIMETZ as PostgreSQL's `format_type` does; how it spells them is not documented, so both the long
 * and the short names are read, and preflight's columns check names a spelling that is not.
 */
const AS_TEXT: Record<TextKind, Omit<Spelling, 'parquet' | 'glue'> & { readonly length: number }> = {
  time: {
    redshift: 'TIME',
    duckdb: 'TIME',
    length: 15,
    catalog: { redshift: ['time without time zone', 'time'], duckdb: ['TIME'] },
  },
  timetz: {
    redshift: 'TIMETZ',
    duckdb: 'TIMETZ',
    length: 24,
    catalog: { redshift: ['time with time zone', 'timetz'], duckdb: ['TIME WITH TIME ZONE'] },
  },
  super: {
    redshift: 'SUPER',
    // DuckDB's JSON plays SUPER on the embedded engine: a value of JSON, kept as its text.
    duckdb: 'JSON',
    length: MAX_VARCHAR,
    catalog: { redshift: ['super'], duckdb: ['JSON'] },
  },
};

const SIMPLE_KINDS = Object.keys(SIMPLE) as SimpleKind[];
const TEXT_KINDS = Object.keys(AS_TEXT) as TextKind[];

/**
 * The types that cannot be archived, and why. UNLOAD writes GEOMETRY, HLLSKETCH and VARBYTE to
 * text or CSV only (DG UNLOAD); Spectrum's and Athena's types include none of the three spatial
 * and sketch types (DG CREATE EXTERNAL TABLE; Athena "Data types"). Such a table stays hot, and so
 * do its descendants, which follow it.
 */
const REFUSED: Readonly<Record<string, string>> = {
  geometry:
    'UNLOAD writes GEOMETRY to text or CSV only, not Parquet (Redshift UNLOAD), and Spectrum and Athena have no such type',
  geography:
    "Spectrum and Athena have no GEOGRAPHY type, and UNLOAD's Parquet output for it is not documented (GEOMETRY's is refused)",
  hllsketch:
    'UNLOAD writes HLLSKETCH to text or CSV only (Redshift UNLOAD), and only Redshift can read the value',
};

/**
 * Why a type cannot be archived, when it is one of the refused types (`geometry`, `geography`,
 * `hllsketch`, as configuration or a catalog spells it); undefined otherwise.
 */
export function refusedTypeReason(text: string): string | undefined {
  return REFUSED[text.trim().toLowerCase()];
}

/** What a table whose column has a refused type means for the archive. */
export const STAYS_HOT = 'the table and its descendants stay hot (leave them out of the configuration)';

/**
 * The type that an engine's catalog reports as `dataType`, for the types without parameters;
 * undefined for any other name (the dialects read lengths, precision and scale from their own
 * catalog columns).
 */
export function simpleCatalogType(engine: CatalogEngine, dataType: string): ColumnType | undefined {
  const kind = [...SIMPLE_KINDS, ...TEXT_KINDS].find((k) =>
    (k in SIMPLE ? SIMPLE[k as SimpleKind] : AS_TEXT[k as TextKind]).catalog[engine].includes(dataType),
  );
  return kind && { kind };
}

/**
 * The type a Glue column type declares, as Spectrum and Athena read the Parquet files: a Glue
 * `timestamp` is a TIMESTAMP (the zone travelled as UTC), a `char` or `varchar` keeps its length
 * (the types that travel as text read back as that text).
 */
export function typeOfGlue(glue: string): ColumnType | undefined {
  const kind = SIMPLE_KINDS.find((k) => SIMPLE[k].glue === glue);
  return kind ? { kind } : parseColumnType(glue);
}

/** The type names that configuration accepts, as error messages list them. */
export const ALLOWED_TYPES =
  'smallint (int2), integer (int, int4), bigint (int8), decimal(p,s) (numeric) with 1 <= p <= 38 and 0 <= s <= p, ' +
  'real (float4), double precision (float8, float), boolean (bool), char(n) (character, nchar, bpchar) with ' +
  '1 <= n <= 4096, varchar(n) (character varying, nvarchar, text) with 1 <= n <= 65535, date, timestamp ' +
  '(timestamp without time zone), timestamptz (timestamp with time zone), time, timetz, varbyte(n) ' +
  `(varbinary, binary varying) with 1 <= n <= ${MAX_VARBYTE}, super`;

/**
 * Redshift's own names of the types without parameters, and the parameters Redshift gives a type
 * named without them: VARCHAR and TEXT are VARCHAR(256), BPCHAR is CHAR(256), CHAR is CHAR(1),
 * DECIMAL is DECIMAL(18,0), VARBYTE is VARBYTE(64000) (DG "Character types", "Numeric types",
 * "VARBYTE type"; the numeric aliases: Glue "Data type mapping" for Redshift).
 */
const ALIASES: Readonly<Record<string, string>> = {
  int2: 'smallint',
  int: 'integer',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  float: 'double precision',
  bool: 'boolean',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamptz',
  'time without time zone': 'time',
  'time with time zone': 'timetz',
  text: 'varchar(256)',
  varchar: 'varchar(256)',
  'character varying': 'varchar(256)',
  nvarchar: 'varchar(256)',
  bpchar: 'char(256)',
  char: 'char(1)',
  character: 'char(1)',
  nchar: 'char(1)',
  decimal: 'decimal(18,0)',
  numeric: 'decimal(18,0)',
  varbyte: 'varbyte(64000)',
  varbinary: 'varbyte(64000)',
  'binary varying': 'varbyte(64000)',
};

/** Redshift's names of the types with parameters, by the kind each is. */
const PARAMETERIZED_NAMES: Readonly<Record<string, 'decimal' | 'char' | 'varchar' | 'varbyte'>> = {
  decimal: 'decimal',
  numeric: 'decimal',
  char: 'char',
  character: 'char',
  nchar: 'char',
  bpchar: 'char',
  varchar: 'varchar',
  'character varying': 'varchar',
  nvarchar: 'varchar',
  varbyte: 'varbyte',
  varbinary: 'varbyte',
  'binary varying': 'varbyte',
};

const PARAMETERIZED = /^([a-z ]+?)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/;

/** The longest of each kind with a length (DG "Character types", "VARBYTE type"; and {@link MAX_VARBYTE}). */
const MAX_LENGTH = { char: 4096, varchar: MAX_VARCHAR, varbyte: MAX_VARBYTE } as const;

/**
 * Parses a Redshift type name from configuration, in any of Redshift's own spellings (`int4`,
 * `numeric(12,2)`, `character varying(20)`, `text`, `timestamp with time zone`, ...), into the one
 * canonical type, so that the schema guard compares exactly; undefined when it is not supported.
 */
export function parseColumnType(text: string): ColumnType | undefined {
  const spelled = text.trim().toLowerCase().replace(/\s+/g, ' ');
  const name = ALIASES[spelled] ?? spelled;
  if (name in SIMPLE || name in AS_TEXT) return { kind: name as SimpleKind | TextKind };
  const match = PARAMETERIZED.exec(name);
  const kind = match && PARAMETERIZED_NAMES[match[1]];
  if (!match || !kind) return undefined;
  const [, , first, second] = match;
  const a = Number(first);
  if (kind === 'decimal') {
    // DECIMAL(p) has scale 0 (DG "Numeric types")
    const scale = second === undefined ? 0 : Number(second);
    if (a < 1 || a > 38 || scale > a) return undefined;
    return { kind, precision: a, scale };
  }
  if (second !== undefined || a < 1 || a > MAX_LENGTH[kind]) return undefined;
  return { kind, length: a };
}

/**
 * Why a type name that {@link parseColumnType} refuses cannot be archived, when there is more to
 * say than the list of allowed types: a refused type, or a VARBYTE too long for its hex to fit.
 */
export function columnTypeProblem(text: string): string | undefined {
  const refused = refusedTypeReason(text);
  if (refused) return `${refused}: ${STAYS_HOT}`;
  const spelled = text.trim().toLowerCase().replace(/\s+/g, ' ');
  const match = PARAMETERIZED.exec(ALIASES[spelled] ?? spelled);
  if (match && PARAMETERIZED_NAMES[match[1]] === 'varbyte' && Number(match[2]) > MAX_VARBYTE) {
    return (
      `a VARBYTE travels as hex, two characters a byte, and Spectrum reads a VARCHAR of at most ${MAX_VARCHAR} bytes ` +
      `(UNLOAD writes VARBYTE to text or CSV only): varbyte(n) with n <= ${MAX_VARBYTE}; a longer one means ${STAYS_HOT}`
    );
  }
  return undefined;
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
    case 'varbyte':
      return {
        redshift: `VARBYTE(${type.length})`,
        parquet: 'BYTE_ARRAY (UTF8)',
        glue: typeMapping(travelType(type)).glue,
        // DuckDB's one binary type; lengths are Redshift's to enforce
        duckdb: 'BLOB',
      };
    case 'time':
    case 'timetz':
    case 'super': {
      const { redshift, duckdb } = AS_TEXT[type.kind];
      return { redshift, parquet: 'BYTE_ARRAY (UTF8)', glue: typeMapping(travelType(type)).glue, duckdb };
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
 * Whether a column of this type travels as text: TIME, TIMETZ, VARBYTE (as hex) and SUPER (as
 * JSON). The dialects say how (`Dialect.asText`), and the union views cast it back (`fromText`).
 */
export function travelsAsText(type: ColumnType): boolean {
  return type.kind === 'varbyte' || type.kind in AS_TEXT;
}

/**
 * The type a column's values travel as, into the Parquet files and into the row hash: a
 * TIMESTAMPTZ as its UTC TIMESTAMP (Parquet keeps no zone, and no session time zone may shift
 * it), a CHAR(n) as VARCHAR(n) (so that blank padding never decides whether two rows are equal),
 * a TIME, TIMETZ or SUPER as a VARCHAR its text fits, a VARBYTE(n) as its hex, VARCHAR(2n). Every
 * other type travels as itself.
 */
export function travelType(type: ColumnType): ColumnType {
  switch (type.kind) {
    case 'timestamptz':
      return { kind: 'timestamp' };
    case 'char':
      return { kind: 'varchar', length: type.length };
    case 'varbyte':
      return { kind: 'varchar', length: 2 * type.length };
    case 'time':
    case 'timetz':
    case 'super':
      return { kind: 'varchar', length: AS_TEXT[type.kind].length };
    default:
      return type;
  }
}

/**
 * A column type as a warehouse's catalog reports it: a configurable type, or a string or binary
 * type whose length the engine does not record (DuckDB has one VARCHAR and one BLOB).
 */
export type WarehouseType = ColumnType | UnsizedType;

/** A string (`text`) or binary (`bytes`) type of the embedded engine, which records no length. */
export interface UnsizedType {
  readonly kind: 'text' | 'bytes';
}

/**
 * Whether a configured type is exactly the type of a warehouse column. Exactly: a narrower
 * configured type would change or lose values on their way to the lake, and a wider one would
 * make the Parquet files (which carry the table's types) disagree with the catalog's declared
 * types, which Spectrum requires to match. DuckDB's one VARCHAR and one BLOB have no length to
 * compare.
 */
export function sameType(configured: ColumnType, actual: WarehouseType): boolean {
  if (actual.kind === 'text') return configured.kind === 'varchar' || configured.kind === 'char';
  if (actual.kind === 'bytes') return configured.kind === 'varbyte';
  return JSON.stringify(configured) === JSON.stringify(actual);
}
