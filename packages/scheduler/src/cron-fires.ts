/**
 * Cron firing: keeps a min-heap of every trigger's next instant, fires what is due through the
 * store's atomic `fireCron`, and applies the catch-up policy to fires missed while the scheduler
 * was down or stalled. Decides *when* a cron run exists; never dispatches it.
 * Invariants: a due fire creates at most one run (the store records the instant, the run and its
 * `queued` event together, and answers `null` for an instant already recorded); a pass with
 * nothing due costs one heap peek plus the workflow listing, never a walk over every trigger; one
 * broken workflow never stops the others. Written with the maybe-sync helpers: over a store that
 * answers with values a pass finishes before it returns.
 */
import type { WorkflowRow } from "@promenade/workflow/records";
import {
  always,
  andThen,
  attempt,
  each,
  repeat,
  type Awaitable,
} from "@promenade/workflow/records";
import { latestFireAtOrBefore, nextFire, parseSchedule, type Schedule } from "./cron.ts";
import { messageOf } from "./internal/message-of.ts";
import { MinHeap } from "./internal/min-heap.ts";
import {
  readCatchUp,
  readCronTriggers,
  type CatchUpPolicy,
  type CronTriggerSpec,
} from "./internal/workflow-config.ts";
import type { CronFire, SchedulerStore } from "./ports.ts";

/** Fires counted by catch-up before reporting `≥10000`. */
const CATCH_UP_COUNT_CAP = 10_000;
/** When a trigger has no fire within the cron horizon, look again after this long. */
const RECHECK_MS = 366 * 86_400_000;

interface TriggerState {
  readonly key: string;
  readonly workflowId: string;
  readonly index: number;
  readonly schedule: Schedule;
  readonly input: CronTriggerSpec["input"];
}

/** What a pass built from one workflow row. */
export interface WorkflowState {
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

type WorkflowRowLike = Pick<WorkflowRow, "id" | "slug" | "updatedAt" | "manifest" | "config">;

interface HeapEntry {
  /** When to look at the trigger again: its next fire instant (or a recheck time). */
  readonly due: number;
  readonly trigger: TriggerState;
  /** `true` when `due` is not a fire instant but a time to recompute one. */
  readonly recheck: boolean;
}

/** Options of {@link CronFires}. */
export interface CronFiresOptions {
  store: SchedulerStore;
  log: (line: string) => void;
  /** Due fires older than `now −` this (ms) go through the catch-up policy. */
  lateFireThresholdMs: number;
}

/**
 * Whether a listed row still matches what was built from it. `updatedAt` alone misses a redeploy
 * within the same millisecond (a manual test clock), so the acted-on fields are compared too,
 * unless the store handed back the very same objects.
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
        before.timezone === spec.timezone &&
        JSON.stringify(before.input) === JSON.stringify(spec.input)
      );
    });
  } catch {
    return known.broken;
  }
}

/**
 * The cron half of the scheduler. Not re-entrant: the caller runs one {@link CronFires.run} at a
 * time (the `Scheduler` serialises its ticks).
 */
export class CronFires {
  readonly #store: SchedulerStore;
  readonly #log: (line: string) => void;
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

  constructor(options: CronFiresOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#lateFireThresholdMs = options.lateFireThresholdMs;
  }

  /** The workflow as the latest pass listed it, or `undefined`. */
  workflow(id: string): WorkflowState | undefined {
    return this.#workflows.get(id);
  }

  /**
   * One pass at `now`: pick up deployed, changed and removed workflows (first sight of a trigger
   * looks up its history and applies catch-up), then fire every due trigger. Errors of one
   * workflow are logged once and retried next pass; only a failing workflow listing throws.
   */
  run(now: number): Awaitable<void> {
    return andThen(this.#syncWorkflows(now), () => {
      // Redeploys leave stale heap entries behind until their time comes: drop them in bulk.
      if (this.#heap.size > 2 * this.#triggers.size + 1024) this.#compactHeap(now);
      return this.#fireDue(now);
    });
  }

  // ---- workflows -------------------------------------------------------------------------

