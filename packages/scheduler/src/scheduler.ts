/**
 * The `Scheduler` (spec 02 §6): fires due cron triggers, applies the catch-up policy, and offers
 * queued runs to the dispatch gate. It decides *when*; the store records and `dispatch` executes.
 * It knows nothing about processes or programs.
 * Invariants: a due fire creates exactly one run (the run, its fire record and its `queued` event
 * commit in one transaction, and the fire record's primary key turns a replay into a no-op); a
 * tick with nothing due costs one heap peek plus the store reads, never a walk over every trigger;
 * one broken workflow never stops the others; a gated workflow never has two active runs.
 */
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import { wallClock } from "./clock.ts";
import { latestFireAtOrBefore, nextFire, parseSchedule, type Schedule } from "./cron.ts";
import { MinHeap } from "./internal/min-heap.ts";
import {
  concurrencyGroup,
  readCatchUp,
  readCronTriggers,
  type CatchUpPolicy,
  type CronTriggerSpec,
} from "./internal/workflow-config.ts";
import type { Clock, Dispatch, SchedulerStore } from "./ports.ts";

/** Options of {@link Scheduler} (spec 02 §6.1). */
export interface SchedulerOptions {
  /** Persistence (spec 02 §4.8). */
  store: SchedulerStore;
  /** Executes a queued run; the engine wires `supervisor.supervise` (fire-and-forget). */
  dispatch: Dispatch;
  /** Appends the run's `queued` event; called inside the fire transaction. */
  emitQueued: (runId: string) => void;
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

/** Fires counted by catch-up before reporting `≥10000`. */
const CATCH_UP_COUNT_CAP = 10_000;
/** When a trigger has no fire within the cron horizon, look again after this long. */
const RECHECK_MS = 366 * 86_400_000;
const ACTIVE_STATUSES = ["pending", "running", "cancelling"] as const;

interface TriggerState {
  readonly key: string;
  readonly workflowId: string;
  readonly index: number;
  readonly schedule: Schedule;
}

interface WorkflowState {
  readonly id: string;
  readonly slug: string;
  readonly updatedAt: number;
  /** The row's objects as last seen: a store that caches rows makes the change check O(1). */
  readonly manifest: unknown;
  readonly config: unknown;
  readonly catchUp: CatchUpPolicy;
  readonly specs: readonly CronTriggerSpec[];
  readonly triggers: readonly TriggerState[];
  /** The row could not be read (bad cron, bad `catch_up`): no triggers until it changes. */
  readonly broken: boolean;
}

interface WorkflowRowLike {
  id: string;
  slug: string;
  updatedAt: number;
  manifest: unknown;
  config: unknown;
}

interface HeapEntry {
  /** When to look at the trigger again: its next fire instant (or a recheck time). */
  readonly due: number;
  readonly trigger: TriggerState;
  /** `true` when `due` is not a fire instant but a time to recompute one. */
  readonly recheck: boolean;
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether a listed row still matches what the scheduler built from it. `updatedAt` alone misses a
 * redeploy within the same millisecond (a manual test clock), so the acted-on fields are compared
 * too, unless the store handed back the very same objects.
 */
function unchanged(known: WorkflowState, row: WorkflowRowLike): boolean {
  if (known.updatedAt !== row.updatedAt || known.slug !== row.slug) return false;
  if (known.manifest === row.manifest && known.config === row.config) return true;
  try {
    const specs = readCronTriggers(row.manifest);
    if (known.broken || readCatchUp(row.config) !== known.catchUp) return false;
    if (specs.length !== known.specs.length) return false;
    return specs.every((spec, i) => {
      const before = known.specs[i];
      return (
        before !== undefined &&
        before.index === spec.index &&
        before.expr === spec.expr &&
        before.timezone === spec.timezone
      );
    });
  } catch {
    return known.broken;
  }
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Cron firing, catch-up and the dispatch gate (spec 02 §6). Drive it with {@link Scheduler.tick}
 * (tests, embedded mode) or {@link Scheduler.start} (the background loop).
 */
export class Scheduler {
  readonly #store: SchedulerStore;
  readonly #dispatch: Dispatch;
  readonly #emitQueued: (runId: string) => void;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #tickIntervalMs: number;
  readonly #tickBudgetMs: number;
  readonly #lateFireThresholdMs: number;

  /** The latest fire instant handled per `workflowId#index`; survives redeploys. */
  readonly #anchors = new Map<string, number>();
  readonly #workflows = new Map<string, WorkflowState>();
  /** The live state of each trigger; heap entries pointing at another object are stale. */
  readonly #triggers = new Map<string, TriggerState>();
  /** Triggers whose first sight (history lookup + catch-up) has not succeeded yet. */
  readonly #unseen = new Set<TriggerState>();
  readonly #heap = new MinHeap<HeapEntry>((entry) => entry.due);
  #lastRows: unknown = null;
  /** `workflowId@updatedAt` pairs already reported, so a broken workflow logs once. */
  readonly #reported = new Set<string>();

  /** Runs passed to `dispatch` that were still `queued` at the last release pass. */
  readonly #handedOut = new Map<string, string | null>();
  #releasing = false;
  #releaseAgain = false;
  /**
   * Whether a queued run may be waiting that only a full release pass would find: true until the
   * first pass, and after any pass (or hand-out) that left a queued run behind.
   */
  #mayHaveWaiting = true;
  #ticking = false;
  #loop: AbortController | null = null;

  /** @throws EngineError `VALIDATION` for a non-positive or non-integer duration option. */
  constructor(options: SchedulerOptions) {
    this.#store = options.store;
    this.#dispatch = options.dispatch;
    this.#emitQueued = options.emitQueued;
    this.#clock = options.clock ?? wallClock;
    this.#log = options.log ?? defaultLog;
    this.#tickIntervalMs = positiveInteger("tickIntervalMs", options.tickIntervalMs, 1000);
    this.#tickBudgetMs = positiveInteger("tickBudgetMs", options.tickBudgetMs, 250);
    this.#lateFireThresholdMs = positiveInteger(
      "lateFireThresholdMs",
      options.lateFireThresholdMs,
      300_000,
    );
  }

  /**
   * Start the loop: `tick()` (synchronously, inside this call), then `clock.sleep(tickIntervalMs)`,
   * repeat. Idempotent. A tick that throws is logged and the loop goes on.
   */
  start(): void {
    if (this.#loop !== null) return;
    const controller = new AbortController();
    this.#loop = controller;
    void this.#runLoop(controller.signal);
  }

  /** Stop the loop: aborts the pending sleep; no tick starts afterwards. Idempotent. */
  stop(): void {
    this.#loop?.abort();
    this.#loop = null;
  }

  /**
   * One pass (spec 02 §6.3): fire every due cron trigger (applying catch-up on first sight), then
   * {@link Scheduler.releaseQueued}. Errors of one workflow are logged once and skipped; only a
   * store-wide failure (e.g. a closed database) throws.
   */
  tick(): void {
    if (this.#ticking) return; // re-entered from a dispatch or emitQueued callback
    this.#ticking = true;
    try {
      const now = this.#clock.now();
      this.#syncWorkflows(now);
      // Redeploys leave stale heap entries behind until their time comes: drop them in bulk.
      if (this.#heap.size > 2 * this.#triggers.size + 1024) this.#compactHeap(now);
      this.#fireDue(now);
      this.releaseQueued();
      const tookMs = this.#clock.now() - now;
      if (tookMs > this.#tickBudgetMs) {
        this.#log(`[scheduler] tick took ${tookMs}ms (budget ${this.#tickBudgetMs}ms)`);
      }
    } finally {
      this.#ticking = false;
    }
  }

  /**
   * The dispatch half of a tick (spec 02 §6.6): offers queued runs, oldest first, to the
   * concurrency gate and dispatches those it admits. Child runs (`parentRunId` set) bypass the
   * gate. Safe to call at any time, including from inside `dispatch`.
   */
  releaseQueued(): void {
    if (this.#releasing) {
      this.#releaseAgain = true;
      return;
    }
    this.#releasing = true;
    try {
      do {
        this.#releaseAgain = false;
        this.#releaseOnce();
      } while (this.#releaseAgain);
    } finally {
      this.#releasing = false;
    }
  }

  /**
   * Release after the caller queued one new run (the engine's `startRun`). Same outcome as
   * {@link Scheduler.releaseQueued}, but skips the queued-runs query when the gate has nothing
   * to decide: the run is a child run or its workflow's concurrency is `unlimited`, and the last
   * release pass left no queued run behind. Otherwise it is exactly `releaseQueued()`.
   */
  releaseStarted(run: { id: string; workflowId: string; parentRunId: string | null }): void {
    if (
      this.#releasing ||
      this.#mayHaveWaiting ||
      this.#handedOut.has(run.id) ||
      !this.#ungated(run)
    ) {
      this.releaseQueued();
      return;
    }
    this.#handOut(run.id, null);
  }

  #ungated(run: { workflowId: string; parentRunId: string | null }): boolean {
    if (run.parentRunId !== null) return true;
    try {
      const workflow = this.#store.getWorkflowById(run.workflowId);
      return workflow !== null && concurrencyGroup(workflow.id, workflow.manifest) === null;
    } catch {
      return false; // the full pass logs it and gates the run as serial
    }
  }

  async #runLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        this.tick();
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

  // ---- workflows -------------------------------------------------------------------------

  #syncWorkflows(now: number): void {
    const rows = this.#store.listWorkflows();
    // A store that hands back the same array when nothing changed makes this O(1).
    if (rows !== this.#lastRows) {
      for (const row of rows) {
        const known = this.#workflows.get(row.id);
        if (known !== undefined && unchanged(known, row)) continue;
        this.#rebuildWorkflow(row, known, now);
      }
      if (this.#workflows.size > rows.length) {
        const present = new Set(rows.map((row) => row.id));
        for (const [id, state] of this.#workflows) {
          if (!present.has(id)) this.#dropWorkflow(state);
        }
      }
      this.#lastRows = rows;
    }
    for (const trigger of [...this.#unseen]) this.#firstSight(trigger, now);
  }

  #rebuildWorkflow(row: WorkflowRowLike, previous: WorkflowState | undefined, now: number): void {
    let catchUp: CatchUpPolicy;
    let specs: CronTriggerSpec[];
    let triggers: TriggerState[];
    try {
      catchUp = readCatchUp(row.config);
      specs = readCronTriggers(row.manifest);
      triggers = specs.map((spec) => ({
        key: `${row.id}#${spec.index}`,
        workflowId: row.id,
        index: spec.index,
        schedule: parseSchedule(spec.expr, spec.timezone),
      }));
    } catch (error) {
      if (previous !== undefined) this.#dropWorkflow(previous);
      this.#workflows.set(row.id, {
        id: row.id,
        slug: row.slug,
        updatedAt: row.updatedAt,
        manifest: row.manifest,
        config: row.config,
        catchUp: "skip",
        specs: [],
        triggers: [],
        broken: true,
      });
      this.#report(row.id, row.slug, row.updatedAt, error, "its cron triggers are ignored");
      return;
    }
    const state: WorkflowState = {
      id: row.id,
      slug: row.slug,
      updatedAt: row.updatedAt,
      manifest: row.manifest,
      config: row.config,
      catchUp,
      specs,
      triggers,
      broken: false,
    };
    if (previous !== undefined) this.#dropWorkflow(previous);
    this.#workflows.set(row.id, state);
    for (const trigger of triggers) {
      const before = previous?.triggers.find((t) => t.index === trigger.index);
      this.#triggers.set(trigger.key, trigger);
      const anchor = this.#anchors.get(trigger.key);
      if (anchor === undefined) {
        this.#unseen.add(trigger);
        continue;
      }
      // Redeploy keeps the anchor. A changed schedule starts at the redeploy (`updatedAt`, stamped
      // by the store's clock): instants of the new expression before it existed were never due.
      if (before !== undefined && before.schedule !== trigger.schedule) {
        const deployedAt = Math.min(row.updatedAt, now);
        if (anchor < deployedAt) this.#anchors.set(trigger.key, deployedAt);
      }
      this.#schedule(trigger, now);
    }
  }

  #dropWorkflow(state: WorkflowState): void {
    this.#workflows.delete(state.id);
    for (const trigger of state.triggers) {
      this.#unseen.delete(trigger);
      if (this.#triggers.get(trigger.key) === trigger) this.#triggers.delete(trigger.key);
    }
  }

  /** First sight of a trigger with no in-memory anchor (spec 02 §6.4–6.5). */
  #firstSight(trigger: TriggerState, now: number): void {
    const workflow = this.#workflows.get(trigger.workflowId);
    if (workflow === undefined || this.#triggers.get(trigger.key) !== trigger) {
      this.#unseen.delete(trigger);
      return;
    }
    try {
      const last = this.#store.lastCronFire(trigger.workflowId, trigger.index);
      if (last === null) {
        this.#anchors.set(trigger.key, now); // no retroactive fires
      } else {
        this.#catchUp(workflow, trigger, last, now, "from downtime");
      }
      this.#unseen.delete(trigger);
      this.#schedule(trigger, now);
    } catch (error) {
      this.#report(workflow.id, workflow.slug, workflow.updatedAt, error, "retrying next tick");
    }
  }

  #compactHeap(now: number): void {
    this.#heap.clear();
    for (const trigger of this.#triggers.values()) {
      if (!this.#unseen.has(trigger)) this.#schedule(trigger, now);
    }
  }

  /** Push the trigger's next due instant (after its anchor) onto the heap. */
  #schedule(trigger: TriggerState, now: number): void {
    const anchor = this.#anchors.get(trigger.key) ?? now;
    const due = nextFire(trigger.schedule, anchor);
    this.#heap.push(
      due === null
        ? { due: Math.max(now, anchor) + RECHECK_MS, trigger, recheck: true }
        : { due, trigger, recheck: false },
    );
  }

