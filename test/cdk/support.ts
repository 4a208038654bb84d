import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ArchiveConfig, parseConfig } from '../../src/config/config';
import { RedshiftArchiveStack, RedshiftArchiveStackProps } from '../../lib/redshift-archive-stack';
import contabyx from '../../config/contabyx.json';

/** The contabyx sample with changes. */
export function config(change: (c: typeof contabyx) => object = (c) => c): ArchiveConfig {
  return parseConfig(change(JSON.parse(JSON.stringify(contabyx)) as typeof contabyx));
}

/**
 * An app that synthesizes without the CloudFormation validator (fast unit tests). Nothing is bundled
 * at synth: the functions deploy the handlers that `npm run build` bundled (dist/handlers).
 */
export function unitApp(): App {
  return new App({ builtinCloudFormationValidation: false });
}

/** The stack for `props`, in a fixed account and region so ARNs read plainly. */
export function stackOf(
  props: Partial<RedshiftArchiveStackProps> = {},
  app = unitApp(),
): RedshiftArchiveStack {
  return new RedshiftArchiveStack(app, 'Archive', {
    env: { account: '123456789012', region: 'eu-west-1' },
    config: props.config ?? config(),
    ...props,
  });
}

/** The template of the stack for `props`. */
export function templateOf(props: Partial<RedshiftArchiveStackProps> = {}): Template {
  return Template.fromStack(stackOf(props));
}

/** Every IAM statement of the policies attached to roles whose logical id starts with `rolePrefix`. */
export function statementsOf(template: Template, rolePrefix: string): Record<string, unknown>[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
}

export { Stack };