  #syncWorkflows(now: number): Awaitable<void> {
    return andThen(this.#store.listWorkflows(), (rows) => {
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
      return each([...this.#unseen], (trigger) => this.#firstSight(trigger, now));
    });
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
        input: spec.input,
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

  /**
   * First sight of a trigger with no in-memory anchor: without history nothing fires
   * retroactively; with history, the fires missed since its last one go through catch-up.
   */
  #firstSight(trigger: TriggerState, now: number): Awaitable<void> {
    const workflow = this.#workflows.get(trigger.workflowId);
    if (workflow === undefined || this.#triggers.get(trigger.key) !== trigger) {
      this.#unseen.delete(trigger);
      return;
    }
    return attempt(
      () =>
        andThen(this.#store.lastCronFire(trigger.workflowId, trigger.index), (last) =>
          andThen(
            last === null
              ? void this.#anchors.set(trigger.key, now) // no retroactive fires
              : this.#catchUp(workflow, trigger, last, now, "from downtime"),
            () => {
              this.#unseen.delete(trigger);
              this.#schedule(trigger, now);
            },
          ),
        ),
      (error) => {
        this.#report(workflow.id, workflow.slug, workflow.updatedAt, error, "retrying next tick");
      },
    );
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

  #fireDue(now: number): Awaitable<void> {
    const retry: HeapEntry[] = [];
    return always(
      () => repeat(() => this.#fireNext(now, retry)),
      () => {
        for (const entry of retry) this.#heap.push(entry);
      },
    );
  }

  /** Handle the earliest heap entry if it is due; `false` when nothing is. */
  #fireNext(now: number, retry: HeapEntry[]): Awaitable<boolean> {
    const top = this.#heap.peek();
    if (top === undefined || top.due > now) return false;
    this.#heap.pop();
    const { trigger } = top;
    if (this.#triggers.get(trigger.key) !== trigger || this.#unseen.has(trigger)) return true;
    const workflow = this.#workflows.get(trigger.workflowId);
    if (workflow === undefined) return true;
    if (top.recheck) {
      this.#schedule(trigger, now);
      return true;
    }
    const first = top.due;
    let due: number | null = first;
    return attempt(
      () => {
        const fired =
          first < now - this.#lateFireThresholdMs
            ? // Host sleep or a stalled event loop: treat the backlog like downtime.
              this.#catchUp(
                workflow,
                trigger,
                this.#anchors.get(trigger.key) ?? first - 1,
                now,
                "while the scheduler was stalled",
              )
            : repeat(() => {
                if (due === null || due > now) return false;
                const instant = due;
                return andThen(this.#fire(workflow, trigger, instant), () => {
                  this.#anchors.set(trigger.key, instant);
                  due = nextFire(trigger.schedule, instant);
                  return true;
                });
              });
        return andThen(fired, () => {
          this.#schedule(trigger, now);
          return true;
        });
      },
      (error) => {
        this.#report(workflow.id, workflow.slug, workflow.updatedAt, error, "retrying next tick");
        retry.push({ due: due ?? first, trigger, recheck: false });
        return true;
      },
    );
  }

  /**
   * Missed fires are every instant strictly after `from` and ≤ `now`. `skip`: no run; `once`: one
   * run at the latest missed instant. Either way one notice, and the anchor moves to the latest
   * missed instant.
   */
  #catchUp(
    workflow: WorkflowState,
    trigger: TriggerState,
    from: number,
    now: number,
    reason: string,
  ): Awaitable<void> {
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
    const instant = latest;
    const counted = capped ? `≥${CATCH_UP_COUNT_CAP}` : String(count);
    const prefix = `[scheduler] ${workflow.slug} trigger #${trigger.index}:`;
    if (workflow.catchUp === "once") {
      return andThen(this.#fire(workflow, trigger, instant), () => {
        this.#log(
          `${prefix} ${counted} missed cron fire(s) ${reason} — ran once (catch_up: "once")`,
        );
        this.#anchors.set(trigger.key, instant);
      });
    }
    this.#log(`${prefix} skipped ${counted} missed cron fire(s) ${reason} (catch_up: "skip")`);
    this.#anchors.set(trigger.key, instant);
  }

  /** One fire: the store records it with its run and `queued` event, or says it already did. */
  #fire(workflow: WorkflowState, trigger: TriggerState, fireTime: number): Awaitable<void> {
    const fire: CronFire = { workflowId: workflow.id, triggerIndex: trigger.index, fireTime };
    if (trigger.input !== undefined) fire.input = trigger.input;
    return andThen(this.#store.fireCron(fire), (run) => {
      if (run !== null) return;
      // Another tick, an earlier life of this engine, or a replayed clock got there first.
      this.#log(
        `[scheduler] ${workflow.slug} trigger #${trigger.index}: fire at ${new Date(fireTime).toISOString()} was already recorded; no second run`,
      );
    });
  }

  #report(id: string, slug: string, updatedAt: number, error: unknown, outcome: string): void {
    const key = `${id}@${updatedAt}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#log(`[scheduler] workflow ${slug}: ${messageOf(error)} (${outcome})`);
  }
}
