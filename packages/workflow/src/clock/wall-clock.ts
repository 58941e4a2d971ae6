/**
 * The wall clock: `Date.now` plus an abortable sleep that waits in chunks until the deadline,
 * because a single `setTimeout` above 2^31−1 ms fires immediately.
 */
import { sleepAbortError } from "./abort.ts";
import type { Clock } from "./clock.ts";

const MAX_TIMER_MS = 2_147_483_647;

/** `Date.now` + chunked, abortable `setTimeout`: the default `Clock` when none is injected. */
export const wallClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepChunked(ms, signal),
};

function sleepChunked(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(sleepAbortError(signal));
      return;
    }
    const end = Date.now() + Math.max(0, ms);
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      reject(sleepAbortError(signal));
    };
    const step = (): void => {
      const left = end - Date.now();
      if (left <= 0) {
        signal?.removeEventListener("abort", onAbort);
        resolve();
        return;
      }
      timer = setTimeout(step, Math.min(left, MAX_TIMER_MS));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    step();
  });
}