  // ---- firing ----------------------------------------------------------------------------

  #fireDue(now: number): void {
    const retry: HeapEntry[] = [];
    for (
      let top = this.#heap.peek();
      top !== undefined && top.due <= now;
      top = this.#heap.peek()
    ) {
      this.#heap.pop();
      const { trigger } = top;
      if (this.#triggers.get(trigger.key) !== trigger || this.#unseen.has(trigger)) continue;
      const workflow = this.#workflows.get(trigger.workflowId);
      if (workflow === undefined) continue;
      if (top.recheck) {
        this.#schedule(trigger, now);
        continue;
      }
      let due: number | null = top.due;
      try {
        if (due < now - this.#lateFireThresholdMs) {
          // Host sleep or a stalled event loop: treat the backlog like downtime.
          this.#catchUp(
            workflow,
            trigger,
            this.#anchors.get(trigger.key) ?? due - 1,
            now,
            "while the scheduler was stalled",
          );
        } else {
          while (due !== null && due <= now) {
            this.#fire(workflow, trigger, due);
            this.#anchors.set(trigger.key, due);
            due = nextFire(trigger.schedule, due);
          }
        }
        this.#schedule(trigger, now);
      } catch (error) {
        this.#report(workflow.id, workflow.slug, workflow.updatedAt, error, "retrying next tick");
        retry.push({ due: due ?? top.due, trigger, recheck: false });
      }
    }
    for (const entry of retry) this.#heap.push(entry);
  }

  /**
   * Missed fires are every instant strictly after `from` and ≤ `now` (spec 02 §6.5). `skip`:
   * no run; `once`: one run at the latest missed instant. Either way one notice, and the anchor
   * moves to the latest missed instant.
   */
  #catchUp(
    workflow: WorkflowState,
    trigger: TriggerState,
    from: number,
    now: number,
    reason: string,
  ): void {
    let count = 0;
    let latest: number | null = null;
    let next = nextFire(trigger.schedule, from);
    while (next !== null && next <= now && count < CATCH_UP_COUNT_CAP) {
      count += 1;
      latest = next;
      next = nextFire(trigger.schedule, next);
    }
    if (latest === null) {
      this.#anchors.set(trigger.key, from);
      return;
    }
    const capped = next !== null && next <= now;
    if (capped) latest = latestFireAtOrBefore(trigger.schedule, now, latest) ?? latest;
    const counted = capped ? `≥${CATCH_UP_COUNT_CAP}` : String(count);
    const prefix = `[scheduler] ${workflow.slug} trigger #${trigger.index}:`;
    if (workflow.catchUp === "once") {
      this.#fire(workflow, trigger, latest);
      this.#log(`${prefix} ${counted} missed cron fire(s) ${reason} — ran once (catch_up: "once")`);
    } else {
      this.#log(`${prefix} skipped ${counted} missed cron fire(s) ${reason} (catch_up: "skip")`);
    }
    this.#anchors.set(trigger.key, latest);
  }

  /** One fire: run + fire record + `queued` event in one transaction (spec 02 §6.4). */
  #fire(workflow: WorkflowState, trigger: TriggerState, fireTime: number): void {
    const store = this.#store;
    try {
      store.transaction(() => {
        const { run } = store.createRun({
          workflowId: workflow.id,
          triggerKind: "cron",
          input: null,
        });
        store.recordCronFire({
          workflowId: workflow.id,
          triggerIndex: trigger.index,
          fireTime,
          runId: run.id,
        });
        this.#emitQueued(run.id);
      });
    } catch (error) {
      if (isEngineError(error) && error.code === "CONFLICT") {
        // Another tick, an earlier life of this engine, or a replayed clock got there first.
        this.#log(
          `[scheduler] ${workflow.slug} trigger #${trigger.index}: fire at ${new Date(fireTime).toISOString()} was already recorded; no second run`,
        );
        return;
      }
      throw error;
    }
  }

  #report(id: string, slug: string, updatedAt: number, error: unknown, outcome: string): void {
    const key = `${id}@${updatedAt}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#log(`[scheduler] workflow ${slug}: ${messageOf(error)} (${outcome})`);
  }

  // ---- dispatch gate ---------------------------------------------------------------------

  #releaseOnce(): void {
    const store = this.#store;
    const queued = store.listRuns({ statuses: ["queued"], order: "oldest" });
    const stillQueued = new Set(queued.map((run) => run.id));
    for (const id of this.#handedOut.keys()) {
      if (!stillQueued.has(id)) this.#handedOut.delete(id);
    }
    // A handed-out run may still read `queued` (dispatch is asynchronous): it holds its slot.
    const busy = new Set<string>();
    for (const group of this.#handedOut.values()) if (group !== null) busy.add(group);
    const groups = new Map<string, string | null>();
    const groupOf = (workflowId: string): string | null => {
      if (groups.has(workflowId)) return groups.get(workflowId) ?? null;
      let group: string | null = null;
      try {
        // Inside tick() the rows were just listed: reuse them instead of one read per run.
        const known = this.#ticking ? this.#workflows.get(workflowId) : undefined;
        const workflow = known ?? store.getWorkflowById(workflowId);
        group = workflow === null ? null : concurrencyGroup(workflow.id, workflow.manifest);
      } catch (error) {
        // An unreadable concurrency setting gates as serial: never risk two active runs.
        this.#log(`[scheduler] workflow ${workflowId}: ${messageOf(error)} (gated as serial)`);
        group = workflowId;
      }
      groups.set(workflowId, group);
      return group;
    };
    // Recomputed by this pass: set again below for every queued run it leaves behind.
    this.#mayHaveWaiting = false;
    try {
      this.#offerQueued(queued, groupOf, busy);
    } catch (error) {
      this.#mayHaveWaiting = true;
      throw error;
    }
  }

  #offerQueued(
    queued: readonly { id: string; workflowId: string; parentRunId: string | null }[],
    groupOf: (workflowId: string) => string | null,
    busy: Set<string>,
  ): void {
    const store = this.#store;
    for (const run of queued) {
      if (this.#handedOut.has(run.id)) continue;
      if (run.parentRunId !== null) {
        this.#handOut(run.id, null); // children bypass the gate (spec 02 §6.6)
        continue;
      }
      const group = groupOf(run.workflowId);
      if (group !== null) {
        if (busy.has(group)) {
          this.#mayHaveWaiting = true;
          continue;
        }
        busy.add(group);
        const active = store.listRuns({
          workflowId: run.workflowId,
          statuses: ACTIVE_STATUSES,
          limit: 1,
        });
        if (active.length > 0) {
          this.#mayHaveWaiting = true;
          continue;
        }
      }
      this.#handOut(run.id, group);
    }
  }

  #handOut(runId: string, group: string | null): void {
    this.#handedOut.set(runId, group);
    try {
      this.#dispatch(runId);
    } catch (error) {
      this.#handedOut.delete(runId);
      this.#mayHaveWaiting = true;
      this.#log(`[scheduler] dispatch of run ${runId} failed: ${messageOf(error)}`);
    }
  }
}
