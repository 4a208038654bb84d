import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RedshiftClient } from '@aws-sdk/client-redshift';
import { RedshiftServerlessClient } from '@aws-sdk/client-redshift-serverless';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { CONFIG_FILE, SERVICE_NAME } from '../src/contract';
import { AWS_RETRY, redshiftDataClient } from '../src/engines/aws/clients';
import type { ProgressEvent } from '../src/protocol/archive';
import type { AwsClients } from '../src/engines/aws/engine';

/** Created once per container, reused across invocations; they retry as `AWS_RETRY` says. */
export const clients: AwsClients = {
  redshiftData: redshiftDataClient(),
  s3: new S3Client(AWS_RETRY),
  glue: new GlueClient(AWS_RETRY),
  athena: new AthenaClient(AWS_RETRY),
};

/** Preflight's AWS checks read the warehouse's roles and the account's Lambda settings. */
export const checkClients = {
  redshift: new RedshiftClient(AWS_RETRY),
  serverless: new RedshiftServerlessClient(AWS_RETRY),
  lambda: new LambdaClient(AWS_RETRY),
};

/** One structured log line per phase and table. */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/**
 * Sends protocol progress to the log. The message goes as the line's message, not among its keys:
 * Powertools drops a `message` key, warning on every line that it is reserved.
 */
export const logProgress = ({ message, ...details }: ProgressEvent): void => logger.info(message, details);

/** Stop waiting for a statement this long before the Lambda's own timeout. */
export const SAFETY_MARGIN_MS = 60_000;

let configText: string | undefined;

/**
 * The configuration the stack wrote beside the handler in the function's code, read once per
 * container. LAMBDA_TASK_ROOT is where Lambda puts that code (Lambda Developer Guide, "Defined
 * runtime environment variables").
 */
export function deployedConfig(): string {
  const root = process.env.LAMBDA_TASK_ROOT;
  if (!root) throw new Error('LAMBDA_TASK_ROOT is missing: the handler runs in Lambda only');
  configText ??= readFileSync(join(root, CONFIG_FILE), 'utf8');
  return configText;
}
