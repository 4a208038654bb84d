import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy, CfnRole } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** A kind of wildcard that this construct grants on purpose, and why. */
export interface WildcardReason {
  /** Matches the resource as cdk-nag renders it, e.g. `<Bucket.Arn>/prefix/*`. */
  readonly resource: RegExp;
  readonly reason: string;
}

/** The managed policy every Lambda function's role gets for its own logs. */
const BASIC_EXECUTION = 'arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

/** Renders a resolved CloudFormation value as cdk-nag names it in a finding id. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  return JSON.stringify(value);
}

/**
 * Acknowledges, finding by finding, the AwsSolutions-IAM5 wildcards under `scope` that match a
 * reason, and AwsSolutions-IAM4 for the basic execution role. A wildcard that matches no reason
 * is left for cdk-nag to report, so a new grant cannot slip through unexplained.
 */
export function acknowledgeWildcards(
  scope: IConstruct,
  reasons: readonly WildcardReason[],
  basicExecutionReason: string,
): void {
  const stack = Stack.of(scope);
  for (const node of scope.node.findAll()) {
    if (node instanceof CfnPolicy) {
      const document = stack.resolve(node.policyDocument) as { Statement?: { Resource?: unknown }[] };
      const resources = (document.Statement ?? []).flatMap((s) => [s.Resource ?? []].flat()).map(render);
      for (const resource of new Set(resources.filter((r) => r.includes('*')))) {
        const match = reasons.find((r) => r.resource.test(resource));
        if (match)
          Validations.of(node).acknowledge({
            id: `AwsSolutions-IAM5[Resource::${resource}]`,
            reason: match.reason,
          });
      }
    }
    if (node instanceof CfnRole) {
      const managed = (stack.resolve(node.managedPolicyArns) as unknown[] | undefined)?.map(render) ?? [];
      if (managed.includes(BASIC_EXECUTION)) {
        Validations.of(node).acknowledge({
          id: `AwsSolutions-IAM4[Policy::${BASIC_EXECUTION}]`,
          reason: basicExecutionReason,
        });
      }
    }
  }
}

/** A kind of action wildcard that this construct grants on purpose, and why. */
export interface ActionWildcardReason {
  /** Matches the action as written in the policy, e.g. `kms:GenerateDataKey*`. */
  readonly action: RegExp;
  readonly reason: string;
}

/**
 * Acknowledges, finding by finding, the AwsSolutions-IAM5 action wildcards under `scope` that
 * match a reason; one that matches none is left for cdk-nag to report.
 */
export function acknowledgeActionWildcards(
  scope: IConstruct,
  reasons: readonly ActionWildcardReason[],
): void {
  const stack = Stack.of(scope);
  for (const node of scope.node.findAll()) {
    if (!(node instanceof CfnPolicy)) continue;
    const document = stack.resolve(node.policyDocument) as { Statement?: { Action?: unknown }[] };
    const actions = (document.Statement ?? []).flatMap((s) => [s.Action ?? []].flat()).map(render);
    for (const action of new Set(actions.filter((a) => a.includes('*')))) {
      const match = reasons.find((r) => r.action.test(action));
      if (match)
        Validations.of(node).acknowledge({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason: match.reason,
        });
    }
  }
}

/** Acknowledges one rule on one resource, with its reason. */
export function acknowledgeRule(resource: IConstruct | CfnResource, id: string, reason: string): void {
  Validations.of(resource).acknowledge({ id, reason });
}
