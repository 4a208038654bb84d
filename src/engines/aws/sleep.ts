/**
 * Waits between polls of a running statement or query; tests pass one that does not. Retries of
 * failed calls are the SDK's (see `clients.ts`), not this.
 */
export type Sleep = (ms: number) => Promise<void>;

/** A real wait. */
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
