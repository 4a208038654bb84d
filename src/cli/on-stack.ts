import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GlueClient } from '@aws-sdk/client-glue';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { RunTarget } from '../core/cutoff';
import { operatorStatementPrefix } from '../contract';
import { InternalError, RunFailedError } from '../core/errors';
import { AWS_RETRY, redshiftDataClient } from '../engines/aws/clients';
import { openAwsEngine } from '../engines/aws/engine';
import { Archiver, type ArchiveDeps, type ProgressEvent } from '../protocol/archive';
import { ArchiveReader } from '../protocol/reader';
import type { UnloadOutcome } from '../runtime/unload';
import type { Args } from './args';
import { runRemotely, type RemoteResult } from './remote';
import { printed, type CommandOutcome } from './render';
import { findDeployment, type StackDeployment } from './stack';

/** How the command line reaches a deployed stack; tests pass mocked clients and an engine of their own. */
export interface StackAccess {
  readonly cloudFormation: CloudFormationClient;
  readonly lambda: LambdaClient;
  /** The protocol's ports on the deployment, with the operator's credentials. */
  engine(deployment: StackDeployment, progress: (event: ProgressEvent) => void): ArchiveDeps;
  readonly sleep: (ms: number) => Promise<void>;
  /** How often the ledger is read while the function works. */
  readonly pollMs: number;
}

/** The unload function runs at most 15 minutes (Lambda's limit); the answer may take as long. */
const INVOKE_TIMEOUT_MS = 16 * 60_000;
/** How long one read of the ledger or the catalog may wait for the Data API. */
const READ_BUDGET_MS = 15 * 60_000;

/** The operator's credentials, in `region` or the SDK's default Region. */
export function stackAccess(region: string | undefined): StackAccess {
  const common = { ...AWS_RETRY, ...(region ? { region } : {}) };
  const clients = {
    redshiftData: redshiftDataClient(common),
    s3: new S3Client(common),
    glue: new GlueClient(common),
    athena: new AthenaClient(common),
  };
  return {
    cloudFormation: new CloudFormationClient(common),
    lambda: new LambdaClient({ ...common, requestHandler: { requestTimeout: INVOKE_TIMEOUT_MS } }),
    engine: (deployment, progress) => {
      const deadline = Date.now() + READ_BUDGET_MS;
      return openAwsEngine(deployment, clients, { remainingMs: () => deadline - Date.now(), progress });
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    pollMs: 5_000,
  };
}

/** What the function answered to run, abort, restore, repair or preflight, as the command line prints it. */
function answeredAndFollowed(result: RemoteResult, functionName: string): CommandOutcome {
  const { outcome, followed } = result;
  if (followed) return printed.run(followed.report);
  return answered(outcome, functionName);
}

function answered(outcome: UnloadOutcome, functionName: string): CommandOutcome {
  switch (outcome.outcome) {
    case 'run':
      return printed.run(outcome.report);
    case 'preflight':
      return printed.preflight(outcome.preflight);
    case 'restored':
      return printed.restore(outcome.restore);
    case 'repaired':
      return printed.repair(outcome.repair);
    case 'aborted':
      return printed.aborted(outcome.runId);
    case 'waiting':
      throw new RunFailedError(
        `${functionName} changed nothing: statements of the stack are running (${outcome.statements.map((s) => s.name).join(', ')}); ` +
          'they end on their own: try again once they have',
      );
    default:
      throw new InternalError(`${functionName} answered ${JSON.stringify(outcome)}`);
  }
}

/** The manual event that has the function do a command. */
function eventOf(args: Args, target: RunTarget | undefined): Record<string, unknown> {
  if (args.command === 'restore') {
    return {
      action: 'restore',
      year: args.year,
      ...(args.table === undefined ? {} : { table: args.table }),
      ...(args.deleteFiles ? { deleteFiles: true } : {}),
    };
  }
  if (args.command === 'repair')
    return { action: 'repair', ...(args.acceptLost ? { acceptLost: true } : {}) };
  return { action: args.command, ...(args.cutoff && target ? { cutoff: target.cutoff } : {}) };
}

/**
 * One command on the deployed stack. `plan`, `status` and `audit` read with the operator's
 * credentials and change nothing; `run`, `abort`, `restore`, `repair` and `preflight` are the function's to
 * do (it is the one driver, and preflight checks its identity, not the operator's).
 */
export async function runOnStack(
  args: Args,
  access: StackAccess,
  target: RunTarget | undefined,
  progress: (event: ProgressEvent) => void,
): Promise<CommandOutcome> {
  if (args.engine.kind !== 'stack') throw new InternalError('runOnStack: not a stack engine');
  const deployment = await findDeployment(access.cloudFormation, args.engine.stack, args.config);
  const engine = access.engine(
    { ...deployment, statementPrefix: operatorStatementPrefix(deployment.stackName) },
    progress,
  );
  const reader = new ArchiveReader(engine);
  if (args.command === 'plan') return printed.plan(await new Archiver(engine).plan(target as RunTarget));
  if (args.command === 'status') return printed.status(await reader.status());
  if (args.command === 'audit') return printed.audit(await reader.audit(args.deep));
  const result = await runRemotely(
    {
      lambda: access.lambda,
      functionName: deployment.functionName,
      statementPrefix: deployment.statementPrefix,
      reader,
      progress,
      sleep: access.sleep,
      pollMs: access.pollMs,
    },
    eventOf(args, target),
  );
  return answeredAndFollowed(result, deployment.functionName);
}
