/**
 * The one time source of every package: epoch-ms `now()` and an abortable `sleep`. Every
 * persisted timestamp, timer, budget and cron decision goes through one, so a test can drive time
 * with a manual clock (`@promenade/workflow/testing`) instead of waiting.
 */

/** Time source: the wall clock in production, a manual clock in tests. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
