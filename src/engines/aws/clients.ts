import {
  ActiveStatementsExceededException,
  RedshiftDataClient,
  RedshiftDataClientConfig,
} from '@aws-sdk/client-redshift-data';

/**
 * How every AWS SDK client of the archive retries a failed call: the yearly run must not fail
 * because a service asked it to slow down or had a passing fault. The SDK's standard mode
 * (`@smithy/core` 3.41, `submodules/retry`: `getRetryErrorType`, `StandardRetryStrategy`)
 * retries two kinds of error:
 * - throttling (`isThrottlingError`): HTTP 429, or a code in `THROTTLING_ERROR_CODES`, which holds
 *   ThrottlingException, TooManyRequestsException and S3's SlowDown;
 * - transient (`isTransientError`): HTTP 500, 502, 503 or 504 (`TRANSIENT_ERROR_STATUS_CODES`),
 *   which covers ServiceUnavailableException and InternalServerException, and timeouts and
 *   dropped connections.
 * Any other error (access denied, validation, not found) fails at once. The wait before a retry
 * is random, up to 1 s after throttling (50 ms otherwise), doubling with each retry, at most
 * 20 s; and a client stops retrying while its retry quota (a budget that successes refill) is
 * spent, so a long outage fails fast instead of multiplying calls. Six attempts in all.
 */
export const AWS_RETRY = { maxAttempts: 6, retryMode: 'standard' } as const;

/**
 * A Data API client that retries as {@link AWS_RETRY} says, and also retries
 * ActiveStatementsExceededException as throttling. The Data API answers it (HTTP 400) when the
 * cluster runs too many statements at once, and it passes as they end; the SDK's lists do not
 * name it, so standard mode alone would fail the run.
 */
export function redshiftDataClient(config: RedshiftDataClientConfig = {}): RedshiftDataClient {
  const client = new RedshiftDataClient({ ...AWS_RETRY, ...config });
  // Inside the retry middleware, so it sees each attempt's error. The Smithy retryable trait is
  // how the SDK marks a modelled error as retryable; standard mode reads `throttling` from it.
  client.middlewareStack.addRelativeTo(
    <Args, Output>(next: (args: Args) => Promise<Output>) =>
      async (args: Args): Promise<Output> => {
        try {
          return await next(args);
        } catch (error) {
          if (error instanceof ActiveStatementsExceededException) error.$retryable = { throttling: true };
          throw error;
        }
      },
    { name: 'activeStatementsExceededAsThrottling', relation: 'after', toMiddleware: 'retryMiddleware' },
  );
  return client;
}
