import { statementPrefix } from '../../src/contract';

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
