import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { ArchiveConfig, configDigest, configJson } from '../config/config';
import { ENV, STACK_OUTPUTS, statementPrefix } from '../contract';
import { InputError, show } from '../core/errors';
import { deploymentFrom, type Deployment } from '../engines/aws/engine';

/** A deployed stack as the command line drives it: its resources and its function. */
export interface StackDeployment extends Deployment {
  readonly stackName: string;
  /** The unload function, the one driver of every run. */
  readonly functionName: string;
}

/** Where each environment variable of the function comes from among the stack's outputs. */
const OUTPUT_OF_ENV: Readonly<Record<string, string>> = {
  [ENV.lakeBucket]: STACK_OUTPUTS.lakeBucket,
  [ENV.redshiftRoleArn]: STACK_OUTPUTS.redshiftRoleArn,
  [ENV.athenaWorkgroup]: STACK_OUTPUTS.athenaWorkgroup,
  [ENV.kmsKeyId]: STACK_OUTPUTS.lakeKey,
};

/** The stack's outputs that the command line cannot do without. */
const REQUIRED = [
  STACK_OUTPUTS.lakeBucket,
  STACK_OUTPUTS.redshiftRoleArn,
  STACK_OUTPUTS.unloadFunction,
  STACK_OUTPUTS.configDigest,
];

async function describe(cfn: CloudFormationClient, stackName: string): Promise<Stack> {
  try {
    const [stack] = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks ?? [];
    if (stack) return stack;
  } catch (error) {
    // CloudFormation answers a missing stack with a ValidationError "Stack with id X does not exist".
    if (!/does not exist/.test((error as Error).message)) throw error;
  }
  const region = await cfn.config.region();
  throw new InputError(
    `--stack: ${show(stackName)} does not exist in ${region}; allowed: the name of a deployed redshift-archive stack (and --region where it is)`,
  );
}

/**
 * Finds a deployed stack's resources from its outputs (CloudFormation `DescribeStacks`), and
 * checks that `config` is the configuration it was deployed with: driving a stack with another
 * file would read the wrong ledger, or plan against columns the warehouse does not have.
 * @throws InputError naming the stack and what is missing or different; nothing is sent to the warehouse
 */
export async function findDeployment(
  cfn: CloudFormationClient,
  stackName: string,
  config: ArchiveConfig,
): Promise<StackDeployment> {
  const stack = await describe(cfn, stackName);
  const name = stack.StackName ?? stackName;
  const outputs = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  const missing = REQUIRED.filter((key) => !outputs.get(key));
  if (missing.length > 0) {
    throw new InputError(
      `--stack: ${show(name)} (${stack.StackStatus ?? 'no status'}) has no output ${missing.join(', ')}; ` +
        'allowed: a stack deployed by this version of redshift-archive (cdk deploy creates the outputs)',
    );
  }
  const deployed = outputs.get(STACK_OUTPUTS.configDigest);
  if (deployed !== configDigest(config)) {
    throw new InputError(
      `--config: not the configuration deployed in stack ${name} (its digest ${deployed}, this file's ` +
        `${configDigest(config)}); allowed: the file the stack was deployed with, or deploy this one first (cdk deploy -c config=FILE)`,
    );
  }
  const environment: Record<string, string | undefined> = {
    [ENV.config]: configJson(config),
    [ENV.statementPrefix]: statementPrefix(name),
  };
  for (const [variable, output] of Object.entries(OUTPUT_OF_ENV)) environment[variable] = outputs.get(output);
  try {
    return {
      ...deploymentFrom(environment),
      stackName: name,
      functionName: outputs.get(STACK_OUTPUTS.unloadFunction) as string,
    };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const variable = Object.keys(OUTPUT_OF_ENV).find((v) => error.message.startsWith(`${v}:`));
    if (!variable) throw error;
    throw new InputError(
      `--stack: ${name}'s output ${OUTPUT_OF_ENV[variable]}${error.message.slice(variable.length)}`,
    );
  }
}
