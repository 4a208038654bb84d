import {
  batchRoot,
  isBatchRoot,
  isClearable,
  isLegacyRunPrefix,
  legacyRunPrefix,
  partitionLocation,
} from '../../src/core/lake-layout';

const RUN = '20260101T000000Z';

describe('the lake layout', () => {
  test('gives each batch (table, year, run) a root of its own, whose partition folder holds only Parquet files', () => {
    const root = batchRoot('lake/v1', 'Tax', 2024, RUN);
    expect(root).toBe(`lake/v1/tax/year=2024/archive_run=${RUN}/`);
    expect(partitionLocation(root, 2024)).toBe(`lake/v1/tax/year=2024/archive_run=${RUN}/year=2024/`);
  });

  test('no batch root contains another batch root', () => {
    const roots = [2023, 2024].flatMap((y) =>
      [RUN, '20270101T000000Z'].map((r) => batchRoot('lake', 'tax', y, r)),
    );
    for (const a of roots) for (const b of roots) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });

  test.each([
    [`lake/v1/tax/year=2024/archive_run=${RUN}/`, true],
    [`lake/v1/tax/year=2024/archive_run=${RUN}`, false],
    [`lake/v1/tax/year=2024/archive_run=${RUN}/year=2024/`, false],
    ['lake/v1/tax/year=2024/', false],
    [`lake/v1/Tax/year=2024/archive_run=${RUN}/`, false],
    [`lake/v2/tax/year=2024/archive_run=${RUN}/`, false],
    ['lake/v1/tax/year=2024/archive_run=2026/', false],
    [`lake/v1/tax/year=24/archive_run=${RUN}/`, false],
    [`lake/v1/../year=2024/archive_run=${RUN}/`, false],
    [`lake/v1/tax/archive_run=${RUN}/`, false],
  ])('%s is a batch root of lake/v1: %s', (key, expected) => {
    expect(isBatchRoot('lake/v1', key)).toBe(expected);
  });

  test("knows protocol v1's run prefixes, to clear what an unfinished v1 run exported", () => {
    expect(legacyRunPrefix('lake/v1', 'Tax', RUN)).toBe(`lake/v1/tax/archive_run=${RUN}/`);
    expect(isLegacyRunPrefix('lake/v1', `lake/v1/tax/archive_run=${RUN}/`)).toBe(true);
    expect(isLegacyRunPrefix('lake/v1', `lake/v1/tax/archive_run=${RUN}/year=2024/`)).toBe(false);
    expect(isClearable('lake/v1', `lake/v1/tax/archive_run=${RUN}/`)).toBe(true);
    expect(isClearable('lake/v1', `lake/v1/tax/year=2024/archive_run=${RUN}/`)).toBe(true);
    expect(isClearable('lake/v1', 'lake/v1/tax/')).toBe(false);
  });

  test('fails for a table that is not an identifier, a year out of range, or a run that is not a run id', () => {
    expect(() => batchRoot('lake', '../x', 2024, RUN)).toThrow(
      'table: "../x" is not an identifier; allowed: letters, digits, _ or $, not starting with a digit, at most 127 bytes',
    );
    expect(() => batchRoot('lake', 'tax', 2024.5, RUN)).toThrow(
      'year: 2024.5 is not allowed; allowed: a year from 1000 to 9999',
    );
    expect(() => batchRoot('lake', 'tax', 2024, '2026')).toThrow(
      'run: "2026" is not allowed; allowed: a run id YYYYMMDDTHHMMSSZ',
    );
  });
});
