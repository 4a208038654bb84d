import { ColumnType, typeMapping } from '../core/column-types';
import { CalendarDate, startOfDayUtc } from '../core/cutoff';
import { InputError, show } from '../core/errors';
import type { Dialect } from './dialect';
import { quoteIdent } from './identifiers';
import { PARTITION_KEYS } from '../config/config';

/** Name of the manifest file an export writes beside its partitions, as UNLOAD does. */
export const MANIFEST_NAME = 'manifest';

/**
 * DuckDB playing Redshift: `COPY ... TO (FORMAT PARQUET, PARTITION_BY)` plays UNLOAD, and a
 * second COPY writes the manifest (one JSON line per file, from the files' own footers).
 */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  literal(text) {
    if (text.includes('\0')) throw new InputError(`refusing a literal with a NUL character: ${show(text)}`);
    return `'${text.replace(/'/g, "''")}'`;
  },
  columnType(type) {
    return typeMapping(type).duckdb;
  },
  cutoffLiteral(type: ColumnType, cutoff: CalendarDate, timeZone: string) {
    switch (type.kind) {
      case 'date':
        return `DATE '${cutoff}'`;
      case 'timestamptz':
        return `TIMESTAMPTZ '${startOfDayUtc(cutoff, timeZone)}+00'`;
      default:
        return `TIMESTAMP '${cutoff} 00:00:00'`;
    }
  },
  yearOf(expr, type, timeZone) {
    const local = type.kind === 'timestamptz' ? `timezone(${this.literal(timeZone)}, ${expr})` : expr;
    return `CAST(EXTRACT(YEAR FROM ${local}) AS INTEGER)`;
  },
  checksum(expr) {
    // hash() is a UBIGINT of the value's bits; its SUM is a HUGEINT, so nothing rounds or wraps.
    return `COALESCE(SUM(hash(${expr})), 0)`;
  },
  createView(name, select) {
    return `CREATE VIEW ${name} AS ${select}`;
  },
  unload(select, location) {
    const files = `${location}*/*.parquet`;
    return [
      `COPY (${select}) TO ${this.literal(location)} (FORMAT PARQUET, PARTITION_BY (${quoteIdent(PARTITION_KEYS.year)}))`,
      `COPY (SELECT file_name AS url, file_size_bytes AS bytes, num_rows AS "rows" ` +
        `FROM parquet_file_metadata(${this.literal(files)})) TO ${this.literal(location + MANIFEST_NAME)} (FORMAT JSON)`,
    ];
  },
  maintenance() {
    // DuckDB reclaims deleted rows' space at a checkpoint; it keeps statistics up to date itself.
    return ['CHECKPOINT'];
  },
};
