import { IDENTIFIER_RULE, isIdentifier } from '../core/identifiers';
import { InternalError, show } from '../core/errors';

/**
 * The one place where names become SQL. Every identifier is checked against the project's rule
 * (`core/identifiers.ts`), then double-quoted, so reserved words such as `time`, `user` or `date`
 * work and nothing else can be smuggled in.
 */

/**
 * Quotes one identifier. It refuses (rather than escapes) anything that is not an identifier:
 * configuration was validated already, so a bad name here is a bug, not input.
 */
export function quoteIdent(name: string): string {
  if (!isIdentifier(name)) {
    throw new InternalError(`refusing to quote ${show(name)}: allowed: ${IDENTIFIER_RULE}`);
  }
  return `"${name}"`;
}

/** Quotes a schema-qualified name: `"schema"."name"`. */
export function qualify(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** An identifier, then `/`-separated parts of letters and digits: no configured name is one. */
const PART_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\/[A-Za-z0-9]+)+$/;

/**
 * Quotes a schema-qualified name of one part of an external table on the embedded engine
 * (`"ext"."orders/2024/20260101T000000Z"`): a table's name, then the parts. The `/` keeps it apart
 * from every configured name (DuckDB has no length limit to keep). Anything else is refused.
 */
export function qualifyPart(schema: string, name: string): string {
  if (!PART_NAME.test(name) || !isIdentifier(name.split('/')[0])) {
    throw new InternalError(
      `refusing to quote ${show(name)}: allowed: a table's name, then /-separated letters and digits`,
    );
  }
  return `${quoteIdent(schema)}."${name}"`;
}

/**
 * Quotes a name the warehouse reported itself, such as the current user (`IAMR:role` is not an
 * identifier by the project's rule): double quotes are doubled, as SQL escapes them. For text that
 * an operator copies into a GRANT, never for SQL the project sends.
 */
export function quoteReportedName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
