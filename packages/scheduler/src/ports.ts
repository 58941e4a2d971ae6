/**
 * The ports this package consumes: what scheduling needs from persistence (`SchedulerStore`) and
 * from whatever executes runs (`Dispatch`); time is the `Clock` of `@promenade/workflow/clock`.
 * Types only: row shapes come
 * from `@promenade/workflow/records`, so the scheduler decides *when* without knowing *how* runs
 * are stored or executed, and loads no database driver.
 */
import type { JsonValue } from "@promenade/workflow";
import type { Awaitable, ListRunsFilter, RunRow, WorkflowRow } from "@promenade/workflow/records";

/** One scheduled instant of one cron trigger: the identity of a fire. */
export interface CronFire {
  workflowId: string;
  /** Zero-based index of the trigger in `manifest.triggers`. */
  triggerIndex: number;
  /** The scheduled instant (epoch ms), not when the scheduler got to it. */
  fireTime: number;
  /** The trigger's static input, the run's input; absent = input `null`. */
  input?: { [key: string]: JsonValue };
}

/**
 * What the scheduler needs from persistence. Every method may answer with a value or a promise:
 * over a store that answers with values, {@link Scheduler.tick} finishes before it returns.
 * Failures are thrown (or rejected) `EngineError`s; there is no open-ended transaction here —
 * the one multi-row write, {@link SchedulerStore.fireCron}, is atomic by contract.
 */
export interface SchedulerStore {
  /**
   * Every deployed workflow (any order). A store that hands back the same array object while no
   * workflow changed lets a tick skip its change check.
   */
  listWorkflows(): Awaitable<readonly WorkflowRow[]>;
  /** The workflow with this id, or `null`. */
  getWorkflowById(id: string): Awaitable<WorkflowRow | null>;
  /**
   * Runs matching `filter`. The scheduler asks for the queued runs oldest first
   * (`{ statuses: ["queued"], order: "oldest" }`) and for whether a workflow has an active run
   * (`{ workflowId, statuses: ACTIVE_STATUSES, limit: 1 }`); ties in creation time keep
   * creation order.
   */
  listRuns(filter: ListRunsFilter): Awaitable<readonly RunRow[]>;
  /** The latest recorded `fireTime` of the trigger, or `null` when it never fired. */
  lastCronFire(workflowId: string, triggerIndex: number): Awaitable<number | null>;
  /**
   * Fires `fire`, atomically: records the instant, creates its `queued` run (`triggerKind:
   * "cron"`, input `fire.input`, `null` when absent) and writes that run's `queued` event — all of it or nothing. Returns
   * the run, or `null` (writing nothing) when that instant of that trigger was already recorded,
   * by this scheduler or any other: each instant fires exactly once. An unknown workflow is
   * `NOT_FOUND`.
   */
  fireCron(fire: CronFire): Awaitable<RunRow | null>;
}

/** Hands a queued run to whatever executes it (the engine wires the supervisor). Fire-and-forget. */
export type Dispatch = (runId: string) => void;
