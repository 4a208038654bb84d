import { RedshiftClient } from '@aws-sdk/client-redshift';
import { RedshiftServerlessClient } from '@aws-sdk/client-redshift-serverless';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { SERVICE_NAME } from '../src/contract';
import { AWS_RETRY } from '../src/engines/aws/clients';
import * as association from '../src/runtime/role-association';
import { withLambdaContext } from './middleware';

// Its own logger, not the one of ./clients: that module creates the Data API, S3, Glue and Athena
// clients, which this function never uses.
const logger = new Logger({ serviceName: SERVICE_NAME });
const clients: association.AssociationClients = {
  redshift: new RedshiftClient(AWS_RETRY),
  serverless: new RedshiftServerlessClient(AWS_RETRY),
  log: (message, details) => logger.info(message, details),
};

/** Provider framework onEvent: validates and names the association (cluster or namespace, and role). */
export const onEvent = withLambdaContext(logger, async (event: CloudFormationCustomResourceEvent) =>
  association.onEvent(event, clients),
);

/** Provider framework isComplete: adds (or removes) the role, and waits until the warehouse has applied it. */
export const isComplete = withLambdaContext(logger, async (event: CloudFormationCustomResourceEvent) =>
  association.isComplete(event, clients),
);
