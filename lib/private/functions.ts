import { join } from 'node:path';
import {
  RemovalPolicy,
  aws_lambda as lambda,
  aws_lambda_nodejs as nodejs,
  aws_logs as logs,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ArchiveConfig, configJson } from '../../src/config/config';
import { ENV, SERVICE_NAME } from '../../src/contract';

/** Where the handler entry points are: `lambda/`, thin files over `src/runtime/`. */
const HANDLERS = join(__dirname, '..', '..', 'lambda');

/**
 * A function of the stack, bundled from `lambda/<file>` with the local esbuild: Node.js 22 on
 * ARM, JSON logs kept a year, and the configuration inlined into the bundle (a Lambda's
 * environment holds at most 4 KB).
 */
export function bundledFunction(
  scope: Construct,
  id: string,
  entry: { readonly file: string; readonly exported: string },
  config: ArchiveConfig,
  options: Omit<nodejs.NodejsFunctionProps, 'entry' | 'handler'>,
): nodejs.NodejsFunction {
  const { environment, ...rest } = options;
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return new nodejs.NodejsFunction(scope, id, {
    entry: join(HANDLERS, entry.file),
    handler: entry.exported,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 512,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: {
      ...environment,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    bundling: {
      minify: true,
      sourceMap: true,
      target: 'node22',
      define: { [`process.env.${ENV.config}`]: JSON.stringify(configJson(config)) },
    },
    ...rest,
  });
}
