const RETRYABLE = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ActiveStatementsExceededException',
  'ServiceUnavailableException',
  'InternalServerException',
  'SlowDown',
]);

/** Waits; tests pass one that does not. */
export type Sleep = (ms: number) => Promise<void>;

/** A real wait. */
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `send` again after throttling or a passing service fault, with exponential backoff: the
 * yearly run must not fail because the Data API or Glue asked it to slow down.
 */
export async function withRetry<T>(send: () => Promise<T>, wait: Sleep = sleep, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (!RETRYABLE.has(name) || attempt >= attempts) throw error;
      await wait(Math.min(200 * 2 ** attempt, 10_000));
    }
  }
}
