import { ArchiveConfig, Reader } from '../config/config';
import { PARTITION_KEYS } from '../core/lake-layout';
import {
  ColumnType,
  parseColumnType,
  simpleCatalogType,
  travelType,
  typeMapping,
} from '../core/column-types';
import { startOfDayUtc } from '../core/cutoff';
import { InputError, show } from '../core/errors';
import type { AccessContext, AccessProbe, CatalogDialect, CatalogScope, Dialect, HashInput } from './dialect';
import { qualify, quoteIdent } from './identifiers';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_\-/]{1,512}$/;
const KMS_KEY = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/)?[A-Za-z0-9-]{1,128}$/;

/** What UNLOAD and the external schema need besides configuration. */
export interface RedshiftOptions {
  /** The role Redshift assumes to write the lake and read the catalog. */
  readonly iamRoleArn: string;
  /** Encrypt exported files with this KMS key instead of SSE-S3. */
  readonly kmsKeyId?: string;
}

/** Validates the options: both values are rendered into SQL, where UNLOAD takes no parameters. */
export function checkRedshiftOptions(options: RedshiftOptions): RedshiftOptions {
  if (!ROLE_ARN.test(options.iamRoleArn)) {
    throw new InputError(`iamRoleArn: ${show(options.iamRoleArn)} is not allowed; allowed: an IAM role ARN`);
  }
  if (options.kmsKeyId !== undefined && !KMS_KEY.test(options.kmsKeyId)) {
    throw new InputError(
      `kmsKeyId: ${show(options.kmsKeyId)} is not allowed; allowed: a KMS key id or key ARN`,
    );
  }
  return options;
}

