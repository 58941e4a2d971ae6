/**
 * Watching a database that can go away (PostgreSQL): while the engine is started, ping it every
 * interval; log once when it stops answering and once when it answers again; and when it answers
 * again — or after a store failure was reported — run the recovery callback, so runs that lost
 * their supervision in the outage resume without a restart. Knows nothing about runs; the
 * engine core supplies `ping` and `recover`. Invariants: checks never overlap; a failed
 * recovery is retried at the next answered ping; nothing runs after `stop()`.
 */
import type { Awaitable } from "@promenade/workflow/records";
import type { Clock } from "@promenade/workflow/clock";

/** Options of {@link DatabaseWatch}. */
export interface DatabaseWatchOptions {
  /** One trivial read; throws (rejects) while the database cannot be reached. */
  ping: () => Awaitable<void>;
  /** Names the database in log lines. */
  label: string;
  clock: Clock;
  /** Ms between checks. */
  intervalMs: number;
  log: (line: string) => void;
  /** Resumes what the outage interrupted. Called after the database answers again. */
  recover: () => Promise<void>;
}

/** The ping loop of one started engine. */
export class DatabaseWatch {
  readonly #options: DatabaseWatchOptions;
  #loop: AbortController | null = null;
  #down = false;
  #needsRecovery = false;

  constructor(options: DatabaseWatchOptions) {
    this.#options = options;
  }

  /** Whether the last check found the database unreachable. */
  get down(): boolean {
    return this.#down;
  }

  /** Starts the loop (first check after one interval). Idempotent. */
  start(): void {
    if (this.#loop !== null) return;
    const controller = new AbortController();
    this.#loop = controller;
    void this.#run(controller.signal);
  }

  /** Stops the loop; a recovery in progress finishes on its own. Idempotent. */
  stop(): void {
    this.#loop?.abort();
    this.#loop = null;
  }

  /** A store call failed somewhere: recover at the next answered ping. */
  reportFailure(): void {
    this.#needsRecovery = true;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { clock, intervalMs } = this.#options;
    while (!signal.aborted) {
      try {
        await clock.sleep(intervalMs, signal);
      } catch {
        if (signal.aborted) return;
      }
      if (signal.aborted) return;
      await this.#check(signal);
    }
  }

  async #check(signal: AbortSignal): Promise<void> {
    const { ping, label, log, recover } = this.#options;
    try {
      await ping();
    } catch (error) {
      if (!this.#down) {
        log(
          `database unavailable: ${label}: ${describe(error)} — runs in progress resume once it answers again`,
        );
      }
      this.#down = true;
      this.#needsRecovery = true;
      return;
    }
    if (signal.aborted) return;
    if (this.#down) log(`database available again: ${label}`);
    this.#down = false;
    if (!this.#needsRecovery) return;
    this.#needsRecovery = false;
    try {
      await recover();
    } catch (error) {
      this.#needsRecovery = true;
      log(`recovery after the database outage failed (retrying): ${describe(error)}`);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
