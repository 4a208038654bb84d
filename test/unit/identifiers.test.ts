import { InputError, InternalError } from '../../src/core/errors';
import { checkIdentifier } from '../../src/core/identifiers';
import { qualify, quoteIdent } from '../../src/sql/identifiers';

describe('identifier quoting', () => {
  test.each([
    ['transactions', '"transactions"'],
    ['time', '"time"'],
    ['user', '"user"'],
    ['MixedCase', '"MixedCase"'],
    ['_private$1', '"_private$1"'],
    ['a'.repeat(127), `"${'a'.repeat(127)}"`],
  ])('quotes %s as %s', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });

  test('qualifies a name with its schema', () => {
    expect(qualify('contabyx', 'order')).toBe('"contabyx"."order"');
  });

  test.each([
    ['orders; DROP TABLE x', '"orders; DROP TABLE x"'],
    ['a"b', '"a\\"b"'],
    ['1abc', '"1abc"'],
    ['', '""'],
    ['a'.repeat(128), `"${'a'.repeat(76)}...`],
    ['café', '"café"'],
  ])('fails to quote %j, as a bug: configuration checked every name already', (name, shown) => {
    expect(() => quoteIdent(name)).toThrow(InternalError);
    expect(() => quoteIdent(name)).toThrow(
      'internal error (a bug in redshift-archive, please report it): ' +
        `refusing to quote ${shown}: allowed: letters, digits, _ or $, not starting with a digit, at most 127 bytes`,
    );
  });

  test('fails with the field name when an identifier from input is bad', () => {
    expect(() => checkIdentifier('x y', 'tables[0].name')).toThrow(InputError);
    expect(() => checkIdentifier('x y', 'tables[0].name')).toThrow(
      'tables[0].name: "x y" is not an identifier; allowed: letters, digits, _ or $, not starting with a digit, at most 127 bytes',
    );
  });
});
