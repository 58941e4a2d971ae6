/**
 * A manual {@link Clock} for tests: `now()` only moves when the test says so, and sleeps resolve
 * when the clock is advanced past their deadline. No real timers are involved.
 */
import { abortReason } from "../clock.ts";
import type { Clock } from "../ports.ts";

/** A {@link Clock} whose time is set by the test. */
export interface FakeClock extends Clock {
  /** Move time forward by `ms` (≥ 0) and resolve every sleep that is now due. */
  advance(ms: number): void;
  /** Jump to `ms` (may go backwards, to replay time) and resolve every sleep that is due. */
  set(ms: number): void;
}

interface Sleeper {
  wakeAt: number;
  resolve: () => void;
}

/** A fake clock starting at `startMs` (epoch ms; default `Date.UTC(2026, 0, 1)`, a minute boundary). */
export function createFakeClock(startMs: number = Date.UTC(2026, 0, 1)): FakeClock {
  let now = startMs;
  let sleepers: Sleeper[] = [];
  const wake = (): void => {
    const due = sleepers.filter((s) => s.wakeAt <= now);
    sleepers = sleepers.filter((s) => s.wakeAt > now);
    for (const sleeper of due) sleeper.resolve();
  };
  return {
    now: () => now,
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(abortReason(signal));
          return;
        }
        const sleeper: Sleeper = {
          wakeAt: now + Math.max(0, ms),
          resolve: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          sleepers = sleepers.filter((s) => s !== sleeper);
          reject(abortReason(signal));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        sleepers.push(sleeper);
        if (ms <= 0) wake();
      });
    },
    advance(ms: number): void {
      now += Math.max(0, ms);
      wake();
    },
    set(ms: number): void {
      now = ms;
      wake();
    },
  };
}
