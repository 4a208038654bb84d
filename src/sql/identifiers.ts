import { InputError, show } from '../core/errors';

/**
 * The one place where names become SQL. Every identifier is checked against the rule that
 * Redshift, Glue and DuckDB all accept, then double-quoted, so reserved words such as
 * `time`, `user` or `date` work and nothing else can be smuggled in.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** Redshift's limit, in bytes (identifiers are UTF-8 in the catalog). */
export const MAX_IDENTIFIER_BYTES = 127;

/** What an identifier may be, as error messages say it. */
export const IDENTIFIER_RULE = 'letters, digits, _ or $, not starting with a digit, at most 127 bytes';

/** Whether `name` is an identifier that this project accepts. */
export function isIdentifier(name: unknown): name is string {
  return typeof name === 'string' && IDENTIFIER.test(name) && Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES;
}

/** Throws an {@link InputError} naming `field` unless `name` is an identifier. */
export function checkIdentifier(name: unknown, field: string): string {
  if (!isIdentifier(name)) {
    throw new InputError(`${field}: ${show(name)} is not an identifier; allowed: ${IDENTIFIER_RULE}`);
  }
  return name;
}

/**
 * Quotes one identifier. It refuses (rather than escapes) anything that is not an identifier:
 * configuration was validated already, so a bad name here is a bug, not input.
 */
export function quoteIdent(name: string): string {
  if (!isIdentifier(name)) {
    throw new InputError(`refusing to quote ${show(name)}: allowed: ${IDENTIFIER_RULE}`);
  }
  return `"${name}"`;
}

/** Quotes a schema-qualified name: `"schema"."name"`. */
export function qualify(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
