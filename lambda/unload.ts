import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { CONFIG_FILE, ENV, METRIC_NAMESPACE, SERVICE_NAME } from '../src/contract';
import { deploymentFrom, openAwsEngine } from '../src/engines/aws/engine';
import { handleUnload, outcomeMetrics, parseUnloadEvent, UnloadOutcome } from '../src/runtime/unload';
import { checkClients, clients, logger, logProgress, SAFETY_MARGIN_MS } from './clients';
import { countFailures, withLambdaContext } from './middleware';

const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME });

let configText: string | undefined;

/**
 * The configuration the stack wrote beside this handler in the function's code, read once per
 * container. LAMBDA_TASK_ROOT is where Lambda puts that code (Lambda Developer Guide, "Defined
 * runtime environment variables").
 */
function deployedConfig(): string {
  const root = process.env.LAMBDA_TASK_ROOT;
  if (!root) throw new Error('LAMBDA_TASK_ROOT is missing: the unload handler runs in Lambda only');
  configText ??= readFileSync(join(root, CONFIG_FILE), 'utf8');
  return configText;
}

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
  logger.info('invocation done', { outcome: outcome.outcome });
  for (const m of outcomeMetrics(outcome, performance.now() - started))
    metrics.addMetric(m.name, m.unit, m.value);
  return outcome;
}

/**
 * The unload Lambda: the yearly schedule, Data API completion events and manual invocations.
 * `logMetrics` publishes the invocation's metrics once, after it returns or throws. No cold-start
 * metric: outside the yearly run the function is invoked about once a day (watchdog, monthly
 * preflight), so nearly every invocation is cold; no alarm would read it, and each log line
 * already carries `cold_start`.
 */
export const handler = withLambdaContext(logger, unload)
  .use(logMetrics(metrics))
  .use(countFailures(logger, metrics));
