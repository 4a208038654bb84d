import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RedshiftClient } from '@aws-sdk/client-redshift';
import { RedshiftServerlessClient } from '@aws-sdk/client-redshift-serverless';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from '../src/contract';
import type { ProgressEvent } from '../src/protocol/archive';
import type { AwsClients } from '../src/runtime/aws-engine';

/** Created once per container, reused across invocations. */
export const clients: AwsClients = {
  redshiftData: new RedshiftDataClient({}),
  s3: new S3Client({}),
  glue: new GlueClient({}),
  athena: new AthenaClient({}),
};

/** Preflight's AWS checks read the warehouse's roles and the account's Lambda settings. */
export const checkClients = {
  redshift: new RedshiftClient({}),
  serverless: new RedshiftServerlessClient({}),
  lambda: new LambdaClient({}),
};

/** One structured log line per phase and table. */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/** Sends protocol progress to the log. */
export const logProgress = (event: ProgressEvent): void => logger.info(event.message, { ...event });

/** Stop waiting for a statement this long before the Lambda's own timeout. */
export const SAFETY_MARGIN_MS = 60_000;
