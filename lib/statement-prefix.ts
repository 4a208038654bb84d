/**
 * CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128 characters
 * (AWS CloudFormation API Reference, CreateStack `StackName`).
 */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/**
 * The prefix of every Data API statement name of one stack, and what its `StatementFinished`
 * rule matches. It carries the stack name because EventBridge delivers `aws.redshift-data`
 * events of the whole account and Region to every rule: a fixed prefix would let two stacks
 * in one account resume each other's runs. The trailing dot keeps stack `a` from matching the
 * statements of stack `a-b`.
 * @throws Error naming the stack name when it is not a CloudFormation stack name
 */
export function statementPrefix(stackName: string): string {
  if (!STACK_NAME.test(stackName)) {
    throw new Error(
      `statementPrefix: stack name ${JSON.stringify(stackName)} is not allowed; allowed: ` +
        'a letter, then letters, digits and hyphens, at most 128 characters',
    );
  }
  return `redshift-archive.${stackName}.`;
}
