import { ColumnType, parseColumnType, simpleCatalogType, typeMapping } from '../core/column-types';
import { startOfDayUtc } from '../core/cutoff';
import { InputError, show } from '../core/errors';
import { MANIFEST_NAME, PARTITION_KEYS } from '../core/lake-layout';
import type { Dialect } from './dialect';
import { qualify, qualifyPart } from './identifiers';

function literal(text: string): string {
  if (text.includes('\0')) throw new InputError(`refusing a literal with a NUL character: ${show(text)}`);
  return `'${text.replace(/'/g, "''")}'`;
}

/** A BLOB as hex; a TIME, TIMETZ or JSON (SUPER) as its text, which casts back exactly. */
function asText(type: ColumnType, ref: string): string {
  return type.kind === 'varbyte' ? `hex(${ref})` : `CAST(${ref} AS VARCHAR)`;
}

/**
 * The embedded engine's external table is a view per registered partition (reading its files,
 * typed as the catalog declares) beside one that declares the columns and reads none; the external
 * table itself unites them all. Names hold a `/`, which no configured table's name may.
 */
export const externalViews = {
  partition: (table: string, p: { readonly runId: string; readonly year: number }) =>
    `${table}/${p.year}/${p.runId}`,
  declared: (table: string) => `${table}/none`,
  /** The comment that marks a view as the catalog's: the database and the definition's digest. */
  comment: (database: string, digest: string) => `catalog ${database} ${digest}`,
};

const bySchemaAndName = (schema: string, name: string, tables: readonly { schema: string; name: string }[]) =>
  tables
    .map(
      (t) =>
        `(lower(${schema}) = ${literal(t.schema.toLowerCase())} AND lower(${name}) = ${literal(t.name.toLowerCase())})`,
    )
    .join(' OR ');

