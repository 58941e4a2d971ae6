/**
 * The `Scheduler`: one object over the two halves of scheduling — cron fires (`CronFires`: when a
 * cron run exists) and the dispatch gate (`DispatchGate`: when a queued run may execute) — plus
 * the tick loop that drives them on an injected clock. It decides *when*; the store records and
 * `dispatch` executes. It knows nothing about processes or programs.
 * Over a store that answers with values (SQLite), `tick()` and the release calls finish before
 * they return; over one that answers with promises they return a promise. Ticks never overlap.
 */
import { wallClock } from "@promenade/workflow/clock";
import type { Clock } from "@promenade/workflow/clock";
import { EngineError } from "@promenade/workflow/errors";
import { always, andThen, isPromiseLike, type Awaitable } from "@promenade/workflow/records";
import { CronFires } from "./cron-fires.ts";
import { DispatchGate, type GatedRun } from "./dispatch-gate.ts";
import { messageOf } from "./internal/message-of.ts";
import type { Dispatch, SchedulerStore } from "./ports.ts";

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  /** Persistence. */
  store: SchedulerStore;
  /** Executes a queued run; the engine wires the supervisor (fire-and-forget). */
  dispatch: Dispatch;
  /** Time source; default the wall clock. */
  clock?: Clock;
  /** Diagnostics sink (notices, contained errors, slow ticks); default one line to stderr. */
  log?: (line: string) => void;
  /** Loop cadence in ms, integer > 0; default `1000`. */
  tickIntervalMs?: number;
  /** Ticks slower than this (ms, by `clock`) are logged; default `250`. */
  tickBudgetMs?: number;
  /** Due fires older than `now −` this (ms) go through the catch-up policy; default `300000`. */
  lateFireThresholdMs?: number;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new EngineError(
      "VALIDATION",
      `Scheduler option ${name} must be an integer > 0, got ${String(value)}.`,
      `Pass ${name} in milliseconds or leave it out for the default (${fallback}).`,
    );
  }
  return value;
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Cron firing, catch-up and the dispatch gate. Drive it with {@link Scheduler.tick} (tests,
 * embedded mode) or {@link Scheduler.start} (the background loop).
 */
export class Scheduler {
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #tickIntervalMs: number;
  readonly #tickBudgetMs: number;
  readonly #fires: CronFires;
  readonly #gate: DispatchGate;

  #ticking = false;
  /** The running tick when it waits on the store. */
  #tickInFlight: Promise<void> | null = null;
  /** The one tick queued behind the running one, shared by every caller that asked meanwhile. */
  #nextTick: Promise<void> | null = null;
  #loop: AbortController | null = null;

  /** @throws EngineError `VALIDATION` for a non-positive or non-integer duration option. */
  constructor(options: SchedulerOptions) {
    this.#clock = options.clock ?? wallClock;
    this.#log = options.log ?? defaultLog;
    this.#tickIntervalMs = positiveInteger("tickIntervalMs", options.tickIntervalMs, 1000);
    this.#tickBudgetMs = positiveInteger("tickBudgetMs", options.tickBudgetMs, 250);
    const lateFireThresholdMs = positiveInteger(
      "lateFireThresholdMs",
      options.lateFireThresholdMs,
      300_000,
    );
    this.#fires = new CronFires({ store: options.store, log: this.#log, lateFireThresholdMs });
    this.#gate = new DispatchGate({
      store: options.store,
      dispatch: options.dispatch,
      log: this.#log,
      // Inside a tick the rows were just listed: reuse them instead of one read per run.
      knownWorkflow: (id) => (this.#ticking ? this.#fires.workflow(id) : undefined),
    });
  }

  /**
   * Start the loop: `tick()` (begun inside this call; finished inside it over a synchronous
   * store), then `clock.sleep(tickIntervalMs)` after the tick settled, repeat. Idempotent. A tick
   * that fails is logged and the loop goes on.
   */
  start(): void {
    if (this.#loop !== null) return;
    const controller = new AbortController();
    this.#loop = controller;
    void this.#runLoop(controller.signal);
  }

  /**
   * Stop the loop: aborts the pending sleep; no tick starts afterwards. A tick already waiting on
   * the store finishes ({@link Scheduler.idle} settles then). Idempotent.
   */
  stop(): void {
    this.#loop?.abort();
    this.#loop = null;
  }

  /** Settles once no tick and no release pass is running; never rejects. */
  async idle(): Promise<void> {
    for (;;) {
      const tick = this.#nextTick ?? this.#tickInFlight;
      if (tick !== null) await tick.catch(() => undefined);
      await this.#gate.idle();
      if (this.#nextTick === null && this.#tickInFlight === null && !this.#gate.releasing) return;
    }
  }

  /**
   * One pass: fire every due cron trigger (applying catch-up on first sight), then
   * {@link Scheduler.releaseQueued}. Errors of one workflow are logged once and skipped; only a
   * store-wide failure (e.g. a closed database) throws — or rejects, over an asynchronous store.
   * Over a synchronous store the pass is complete when this returns. Called while a pass waits
   * on the store, it returns a promise of one more pass after it (callers asking meanwhile share
   * it); called from inside a synchronous pass (a `dispatch` callback), it does nothing.
   */
  tick(): Awaitable<void> {
    const running = this.#tickInFlight;
    if (running !== null) {
      this.#nextTick ??= running.then(this.#tickAfter, this.#tickAfter);
      return this.#nextTick;
    }
    if (this.#ticking) return; // re-entered from a dispatch callback
    this.#ticking = true;
    const now = this.#clock.now();
    const result = always(
      () =>
        andThen(this.#fires.run(now), () =>
          andThen(this.#gate.releaseQueued(), () => {
            const tookMs = this.#clock.now() - now;
            if (tookMs > this.#tickBudgetMs) {
              this.#log(`[scheduler] tick took ${tookMs}ms (budget ${this.#tickBudgetMs}ms)`);
            }
          }),
        ),
      () => {
        this.#ticking = false;
        this.#tickInFlight = null;
      },
    );
    if (isPromiseLike(result) && this.#ticking) this.#tickInFlight = result;
    return result;
  }

  readonly #tickAfter = (): Awaitable<void> => {
    this.#nextTick = null;
    return this.tick();
  };

  /**
   * The dispatch half of a tick: offers queued runs, oldest first, to the concurrency gate and
   * dispatches those it admits. Child runs (`parentRunId` set) bypass the gate. Safe to call at
   * any time, including from inside `dispatch`; overlapping calls never admit a run twice.
   */
  releaseQueued(): Awaitable<void> {
    return this.#gate.releaseQueued();
  }

  /**
   * Release after the caller queued one new run (the engine's `startRun`). Same outcome as
   * {@link Scheduler.releaseQueued}, but skips the queued-runs query when the gate has nothing
   * to decide: the run is a child run or its workflow's concurrency is `unlimited`, and the last
   * release pass left no queued run behind. Otherwise it is exactly `releaseQueued()`.
   */
  releaseStarted(run: GatedRun): Awaitable<void> {
    return this.#gate.releaseStarted(run);
  }

  async #runLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.tick();
      } catch (error) {
        this.#log(`[scheduler] tick failed: ${messageOf(error)}`);
      }
      if (signal.aborted) break;
      try {
        await this.#clock.sleep(this.#tickIntervalMs, signal);
      } catch (error) {
        if (signal.aborted) break;
        this.#log(`[scheduler] loop sleep failed: ${messageOf(error)}`);
      }
    }
  }
}
