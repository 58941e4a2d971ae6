/**
 * Reads started at once, results used in the order they were asked for: the lifecycle feed reads
 * the run behind each `run_status` event (the `run` frame carries the Run after the change) and
 * must still emit frames per run in cursor order, while an asynchronous engine may answer reads
 * out of order. One chain: a slow read holds back later results, never reorders them.
 */
import type { Awaitable } from "@promenade/workflow/records";

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** An ordered pipeline of reads. */
export class OrderedReads {
  #tail: Promise<void> = Promise.resolve();

  /**
   * Start `read()` now; call `use(value)` — or `use(null, error)` when the read failed — after
   * every earlier `use` returned. A throw from `use` is swallowed to keep the chain going (log
   * inside `use`).
   */
  push<T>(read: () => Awaitable<T>, use: (value: T | null, error?: unknown) => void): void {
    const started = new Promise<T>((resolve) => resolve(read())).then(
      (value): Outcome<T> => ({ ok: true, value }),
      (error: unknown): Outcome<T> => ({ ok: false, error }),
    );
    this.#tail = this.#tail.then(async () => {
      const outcome = await started;
      try {
        if (outcome.ok) use(outcome.value);
        else use(null, outcome.error ?? new Error("read failed"));
      } catch {
        // Keep the chain alive.
      }
    });
  }

  /** Settles once every read pushed so far has been used. */
  idle(): Promise<void> {
    return this.#tail;
  }
}
