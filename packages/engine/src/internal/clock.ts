/**
 * The default wall clock (spec 02 §2.2): `Date.now` plus an abortable `setTimeout` sleep that
 * chunks waits above the 2^31−1 ms timer limit (Node would otherwise fire them at once).
 */
import type { EngineClock } from "../options.ts";

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Create the wall clock every engine uses unless `EngineOptions.clock` is given. */
export function wallClock(): EngineClock {
  return {
    now: () => Date.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(abortReason(signal));
          return;
        }
        let remainingMs = Math.max(0, ms);
        let timer: NodeJS.Timeout | undefined;
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(abortReason(signal));
        };
        const arm = (): void => {
          const stepMs = Math.min(remainingMs, MAX_TIMER_MS);
          remainingMs -= stepMs;
          timer = setTimeout(() => {
            if (remainingMs > 0) {
              arm();
              return;
            }
            signal?.removeEventListener("abort", onAbort);
            resolve();
          }, stepMs);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        arm();
      }),
  };
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error
    ? reason
    : new Error("The operation was aborted.", { cause: reason });
}
