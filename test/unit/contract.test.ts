import { manualEvent, statementPrefix } from '../../src/contract';

describe('the statement-name prefix of a stack', () => {
  test.each([
    ['RedshiftArchive', 'redshift-archive.RedshiftArchive.'],
    ['archive-2', 'redshift-archive.archive-2.'],
    ['A'.repeat(128), `redshift-archive.${'A'.repeat(128)}.`],
  ])('stack %s names its statements %s', (stackName, prefix) => {
    expect(statementPrefix(stackName)).toBe(prefix);
  });

  test("a stack's prefix does not match the statements of a stack whose name starts with it", () => {
    const statement = `${statementPrefix('archive-b')}20260101T000000Z.stage`;
    expect(statement.startsWith(statementPrefix('archive'))).toBe(false);
  });

  test.each(['', '1archive', 'archive_b', 'archive.b', 'A'.repeat(129), '${Token[AWS.StackName.1]}'])(
    'fails for stack name %j, which CloudFormation does not allow',
    (stackName) => {
      expect(() => statementPrefix(stackName)).toThrow(
        `statementPrefix: stack name ${JSON.stringify(stackName)} is not allowed; allowed: a letter, then letters, digits and hyphens, at most 128 characters`,
      );
    },
  );
});

describe('the manual events', () => {
  test.each([
    [{ action: 'plan', cutoff: '2025-01-01' }],
    [{ action: 'status' }],
    [{ action: 'audit' }],
    [{ action: 'audit', deep: true }],
    [{ action: 'restore', year: 2024 }],
    [{ action: 'restore', year: 2024, table: 'transactions', deleteFiles: false }],
  ])('accepts %j as it is', (event) => {
    expect(manualEvent.parse(event)).toEqual(event);
  });

  test.each([
    [{ action: 'status', deep: true }, [], 'no deep with status'],
    [{ action: 'audit', deleteFiles: true }, [], 'no deleteFiles with audit'],
    [{ action: 'restore', cutoff: '2025-01-01', year: 2024 }, [], 'no cutoff with restore'],
    [{ action: 'restore' }, [], 'restore needs a year'],
    [{ action: 'restore', year: 99999 }, ['year'], 'a year from 1000 to 9999'],
    [{ action: 'restore', year: 2024, table: 7 }, ['table'], "a root table's name as configured"],
    [{ action: 'audit', deep: 'true' }, ['deep'], 'true or false'],
    [{ action: 'run', cutoff: 2025 }, ['cutoff'], 'a real calendar date YYYY-MM-DD from 1900 on'],
  ])(
    'fails for %j with one issue: at the field whose value is wrong, saying what is allowed, else without a path',
    (event, path, message) => {
      const parsed = manualEvent.safeParse(event);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((i) => [i.code, i.path, i.message])).toEqual([
        ['custom', path, message],
      ]);
    },
  );
});
