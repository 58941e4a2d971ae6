/**
 * A manual `Clock` for deterministic tests: `now()` only moves when the test calls `advance`,
 * which resolves every sleep whose deadline has passed (in deadline order).
 */
import { EngineError } from "@promenade/workflow/errors";
import type { Clock } from "../ports.ts";

/** A clock whose time the test drives. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` and wakes due sleepers. */
  advance(ms: number): void;
  /** Sleeps not yet due. */
  pendingSleeps(): number;
}

/** Creates a manual clock starting at `start` ms (default 1 700 000 000 000). */
export function createManualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  const sleepers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(new EngineError("INTERNAL", "The sleep was aborted."));
          return;
        }
        const entry = { at: now + Math.max(0, ms), resolve };
        sleepers.push(entry);
        signal?.addEventListener(
          "abort",
          () => {
            const index = sleepers.indexOf(entry);
            if (index !== -1) sleepers.splice(index, 1);
            reject(new EngineError("INTERNAL", "The sleep was aborted."));
          },
          { once: true },
        );
      });
    },
    advance(ms) {
      now += ms;
      const due = sleepers.filter((s) => s.at <= now).sort((a, b) => a.at - b.at);
      for (const sleeper of due) {
        sleepers.splice(sleepers.indexOf(sleeper), 1);
        sleeper.resolve();
      }
    },
    pendingSleeps: () => sleepers.length,
  };
}
