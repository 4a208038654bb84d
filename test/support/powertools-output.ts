/**
 * Import this before the handlers to read what they write. Their Logger and Metrics read these
 * variables once, when the handler modules load; test/setup-env.ts silences both for every other
 * test file (each test file gets its own copy of the environment).
 */
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
// As Lambda sets it for an on-demand function: Powertools reports a cold start only then.
process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';

/** One line a handler wrote: Powertools writes one JSON document per line. */
export interface Written {
  readonly stream: 'stdout' | 'stderr';
  readonly json: Record<string, unknown>;
}

/**
 * Keeps every line written to standard output and error from now on, instead of printing it, until
 * `jest.restoreAllMocks()`. Powertools' Logger writes INFO to stdout and ERROR to stderr; Metrics
 * writes its EMF documents to stdout, where Lambda passes them to CloudWatch.
 */
export function captureOutput(): Written[] {
  const written: Written[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk)
        .split('\n')
        .filter((l) => l.startsWith('{'))) {
        written.push({ stream, json: JSON.parse(line) as Record<string, unknown> });
      }
      return true;
    });
  }
  return written;
}
