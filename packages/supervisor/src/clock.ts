/**
 * The default wall clock: `Date.now` plus an abortable sleep that waits in
 * chunks, because a single `setTimeout` above 2^31−1 ms fires immediately.
 */
import { EngineError } from "@promenade/workflow/errors";
import type { Clock } from "./ports.ts";

const MAX_TIMER_MS = 2_147_483_647;

/** `Date.now` + chunked, abortable `setTimeout`. Timers are unref'd only by the caller's choice. */
export const wallClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepChunked(ms, signal),
};

function sleepChunked(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortError(signal));
      return;
    }
    const end = Date.now() + Math.max(0, ms);
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      reject(abortError(signal));
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

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new EngineError("INTERNAL", "The sleep was aborted.");
}
