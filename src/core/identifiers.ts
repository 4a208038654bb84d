import { InputError, show } from './errors';

/**
 * The rule every name in this project follows: the one that Redshift, Glue and DuckDB all accept.
 * Configuration checks it once; `sql/identifiers.ts` quotes only names that pass it.
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