/** Redshift's string literal: quotes doubled, and backslashes too (Redshift reads `\` as an escape). */
function literal(text: string): string {
  if (text.includes('\0')) throw new InputError(`refusing a literal with a NUL character: ${show(text)}`);
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * Values in one group of a row hash: the group's NULL bitmap has a bit for each, so the bitmap and
 * the group's index fit in one INTEGER.
 */
const HASH_GROUP = 8;

/** A value of `type` that stands in for NULL inside the hash (the group's NULL bitmap tells them apart). */
function zero(type: ColumnType): string {
  switch (type.kind) {
    case 'date':
      return "'1970-01-01'::DATE";
    case 'timestamp':
    case 'timestamptz':
      return "'1970-01-01'::TIMESTAMP";
    case 'char':
    case 'varchar':
      return "''";
    default:
      return '0';
  }
}

/**
 * A value as a group's chain hashes it: never NULL, and of a width its type fixes, so that the
 * chain's bytes (a concatenation) split in one way only. A string goes in as its own FNV hash (a
 * BIGINT), so ('ab', 'c') and ('a', 'bc') differ; a BOOLEAN as an INTEGER (DECODE, a simple CASE,
 * DG DECODE), in case FNV_HASH refuses BOOLEAN (its accepted types are not listed: DG FNV_HASH).
 */
function hashed({ expr, type }: HashInput): string {
  switch (type.kind) {
    case 'char':
    case 'varchar':
      return `FNV_HASH(NVL(${expr},''))`;
    case 'boolean':
      return `DECODE(${expr},true,1,0)`;
    default:
      return `NVL(${expr},${zero(type)})`;
  }
}

/**
 * The hash of one group of at most {@link HASH_GROUP} values: one FNV_HASH chain over the group's
 * NULL bitmap plus 256 times the group's index (an INTEGER: INT4 + INT4 is INT4, DG "Computations
 * with numeric values"), then each value, NULL as its type's zero. FNV_HASH(value, seed) continues
 * the hash over the value's bytes, INTEGER 4 and BIGINT 8 (DG FNV_HASH: `fnv_hash('cd',
 * fnv_hash('ab')) = fnv_hash('abcd')`): the chain hashes the group's index, which of its values
 * are NULL, and the values in their order and width, one byte string for each group's content.
 * NVL2 returns one of two values by whether the first is NULL (DG NVL2), NVL the first that is not
 * (DG "NVL and COALESCE"), `::` casts (DG CAST): no NULL reaches FNV_HASH, whose result for NULL is
 * not documented.
 */
function groupHash(values: readonly HashInput[], group: number): string {
  const bitmap = values.map((v, i) => `NVL2(${v.ref},0,${2 ** i})`);
  if (group > 0) bitmap.push(String(group * 2 ** HASH_GROUP));
  return values.reduce((seed, v) => `FNV_HASH(${hashed(v)},${seed})`, `FNV_HASH(${bitmap.join('+')})`);
}

/**
 * A row's hash from its groups' hashes: FNV_HASH over their exact sum, a DECIMAL(38,0) (INT8 +
 * DECIMAL is DECIMAL, of at most 38 digits, DG "Computations with numeric values"; 200 BIGINTs
 * need 22). A flat sum instead of a chain keeps a wide table's expression shallow; each group
 * hashes its index, so the same content in two groups adds differently; and the FNV_HASH over the
 * sum (not the sum itself) goes into the checksum, so that values swapped between two rows change
 * it. Integers have no documented XOR (DG "Mathematical operator symbols": `#` is VARBYTE's), and
 * a BIGINT sum could overflow.
 */
function combineHashes(hashes: readonly string[]): string {
  return `FNV_HASH(${hashes[0]}::DECIMAL(38,0)+${hashes.slice(1).join('+')})`;
}

const yes = (check: string, sql: string, passed: string, failed: string, fix: string): AccessProbe => ({
  check,
  sql,
  expect: 'true',
  passed,
  failed,
  fix,
});

/** SELECT and DELETE on every hot table. */
const tableProbes = (context: AccessContext): AccessProbe[] =>
  context.tables.flatMap((t) =>
    (['select', 'delete'] as const).map((privilege) =>
      yes(
        `${privilege} ${t.schema}.${t.name}`,
        `SELECT has_table_privilege(${literal(t.qualified)}, '${privilege}')`,
        `the database user may ${privilege.toUpperCase()} ${t.qualified}`,
        `the database user may not ${privilege.toUpperCase()} ${t.qualified}`,
        `GRANT ${privilege.toUpperCase()} ON ${t.qualified} TO {user}`,
      ),
    ),
  );

/** Only a table's owner (or a superuser) reclaims its space with VACUUM; anyone else's does nothing. */
const vacuumProbes = (context: AccessContext): AccessProbe[] =>
  context.vacuum
    ? context.tables.map((t) => ({
        check: `vacuum ${t.schema}.${t.name}`,
        sql:
          `SELECT COUNT(*) FROM pg_tables t WHERE t.schemaname = ${literal(t.schema.toLowerCase())} AND ` +
          `t.tablename = ${literal(t.name.toLowerCase())} AND (t.tableowner = current_user OR EXISTS ` +
          '(SELECT 1 FROM pg_user u WHERE u.usename = current_user AND u.usesuper))',
        expect: '1',
        passed: `the database user owns ${t.qualified}, so VACUUM reclaims its space`,
        failed: `the database user does not own ${t.qualified}: its VACUUM would silently do nothing`,
        fix: `ALTER TABLE ${t.qualified} OWNER TO {user}, or set maintenance.vacuum to false`,
      }))
    : [];

/** CREATE in the ledger and views schemas, and ownership of every union view that exists. */
const schemaProbes = (context: AccessContext): AccessProbe[] => [
  ...[context.ledgerSchema, context.viewsSchema].map((schema) =>
    yes(
      `create in ${schema}`,
      // the catalog's name: a delimited identifier folds to lower case (DG, "Names and identifiers")
      `SELECT has_schema_privilege(${literal(schema.toLowerCase())}, 'create')`,
      `the database user may create in schema ${schema}`,
      `the database user may not create in schema ${schema}`,
      `GRANT CREATE ON SCHEMA ${quoteIdent(schema)} TO {user}`,
    ),
  ),
  ...context.views.map((view) => ({
    check: `replace ${context.viewsSchema}.${view}`,
    sql:
      `SELECT COUNT(*) FROM pg_views WHERE schemaname = ${literal(context.viewsSchema.toLowerCase())} AND ` +
      `viewname = ${literal(view.toLowerCase())} AND viewowner <> current_user`,
    expect: '0',
    passed: `the union view ${view} is the database user's, or does not exist yet`,
    failed: `the union view ${view} belongs to another user: only its owner may replace it`,
    fix: `ALTER TABLE ${quoteIdent(context.viewsSchema)}.${quoteIdent(view)} OWNER TO {user}`,
  })),
];

/** Spectrum's TEMP, the role for UNLOAD, and identifiers that fold to lower case. */
const sessionProbes = (context: AccessContext, iamRoleArn: string): AccessProbe[] => [
  yes(
    'temp',
    "SELECT has_database_privilege(current_database(), 'temp')",
    'the database user may create temporary tables, which Spectrum needs',
    'the database user may not create temporary tables, which Spectrum needs',
    `GRANT TEMP ON DATABASE ${quoteIdent(context.database)} TO {user}`,
  ),
  yes(
    'assume role',
    `SELECT has_assumerole_privilege(${literal(iamRoleArn)}, 'unload')`,
    `the database user may use ${iamRoleArn} for UNLOAD`,
    `the database user may not use ${iamRoleArn} for UNLOAD (ASSUMEROLE was revoked from PUBLIC)`,
    `GRANT ASSUMEROLE ON '${iamRoleArn}' TO {user} FOR UNLOAD`,
  ),
  {
    check: 'case-insensitive names',
    sql: "SELECT current_setting('enable_case_sensitive_identifier')",
    expect: 'off',
    passed: 'identifiers fold to lower case, as the catalog and the lake name them',
    failed: 'enable_case_sensitive_identifier is on: quoted names would not match the lower-case catalog',
    fix: 'ALTER USER {user} SET enable_case_sensitive_identifier TO off (and leave it off in the parameter group)',
  },
];

/**
 * What a run needs of the database identity, each asked of the leader node's privilege functions
 * or catalog alone (they may not be mixed with user tables in one query), one statement each.
 */
function accessProbes(context: AccessContext, iamRoleArn: string): AccessProbe[] {
  return [
    ...tableProbes(context),
    ...vacuumProbes(context),
    ...schemaProbes(context),
    ...sessionProbes(context, iamRoleArn),
  ];
}

/** `(schema = ... AND name = ...) OR ...` for catalog reads; the catalog keeps names in lower case. */
function named(schema: string, name: string, items: readonly { schema: string; name: string }[]): string {
  return items
    .map(
      (t) =>
        `(${schema} = ${literal(t.schema.toLowerCase())} AND ${name} = ${literal(t.name.toLowerCase())})`,
    )
    .join(' OR ');
}

function catalogColumnsQuery(tables: Parameters<Dialect['catalogColumnsQuery']>[0]): string {
  // SVV_COLUMNS, not PG_TABLE_DEF, which shows only the schemas on the search path.
  return (
    'SELECT table_schema, table_name, column_name, data_type, character_maximum_length AS char_length, ' +
    'numeric_precision AS num_precision, numeric_scale AS num_scale FROM svv_columns ' +
    `WHERE ${named('table_schema', 'table_name', tables)} ORDER BY table_schema, table_name, ordinal_position`
  );
}

/** The text of late-binding views too: PG_VIEWS lists every view of the database (DG PG_VIEWS). */
function viewDefinitionsQuery(views: Parameters<Dialect['viewDefinitionsQuery']>[0]): string {
  return (
    'SELECT schemaname AS table_schema, viewname AS table_name, definition FROM pg_views ' +
    `WHERE ${named('schemaname', 'viewname', views)} ORDER BY 1, 2`
  );
}

/**
 * The type of an SVV_COLUMNS row. For tables it spells types as information_schema does, the
 * length, precision and scale in columns of their own (`character varying` and 64); how it spells
 * the columns of late-binding views is not documented (DG SVV_COLUMNS), and the views' own
 * catalog function gives `character varying(64)`, `numeric(12,2)` (DG
 * PG_GET_LATE_BINDING_VIEW_COLS). Both are read, so that a spelling never makes a deployment
 * drop and re-create a view whose columns are the same (which would lose its grants); preflight
 * reports the spelling it finds.
 */
function catalogType(row: Parameters<Dialect['catalogType']>[0]): ReturnType<Dialect['catalogType']> {
  const text = String(row.data_type).toLowerCase().trim();
  const spelled =
    /^(numeric|character|character varying|varbyte|binary varying|varbinary)\((\d+)(?:, ?(\d+))?\)$/.exec(
      text,
    );
  const [name, first, second] = spelled ? spelled.slice(1) : [text, undefined, undefined];
  switch (name) {
    case 'numeric':
      return parseColumnType(`decimal(${first ?? row.num_precision},${second ?? row.num_scale})`);
    case 'character':
      return parseColumnType(`char(${first ?? row.char_length})`);
    case 'character varying':
      return parseColumnType(`varchar(${first ?? row.char_length})`);
    // How SVV_COLUMNS spells a VARBYTE is not documented: its names (DG "VARBYTE type"), with the
    // length in the name or in its own column; preflight's columns check names one that is not read.
    case 'varbyte':
    case 'binary varying':
    case 'varbinary':
      return parseColumnType(`varbyte(${first ?? row.char_length})`);
    default:
      return simpleCatalogType('redshift', text);
  }
}

/**
 * A value that travels as text (docs/design.md §7, "Column types"), as its text: a TIME or TIMETZ
 * cast to a VARCHAR that holds its longest text (`::` is CAST, DG CAST; a cast never changes the
 * value, and preflight's type probe sends the round trip), a VARBYTE as hex (TO_HEX takes a VARBYTE
 * and returns VARCHAR, DG TO_HEX), a SUPER as its JSON (JSON_SERIALIZE, DG JSON_SERIALIZE, which
 * returns the text `null` for a NULL: NVL2 keeps NULL a NULL, DG NVL2).
 */
function asText(type: ColumnType, ref: string): string {
  switch (type.kind) {
    case 'varbyte':
      return `TO_HEX(${ref})`;
    case 'super':
      return `NVL2(${ref},JSON_SERIALIZE(${ref}),NULL)`;
    default:
      return `${ref}::${typeMapping(travelType(type)).redshift}`;
  }
}

/**
 * The value the text of {@link asText} stands for: hex back to VARBYTE (TO_VARBYTE with `hex`;
 * FROM_HEX takes a literal only, DG TO_VARBYTE, FROM_HEX), JSON back to SUPER (JSON_PARSE, DG
 * JSON_PARSE), the others by a cast.
 */
function fromText(type: ColumnType, ref: string): string {
  switch (type.kind) {
    case 'varbyte':
      return `TO_VARBYTE(${ref},'hex')`;
    case 'super':
      return `JSON_PARSE(${ref})`;
    default:
      return `${ref}::${typeMapping(type).redshift}`;
  }
}

/**
 * The columns of the scope's base tables. SVV_TABLES tells base tables from views and external
 * tables; its documentation names the kinds in prose ("views, external tables, and base tables",
 * DG SVV_TABLES) and shows `TABLE` in SVV_ALL_TABLES' example, so both spellings are read.
 */
function tableColumnsQuery(scope: CatalogScope): string {
  const schemas = scope.schemas.map((s) => literal(s.toLowerCase()));
  const which = [
    ...(schemas.length ? [`c.table_schema IN (${schemas.join(', ')})`] : []),
    ...(scope.tables.length ? [named('c.table_schema', 'c.table_name', scope.tables)] : []),
  ];
  return (
    'SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.character_maximum_length AS char_length, ' +
    'c.numeric_precision AS num_precision, c.numeric_scale AS num_scale FROM svv_columns c JOIN svv_tables t ' +
    "ON t.table_schema = c.table_schema AND t.table_name = c.table_name WHERE t.table_type IN ('BASE TABLE', 'TABLE') " +
    `AND (${which.join(' OR ') || '1 = 0'}) ORDER BY c.table_schema, c.table_name, c.ordinal_position`
  );
}

/**
 * Redshift keeps declared foreign keys as informational constraints (it does not enforce them, DG
 * "Define primary key and foreign key constraints"); SHOW CONSTRAINTS FOREIGN KEYS lists a table's,
 * one row per key column with the referenced column and the column's place in the key
 * (`key_seq`), for a user who may SELECT the table (DG SHOW CONSTRAINTS). One statement per table.
 */
function foreignKeysQueries(tables: readonly { schema: string; name: string }[]): string[] {
  return tables.map((t) => `SHOW CONSTRAINTS FOREIGN KEYS FROM TABLE ${qualify(t.schema, t.name)}`);
}

/**
 * What reads Redshift's own catalog, with no role or key: the schema guard's columns and what
 * `init` reads, which the command line sends with an operator's credentials.
 */
export const redshiftCatalog: CatalogDialect = {
  name: 'redshift',
  catalogColumnsQuery,
  tableColumnsQuery,
  foreignKeysQueries,
  catalogType,
};

/** The grantee of a GRANT: a user, a group or a role. */
function grantee(reader: Reader): string {
  const name = quoteIdent(reader.name);
  return reader.kind === 'user' ? name : `${reader.kind.toUpperCase()} ${name}`;
}

/** The Redshift dialect of the archive protocol, sent through the Data API. */
export function redshiftDialect(options: RedshiftOptions): Dialect {
  const { iamRoleArn, kmsKeyId } = checkRedshiftOptions(options);
  return {
    ...redshiftCatalog,
    name: 'redshift',
    literal,
    columnType: (type) => typeMapping(type).redshift,
    asText,
    fromText,
    // JSON_SIZE: the bytes of a SUPER value's JSON text (DG JSON_SIZE); the others' text has a fixed bound
    textSize: (type, ref) =>
      type.kind === 'super' ? `JSON_SIZE(${ref})` : `OCTET_LENGTH(${asText(type, ref)})`,
    boundLiteral(type, date, timeZone) {
      switch (type.kind) {
        case 'date':
          return `CAST('${date}' AS DATE)`;
        case 'timestamptz':
          return `CAST('${startOfDayUtc(date, timeZone)}+00' AS TIMESTAMPTZ)`;
        default:
          return `CAST('${date} 00:00:00' AS TIMESTAMP)`;
      }
    },
    groupHash,
    hashGroup: HASH_GROUP,
    combineHashes,
    checksum(rowHash) {
      // FNV_HASH is a BIGINT: a BIGINT sum overflows, a DECIMAL(38,0) one cannot for any table
      // Redshift holds. As text, because the Data API returns numbers as JavaScript doubles.
      return `NVL(SUM(${rowHash}::DECIMAL(38,0)),0)::VARCHAR(40)`;
    },
    replaceView(name, select) {
      // Late binding: the view survives the external table being replaced. OR REPLACE keeps the
      // view's owner and its grants, where DROP and CREATE would lose them (CREATE VIEW reference).
      return `CREATE OR REPLACE VIEW ${name} AS ${select} WITH NO SCHEMA BINDING`;
    },
    createView(name, select) {
      return `CREATE VIEW ${name} AS ${select} WITH NO SCHEMA BINDING`;
    },
    unload(rows, location) {
      // PARTITION BY writes the files under <location>year=<year>/ and the manifest at
      // <location>, outside the folder Spectrum reads as the partition.
      const year = quoteIdent(PARTITION_KEYS.year);
      const select = `SELECT ${rows.columns}, CAST(${rows.year} AS INTEGER) AS ${year} FROM ${rows.from} WHERE ${rows.where}`;
      const encryption = kmsKeyId ? ` KMS_KEY_ID ${literal(kmsKeyId)} ENCRYPTED` : '';
      return [
        `UNLOAD (${literal(select)}) TO ${literal(location)} IAM_ROLE ${literal(iamRoleArn)} FORMAT AS PARQUET ` +
          `PARTITION BY (${year}) MANIFEST VERBOSE${encryption}`,
      ];
    },
    maintenance(table) {
      return [`VACUUM DELETE ONLY ${table}`, `ANALYZE ${table}`];
    },
    viewDefinitionsQuery,
    externalDatabaseQuery: (schema) =>
      `SELECT databasename AS database FROM svv_external_schemas WHERE schemaname = ${literal(schema.toLowerCase())}`,
    schemasWithTableQuery: (table) =>
      `SELECT DISTINCT table_schema FROM svv_tables WHERE table_name = ${literal(table.toLowerCase())} ORDER BY 1`,
    accessProbes: (context) => accessProbes(context, iamRoleArn),
    grantSelect: (view, reader) => [`GRANT SELECT ON ${view} TO ${grantee(reader)}`],
    revokeSelect: (view, reader) => [`REVOKE SELECT ON ${view} FROM ${grantee(reader)}`],
    grantUsage: (schema, reader) => [`GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${grantee(reader)}`],
    // SERIALIZABLE databases report error 1023, SNAPSHOT ones (the default of new clusters and
    // workgroups) a conflict with a concurrent transaction; AWS's remedy for both is to retry.
    isConflict: (message) =>
      /\b1023\b|serializable isolation violation|conflict with concurrent transaction/i.test(message),
    tableSizesQuery,
  };
}

/**
 * SVV_TABLE_INFO: `size` in 1 MB blocks, and `tbl_rows`, the rows they hold, including rows marked
 * for deletion and not yet vacuumed. It has no row for an empty table, and only superusers see it
 * unless granted SELECT on it (DG SVV_TABLE_INFO).
 */
function tableSizesQuery(tables: Parameters<Dialect['tableSizesQuery']>[0]): string {
  return (
    'SELECT "schema" AS table_schema, "table" AS table_name, CAST("size" * 1048576 AS VARCHAR(20)) AS bytes, ' +
    `CAST("tbl_rows" AS VARCHAR(40)) AS row_count FROM svv_table_info WHERE ${named('"schema"', '"table"', tables)} ORDER BY 1, 2`
  );
}

/**
 * The external schema over the Glue database (deploy time; not allowed in a transaction). It
 * maps the catalog into Redshift; dropping it later leaves the Glue database and the data alone.
 */
export function externalSchemaStatement(config: ArchiveConfig, options: RedshiftOptions): string {
  const { iamRoleArn } = checkRedshiftOptions(options);
  return (
    `CREATE EXTERNAL SCHEMA IF NOT EXISTS ${quoteIdent(config.catalog.externalSchema)} FROM DATA CATALOG ` +
    `DATABASE ${literal(config.catalog.database)} IAM_ROLE ${literal(iamRoleArn)}`
  );
}

/** BatchExecuteStatement runs at most 40 statements, in order, as one transaction (Data API reference, `Sqls`). */
export const MAX_BATCH = 40;

/**
 * The Data API refuses a statement over 100 KB ("The maximum query statement size is 100 KB", MG
 * "Using the Amazon Redshift Data API", considerations): counted here as 100,000 bytes of UTF-8,
 * the stricter reading of "KB".
 */
export const MAX_STATEMENT_BYTES = 100_000;

/** Procedures one batch can create, call and drop (three statements each). */
export const MAX_PROCEDURES = Math.floor(MAX_BATCH / 3);

/**
 * More statements than one Data API batch holds, as one transaction all the same: procedures that
 * the same batch creates, then calls in order, then drops. Each procedure's body EXECUTEs as many of
 * the statements, in order, as fit in one statement of at most {@link MAX_STATEMENT_BYTES}; a
 * procedure called in a transaction block runs in it (DG "Managing transactions", stored
 * procedures), so all of them commit or roll back together. At most {@link MAX_PROCEDURES}.
 * @returns the batch, or undefined when the statements need more procedures than a batch holds,
 *   or one of them does not fit in a procedure
 */
export function procedureBatch(sqls: readonly string[], schema: string, step: string): string[] | undefined {
  const base = `archive_txn_${step.replace(/[^A-Za-z0-9]/g, '_')}`.slice(0, 120);
  const bodies: string[][] = [[]];
  // room for the CREATE ... AS $tag$ BEGIN ... END; $tag$ LANGUAGE plpgsql around a body
  const room = MAX_STATEMENT_BYTES - 400 - Buffer.byteLength(schema) - Buffer.byteLength(base);
  let size = 0;
  for (const sql of sqls) {
    const line = `EXECUTE ${literal(sql)};`;
    const bytes = Buffer.byteLength(line) + 1;
    if (bytes > room) return undefined;
    const current = bodies[bodies.length - 1];
    if (current.length > 0 && size + bytes > room) {
      bodies.push([line]);
      size = bytes;
    } else {
      current.push(line);
      size += bytes;
    }
  }
  if (bodies.length > MAX_PROCEDURES) return undefined;
  const names = bodies.map((_, i) => qualify(schema, bodies.length === 1 ? base : `${base}_${i + 1}`));
  const create = bodies.map((lines, i) => {
    const body = lines.join('\n');
    // A dollar quote ends at its tag: the tag must not occur in the body (identifiers may hold `$`).
    let tag = '$archive$';
    for (let n = 1; body.includes(tag); n++) tag = `$archive${n}$`;
    return `CREATE OR REPLACE PROCEDURE ${names[i]}() AS ${tag}\nBEGIN\n${body}\nEND;\n${tag} LANGUAGE plpgsql`;
  });
  return [...create, ...names.map((n) => `CALL ${n}()`), ...names.map((n) => `DROP PROCEDURE ${n}()`)];
}
