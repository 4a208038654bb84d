import { performance } from 'node:perf_hooks';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { ENV, METRIC_NAMESPACE, SERVICE_NAME } from '../src/contract';
import { deploymentFrom, openAwsEngine } from '../src/engines/aws/engine';
import { handleUnload, outcomeMetrics, parseUnloadEvent, UnloadOutcome } from '../src/runtime/unload';
import { checkClients, clients, deployedConfig, logger, logProgress, SAFETY_MARGIN_MS } from './clients';
import { countFailures, withLambdaContext } from './middleware';

const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME });

async function unload(event: unknown, context: Context): Promise<UnloadOutcome> {
  const started = performance.now();
  const request = parseUnloadEvent(event);
  const environment = { ...process.env, [ENV.config]: deployedConfig() };
  const engine = openAwsEngine(deploymentFrom(environment), clients, {
    remainingMs: () => context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
    progress: logProgress,
    checks: checkClients,
  });
  const outcome = await handleUnload(request, engine, () => new Date());
  if (outcome.outcome === 'watchdog') {
    // One line saying whether the watchdog resumed the run, and why.
    const { resumed, reason, resume } = outcome;
    logger.info(resumed ? 'watchdog resumed the run' : 'watchdog reported status', {
      resumed,
      reason,
      ...(resume ? { resume: resume.outcome } : {}),
    });
  }
  logger.info('invocation done', { outcome: outcome.outcome });
  for (const m of outcomeMetrics(outcome, performance.now() - started))
    metrics.addMetric(m.name, m.unit, m.value);
  return outcome;
}

/**
 * The unload Lambda: the yearly schedule, Data API completion events and manual invocations.
 * `logMetrics` publishes the invocation's metrics once, after it returns or throws. No cold-start
 * metric: outside the yearly run the function is invoked about once an hour (the watchdog, the
 * monthly preflight and audit), so many invocations are cold; no alarm would read it, and each log
 * line already carries `cold_start`.
 */
export const handler = withLambdaContext(logger, unload)
  .use(logMetrics(metrics))
  .use(countFailures(logger, metrics));
