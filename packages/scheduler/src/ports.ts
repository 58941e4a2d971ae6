/**
 * The ports this package consumes (STYLE §3–4): what scheduling needs from persistence
 * (`SchedulerStore`, spec 02 §4.8), from the run supervisor (`Dispatch`) and from time (`Clock`,
 * spec 02 §2.2). Types only: the store is imported as a type and never loaded at run time, so the
 * scheduler decides *when* without knowing *how* runs are stored or executed.
 */
import type { Store } from "@promenade/store";

/** The store methods the scheduler uses (spec 02 §4.8); the SQLite store satisfies it. */
export type SchedulerStore = Pick<
  Store,
  | "transaction"
  | "listWorkflows"
  | "getWorkflowById"
  | "listRuns"
  | "createRun"
  | "recordCronFire"
  | "lastCronFire"
>;

/** Hands a queued run to whatever executes it (the engine wires `supervisor.supervise`). Fire-and-forget. */
export type Dispatch = (runId: string) => void;

/** Time source (spec 02 §2.2). Inject a manual clock to drive the scheduler without waiting. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
