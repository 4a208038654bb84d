import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { ENV } from '../src/contract';
import { configFrom, openAwsEngine, statementPrefixFrom } from '../src/engines/aws/engine';
import * as resource from '../src/runtime/custom-resource';
import { clients, deployedConfig, logger, logProgress, SAFETY_MARGIN_MS } from './clients';
import { withLambdaContext } from './middleware';

/** Provider framework onEvent: validates the properties and names the resource. */
export const onEvent = withLambdaContext(logger, async (event: CloudFormationCustomResourceEvent) =>
  resource.onEvent(event),
);

/** Provider framework isComplete: creates (or drops) the schemas and views, a step per poll if need be. */
export const isComplete = withLambdaContext(
  logger,
  async (event: CloudFormationCustomResourceEvent, context: Context) =>
    resource.isComplete(
      event,
      (deployment) =>
        openAwsEngine({ ...deployment, statementPrefix: statementPrefixFrom(process.env) }, clients, {
          remainingMs: () => context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
          progress: logProgress,
        }),
      configFrom({ [ENV.config]: deployedConfig() }),
    ),
);
