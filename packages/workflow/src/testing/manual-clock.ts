/**
 * A manual `Clock` for deterministic tests: `now()` only moves when the test calls `advance` or
 * `set`, and a sleep resolves once the clock has reached its deadline (at once when it already
 * has: a sleep of 0 ms). Due sleeps resolve in deadline order. No real timers are involved.
 */
import { sleepAbortError } from "../clock/abort.ts";
import type { Clock } from "../clock/clock.ts";

/** A clock whose time the test drives. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` (a negative value counts as 0) and wakes the due sleeps. */
  advance(ms: number): void;
  /** Jumps to `ms` (may go backwards, to replay time) and wakes the due sleeps. */
  set(ms: number): void;
  /** Sleeps not yet due. */
  pendingSleeps(): number;
}

interface Sleeper {
  at: number;
  resolve: () => void;
}

/** A manual clock starting at `startMs` (epoch ms; default `Date.UTC(2026, 0, 1)`, a minute boundary). */
export function createManualClock(startMs: number = Date.UTC(2026, 0, 1)): ManualClock {
  let now = startMs;
  let sleepers: Sleeper[] = [];
  const wake = (): void => {
    const due = sleepers.filter((s) => s.at <= now).sort((a, b) => a.at - b.at);
    sleepers = sleepers.filter((s) => s.at > now);
    for (const sleeper of due) sleeper.resolve();
  };
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(sleepAbortError(signal));
          return;
        }
        const sleeper: Sleeper = {
          at: now + Math.max(0, ms),
          resolve: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          sleepers = sleepers.filter((s) => s !== sleeper);
          reject(sleepAbortError(signal));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        sleepers.push(sleeper);
        if (sleeper.at <= now) wake();
      });
    },
    advance(ms) {
      now += Math.max(0, ms);
      wake();
    },
    set(ms) {
      now = ms;
      wake();
    },
    pendingSleeps: () => sleepers.length,
  };
}
