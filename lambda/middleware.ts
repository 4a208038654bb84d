import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import { METRICS } from '../src/contract';

/**
 * `handler` under middy, with Powertools' `injectLambdaContext`: every line `logger` writes during
 * an invocation carries the Lambda context (`function_request_id`, `function_name`,
 * `function_arn`, `function_memory_size`, `cold_start`).
 */
export function withLambdaContext<E, R>(
  logger: Logger,
  handler: (event: E, context: Context) => Promise<R>,
): MiddyfiedHandler<E, R> {
  // Middy's early timeout (on by default, 5 ms before the deadline) is off. It answers while the
  // handler's promise runs on, and Lambda, seeing no timeout, keeps the environment: background
  // work resumes when Lambda reuses it (Lambda Developer Guide, execution environment lifecycle),
  // so protocol steps of the abandoned invocation would run beside the next one. The handlers'
  // own waits end SAFETY_MARGIN_MS before the deadline; past that, Lambda's timeout ends it all.
  return middy(handler, { timeoutEarlyInMillis: 0 }).use(injectLambdaContext(logger));
}

/**
 * A failed invocation is logged (with the Lambda context) and counted once as
 * `METRICS.runFailures`, which the unload errors alarm reads. Its `onError` runs before that of
 * the middlewares used before it (middy unwinds in reverse), so `logMetrics` then publishes it.
 */
export function countFailures(logger: Logger, metrics: Metrics): MiddlewareObj {
  return {
    onError: ({ error }) => {
      logger.error('invocation failed', error as Error);
      metrics.addMetric(METRICS.runFailures, MetricUnit.Count, 1);
    },
  };
}
