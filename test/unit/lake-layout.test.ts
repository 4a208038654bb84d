import { isRunPrefix, runPrefix } from '../../lambda/core/lake-layout';

describe('the lake layout', () => {
  test('gives each run of each table a prefix of its own, the run before the year', () => {
    expect(runPrefix('lake/v1', 'Tax', '20260101T000000Z')).toBe('lake/v1/tax/archive_run=20260101T000000Z/');
  });

  test.each([
    ['lake/v1/tax/archive_run=20260101T000000Z/', true],
    ['lake/v1/tax/archive_run=20260101T000000Z', false],
    ['lake/v1/tax/archive_run=20260101T000000Z/year=2024/', false],
    ['lake/v1/tax/', false],
    ['lake/v1/Tax/archive_run=20260101T000000Z/', false],
    ['lake/v2/tax/archive_run=20260101T000000Z/', false],
    ['lake/v1/tax/archive_run=2026/', false],
    ['lake/v1/../archive_run=20260101T000000Z/', false],
  ])('%s is a run prefix of lake/v1: %s', (key, expected) => {
    expect(isRunPrefix('lake/v1', key)).toBe(expected);
  });

  test('fails for a table that is not an identifier, or a run that is not a run id', () => {
    expect(() => runPrefix('lake', '../x', '20260101T000000Z')).toThrow(
      'table: "../x" is not an identifier; allowed: letters, digits, _ or $, not starting with a digit, at most 127 bytes',
    );
    expect(() => runPrefix('lake', 'tax', '2026')).toThrow(
      'run: "2026" is not allowed; allowed: a run id YYYYMMDDTHHMMSSZ',
    );
  });
});
