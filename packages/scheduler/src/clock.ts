/**
 * The default clock: `Date.now` plus an abortable `setTimeout` sleep, chunked so sleeps above
 * 2^31−1 ms (setTimeout's limit, where Node fires after 1 ms instead) still wait the full time.
 * Knows nothing about scheduling.
 */
import type { Clock } from "./ports.ts";

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The signal's reason when it is an Error (the default AbortError is), else a plain one. */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error("The sleep was aborted.");
}

/** The wall clock: the default `Clock` when none is injected. */
export const wallClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(abortReason(signal));
        return;
      }
      let remaining = Math.max(0, ms);
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal));
      };
      const step = (): void => {
        if (remaining <= 0) {
          signal?.removeEventListener("abort", onAbort);
          resolve();
          return;
        }
        const chunk = Math.min(remaining, MAX_TIMEOUT_MS);
        remaining -= chunk;
        timer = setTimeout(step, chunk);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      step();
    });
  },
};