/**
 * DuckDB playing Redshift: `COPY ... TO (FORMAT PARQUET)` into the batch's partition folder
 * plays UNLOAD, and a second COPY writes the manifest (one JSON line per file, from the files'
 * own footers).
 */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  literal,
  columnType(type) {
    return typeMapping(type).duckdb;
  },
  asText,
  fromText(type, ref) {
    return type.kind === 'varbyte' ? `unhex(${ref})` : `CAST(${ref} AS ${typeMapping(type).duckdb})`;
  },
  textSize(type, ref) {
    // strlen counts bytes, as Spectrum's VARCHAR lengths do
    return `strlen(${asText(type, ref)})`;
  },
  boundLiteral(type, date, timeZone) {
    switch (type.kind) {
      case 'date':
        return `DATE '${date}'`;
      case 'timestamptz':
        return `TIMESTAMPTZ '${startOfDayUtc(date, timeZone)}+00'`;
      default:
        return `TIMESTAMP '${date} 00:00:00'`;
    }
  },
  groupHash(values) {
    // hash() combines the hashes of its arguments by position, so string boundaries count, and
    // it hashes NULL to a value of its own (not that of 0 or ''): no NULL bitmap is needed.
    return `hash(${values.map((v) => v.expr).join(', ')})`;
  },
  // hash() is variadic: one call hashes a group of up to 64 columns.
  hashGroup: 64,
  combineHashes(hashes) {
    // by position, so each group's place counts
    return `hash(${hashes.join(', ')})`;
  },
  checksum(rowHash) {
    // hash() is a UBIGINT; its SUM is a HUGEINT, so nothing rounds or wraps.
    return `CAST(COALESCE(SUM(${rowHash}), 0) AS VARCHAR)`;
  },
  replaceView(name, select) {
    return `CREATE OR REPLACE VIEW ${name} AS ${select}`;
  },
  createView(name, select) {
    return `CREATE VIEW ${name} AS ${select}`;
  },
  unload(rows, location) {
    // One file per batch: DuckDB writes a single Parquet file fastest. COPY writes a file even
    // for no rows, but the protocol counts first and exports no empty batch.
    const folder = `${location}${PARTITION_KEYS.year}=${rows.year}/`;
    return [
      `COPY (SELECT ${rows.columns} FROM ${rows.from} WHERE ${rows.where}) TO ${literal(`${folder}data_0.parquet`)} (FORMAT PARQUET)`,
      `COPY (SELECT file_name AS url, file_size_bytes AS bytes, num_rows AS "rows" ` +
        `FROM parquet_file_metadata(${literal(`${folder}*.parquet`)})) TO ${literal(location + MANIFEST_NAME)} (FORMAT JSON)`,
    ];
  },
  maintenance() {
    // DuckDB reclaims deleted rows' space at a checkpoint; it keeps statistics up to date itself.
    return ['CHECKPOINT'];
  },
  viewDefinitionsQuery(views) {
    return (
      'SELECT schema_name AS table_schema, view_name AS table_name, sql AS definition FROM duckdb_views() ' +
      `WHERE ${bySchemaAndName('schema_name', 'view_name', views)} ORDER BY 1, 2`
    );
  },
  externalDatabaseQuery(schema) {
    // The catalog's views carry its database in their comment, as SVV_EXTERNAL_SCHEMAS says it.
    return (
      "SELECT DISTINCT split_part(comment, ' ', 2) AS database FROM duckdb_views() " +
      `WHERE lower(schema_name) = ${literal(schema.toLowerCase())} AND comment LIKE 'catalog %' ORDER BY 1`
    );
  },
  schemasWithTableQuery(table) {
    return `SELECT DISTINCT schema_name AS table_schema FROM duckdb_tables() WHERE lower(table_name) = ${literal(table.toLowerCase())} ORDER BY 1`;
  },
  externalPartitions(schema, table, partitions) {
    const view = (name: string) => `SELECT * FROM ${qualifyPart(schema, name)}`;
    return `(${[view(externalViews.declared(table)), ...partitions.map((p) => view(externalViews.partition(table, p)))].join(' UNION ALL ')})`;
  },
  catalogColumnsQuery(tables) {
    const which = bySchemaAndName('table_schema', 'table_name', tables);
    return (
      'SELECT table_schema, table_name, column_name, data_type, character_maximum_length AS char_length, ' +
      'numeric_precision AS num_precision, numeric_scale AS num_scale FROM information_schema.columns ' +
      `WHERE ${which} ORDER BY table_schema, table_name, ordinal_position`
    );
  },
  tableColumnsQuery(scope) {
    const which = [
      ...(scope.schemas.length
        ? [`lower(c.table_schema) IN (${scope.schemas.map((s) => literal(s.toLowerCase())).join(', ')})`]
        : []),
      ...(scope.tables.length ? [bySchemaAndName('c.table_schema', 'c.table_name', scope.tables)] : []),
    ];
    return (
      'SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.character_maximum_length AS char_length, ' +
      'c.numeric_precision AS num_precision, c.numeric_scale AS num_scale FROM information_schema.columns c ' +
      'JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name ' +
      `WHERE t.table_type = 'BASE TABLE' AND (${which.join(' OR ') || '1 = 0'}) ` +
      'ORDER BY c.table_schema, c.table_name, c.ordinal_position'
    );
  },
  foreignKeysQueries(tables) {
    // information_schema pairs each key column with the referenced one by its place in the key
    return [
      'SELECT k.constraint_name AS fk_name, k.table_schema AS fk_schema_name, k.table_name AS fk_table_name, ' +
        'k.column_name AS fk_column_name, k.ordinal_position AS key_seq, u.table_schema AS pk_schema_name, ' +
        'u.table_name AS pk_table_name, u.column_name AS pk_column_name FROM information_schema.referential_constraints r ' +
        'JOIN information_schema.key_column_usage k ON k.constraint_schema = r.constraint_schema AND k.constraint_name = r.constraint_name ' +
        'JOIN information_schema.key_column_usage u ON u.constraint_schema = r.unique_constraint_schema ' +
        'AND u.constraint_name = r.unique_constraint_name AND u.ordinal_position = k.position_in_unique_constraint ' +
        `WHERE ${bySchemaAndName('k.table_schema', 'k.table_name', tables) || '1 = 0'} ORDER BY 2, 3, 1, 5`,
    ];
  },
  catalogType(row) {
    const text = String(row.data_type);
    // DuckDB keeps no length: lengths are Redshift's to enforce, not the embedded engine's.
    if (text === 'VARCHAR') return { kind: 'text' };
    if (text === 'BLOB') return { kind: 'bytes' };
    return (
      simpleCatalogType('duckdb', text) ?? (text.startsWith('DECIMAL') ? parseColumnType(text) : undefined)
    );
  },
  grantSelect() {
    return [];
  },
  grantUsage() {
    return [];
  },
  revokeSelect() {
    return [];
  },
  accessProbes() {
    // One embedded database, one user who may do everything.
    return [];
  },
  isConflict(message) {
    return /conflict/i.test(message);
  },
  tableSizesQuery(tables) {
    // DuckDB's own storage figures: the blocks its persistent segments occupy (shared blocks
    // count for each table that uses them, as a 1 MB block of Redshift does), and its rows.
    return tables
      .map((t) => {
        const name = qualify(t.schema, t.name);
        return (
          `SELECT ${literal(t.schema.toLowerCase())} AS table_schema, ${literal(t.name.toLowerCase())} AS table_name, ` +
          `CAST(COUNT(DISTINCT s.block_id) * (SELECT MAX(block_size) FROM pragma_database_size()) AS VARCHAR) AS bytes, ` +
          `CAST((SELECT COUNT(*) FROM ${name}) AS VARCHAR) AS row_count ` +
          `FROM pragma_storage_info(${literal(name)}) s WHERE s.persistent AND s.block_id >= 0`
        );
      })
      .join(' UNION ALL ');
  },
};
