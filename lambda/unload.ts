import { performance } from 'node:perf_hooks';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { METRIC_NAMESPACE, METRICS, SERVICE_NAME } from '../src/contract';
import { deploymentFrom, openAwsEngine } from '../src/engines/aws/engine';
import { handleUnload, outcomeMetrics, parseUnloadEvent, UnloadOutcome } from '../src/runtime/unload';
import { checkClients, clients, logger, logProgress, SAFETY_MARGIN_MS } from './clients';

const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME });

/** The unload Lambda: the yearly schedule, Data API completion events and manual invocations. */
export async function handler(event: unknown, context: Context): Promise<UnloadOutcome> {
  const started = performance.now();
  try {
    const request = parseUnloadEvent(event);
    // The stack inlines the configuration at bundle time (no 4 KB environment limit).
    const environment = { ...process.env, ARCHIVE_CONFIG: process.env.ARCHIVE_CONFIG };
    const engine = openAwsEngine(deploymentFrom(environment), clients, {
      remainingMs: () => context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
      progress: logProgress,
      checks: checkClients,
    });
    const outcome = await handleUnload(request, engine, () => new Date());
    logger.info('invocation done', { outcome: outcome.outcome });
    for (const m of outcomeMetrics(outcome, performance.now() - started))
      metrics.addMetric(m.name, m.unit, m.value);
    return outcome;
  } catch (error) {
    logger.error('invocation failed', error as Error);
    metrics.addMetric(METRICS.runFailures, 'Count', 1);
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
