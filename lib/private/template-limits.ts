import { Stack } from 'aws-cdk-lib';
import type { IValidation } from 'constructs';

/**
 * The largest template CloudFormation takes, from S3 as `cdk deploy` uploads it: 1 MB ("Template
 * body size in an Amazon S3 object", AWS CloudFormation User Guide, "Understand CloudFormation
 * quotas"), counted as 1,000,000 bytes, the stricter reading. The same quotas allow 500 resources
 * a template, which the CDK itself enforces when it renders the template (`Stack.maxResources`,
 * default 500: "Number of resources in stack ... is greater than allowed maximum of 500").
 */
export const MAX_TEMPLATE_BYTES = 1_000_000;

/**
 * Fails the synthesis, naming the size and what to change, when the stack's template would be
 * larger than CloudFormation takes: the Glue tables declare every configured column, so the
 * template grows with the configuration.
 */
export function templateLimits(stack: Stack): IValidation {
  return {
    validate: () => {
      // the template as the synthesis will write it (the CDK's own rendering, which also counts resources)
      const template = (stack as unknown as { _toCloudFormation(): unknown })._toCloudFormation();
      const bytes = Buffer.byteLength(JSON.stringify(template));
      return bytes > MAX_TEMPLATE_BYTES
        ? [
            `stack ${stack.stackName}: its template is ${bytes} bytes, more than CloudFormation takes (${MAX_TEMPLATE_BYTES}); ` +
              'allowed: fewer tables or columns per stack (split the configuration across stacks)',
          ]
        : [];
    },
  };
}
