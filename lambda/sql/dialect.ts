import type { ColumnType } from '../core/column-types';
import type { CalendarDate } from '../core/cutoff';

/**
 * Everything the protocol's SQL needs that Redshift and DuckDB spell differently. The protocol
 * and the statement builder are shared; each engine has exactly one implementation of this.
 */
export interface Dialect {
  readonly name: 'redshift' | 'duckdb';
  /** A string literal for a value that was validated already. */
  literal(text: string): string;
  /** The engine's spelling of a configured column type, for casts. */
  columnType(type: ColumnType): string;
  /** The cutoff as a literal comparable with a column of `type` (zone maps stay usable). */
  cutoffLiteral(type: ColumnType, cutoff: CalendarDate, timeZone: string): string;
  /** An INTEGER expression: the calendar year of `expr` (a column of `type`) in `timeZone`. */
  yearOf(expr: string, type: ColumnType, timeZone: string): string;
  /**
   * An aggregate over `expr` that is equal for equal multisets of values, whatever the order,
   * and exact (no floating point): the per-column checksum of verification.
   */
  checksum(expr: string): string;
  /** CREATE VIEW for a union view. */
  createView(name: string, select: string): string;
  /**
   * Statements that export `select` (whose last column is `year`) as Parquet partitioned by
   * year into `location`, with a manifest of files and row counts.
   */
  unload(select: string, location: string): string[];
  /** Statements that reclaim space and refresh statistics after deletes (not transactional). */
  maintenance(table: string): string[];
}
