/**
 * The dispatch gate: offers queued runs, oldest first, to each workflow's concurrency setting and
 * hands the admitted ones to `dispatch`. `unlimited` admits every run; `serial` and
 * `serial_by_key` admit one while the workflow has no active run; child runs (`parentRunId` set)
 * bypass the gate but hold their workflow's slot while active.
 * Invariants: a gated workflow never has two active runs; a run is handed to `dispatch` at most
 * once while it reads `queued` (a handed-out run holds its slot until it leaves `queued`). Release
 * passes never overlap: a request that arrives during a pass makes that pass run once more, so
 * two releases cannot both admit a run, whether the store answers with values or with promises.
 */
import {
  ACTIVE_STATUSES,
  andThen,
  attempt,
  each,
  isPromiseLike,
  repeat,
} from "@promenade/workflow/records";
import type { Awaitable, RunRow, WorkflowRow } from "@promenade/workflow/records";
import { messageOf } from "./internal/message-of.ts";
import { concurrencyGroup } from "./internal/workflow-config.ts";
import type { Dispatch, SchedulerStore } from "./ports.ts";

/** The workflow fields the gate reads. */
type KnownWorkflow = Pick<WorkflowRow, "id"> & { manifest: unknown };

/** The run fields the gate reads. */
export type GatedRun = Pick<RunRow, "id" | "workflowId" | "parentRunId">;

/** Options of {@link DispatchGate}. */
export interface DispatchGateOptions {
  store: SchedulerStore;
  dispatch: Dispatch;
  log: (line: string) => void;
  /** A workflow row the caller already holds (saves a read per run), or `undefined`. */
  knownWorkflow?: (id: string) => KnownWorkflow | undefined;
}

/** The concurrency gate in front of `dispatch`. */
export class DispatchGate {
  readonly #store: SchedulerStore;
  readonly #dispatch: Dispatch;
  readonly #log: (line: string) => void;
  readonly #knownWorkflow: (id: string) => KnownWorkflow | undefined;

  /** Runs passed to `dispatch` that were still `queued` at the last release pass, with their group. */
  readonly #handedOut = new Map<string, string | null>();
  #releasing = false;
  #releaseAgain = false;
  /** The running release loop when it waits on the store, so later callers can await it. */
  #inFlight: Promise<void> | null = null;
  /** Release passes completed; lets a shortcut notice that a pass ran while it waited. */
  #passes = 0;
  /**
   * Whether a queued run may be waiting that only a full release pass would find: true until the
   * first pass, and after any pass (or hand-out) that left a queued run behind.
   */
  #mayHaveWaiting = true;

  constructor(options: DispatchGateOptions) {
    this.#store = options.store;
    this.#dispatch = options.dispatch;
    this.#log = options.log;
    this.#knownWorkflow = options.knownWorkflow ?? (() => undefined);
  }

  /** Whether a release pass is running. */
  get releasing(): boolean {
    return this.#releasing;
  }

  /** Settles when the release pass running now (if any) has finished; never rejects. */
  idle(): Promise<void> {
    return (this.#inFlight ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
  }

  /**
   * Offer every queued run to the gate. Safe to call at any time, including from inside
   * `dispatch`: a call during a running pass makes that pass go round once more and returns it
   * (a promise when the store is asynchronous, nothing when the pass is on the call stack).
   * Throws (rejects) only when the queued runs cannot be listed.
   */
  releaseQueued(): Awaitable<void> {
    if (this.#releasing) {
      this.#releaseAgain = true;
      return this.#inFlight ?? undefined;
    }
    this.#releasing = true;
    const done = (): void => {
      this.#releasing = false;
      this.#inFlight = null;
    };
    const result = repeat(() => {
      this.#releaseAgain = false;
      return attempt(
        () =>
          andThen(this.#releaseOnce(), () => {
            this.#passes += 1;
            // Decided in the same turn as the flag is read: a request after this starts a new loop.
            if (this.#releaseAgain) return true;
            done();
            return false;
          }),
        (error) => {
          done();
          throw error;
        },
      );
    });
    if (isPromiseLike(result) && this.#releasing) this.#inFlight = result;
    return result;
  }

  /**
   * Release after the caller queued one new run. Same outcome as {@link DispatchGate.releaseQueued},
   * but skips the queued-runs query when the gate has nothing to decide: the run is a child run or
   * its workflow's concurrency is `unlimited`, and the last release pass left no queued run behind.
   */
  releaseStarted(run: GatedRun): Awaitable<void> {
    if (this.#releasing || this.#mayHaveWaiting || this.#handedOut.has(run.id)) {
      return this.releaseQueued();
    }
    if (run.parentRunId !== null) {
      this.#handOut(run.id, null); // children bypass the gate
      return;
    }
    const passes = this.#passes;
    const known = this.#knownWorkflow(run.workflowId);
    const workflow =
      known ??
      attempt(
        () => this.#store.getWorkflowById(run.workflowId),
        () => null,
      );
    return andThen(workflow, (row) => {
      let ungated = false;
      try {
        ungated = row !== null && concurrencyGroup(row.id, row.manifest) === null;
      } catch {
        // a full pass logs it and gates the run as serial
      }
      if (
        !ungated ||
        // A pass ran (or runs) while the workflow was read: it decides, not this shortcut.
        this.#passes !== passes ||
        this.#releasing ||
        this.#mayHaveWaiting ||
        this.#handedOut.has(run.id)
      ) {
        return this.releaseQueued();
      }
      this.#handOut(run.id, null);
    });
  }

  #releaseOnce(): Awaitable<void> {
    return andThen(this.#store.listRuns({ statuses: ["queued"], order: "oldest" }), (queued) => {
      const stillQueued = new Set(queued.map((run) => run.id));
      for (const id of this.#handedOut.keys()) {
        if (!stillQueued.has(id)) this.#handedOut.delete(id);
      }
      // A handed-out run may still read `queued` (dispatch is asynchronous): it holds its slot.
      const busy = new Set<string>();
      for (const group of this.#handedOut.values()) if (group !== null) busy.add(group);
      const groups = new Map<string, Awaitable<string | null>>();
      const groupOf = (workflowId: string): Awaitable<string | null> => {
        let group = groups.get(workflowId);
        if (group === undefined) {
          group = this.#readGroup(workflowId);
          groups.set(workflowId, group);
        }
        return group;
      };
      // Recomputed by this pass: set again below for every queued run it leaves behind.
      this.#mayHaveWaiting = false;
      return attempt(
        () => this.#offerQueued(queued, groupOf, busy),
        (error) => {
          this.#mayHaveWaiting = true;
          throw error;
        },
      );
    });
  }

  /** The workflow's dispatch group; an unreadable setting gates as serial (never two active runs). */
  #readGroup(workflowId: string): Awaitable<string | null> {
    const known = this.#knownWorkflow(workflowId);
    return attempt(
      () =>
        andThen(known ?? this.#store.getWorkflowById(workflowId), (workflow) =>
          workflow === null ? null : concurrencyGroup(workflow.id, workflow.manifest),
        ),
      (error) => {
        this.#log(`[scheduler] workflow ${workflowId}: ${messageOf(error)} (gated as serial)`);
        return workflowId;
      },
    );
  }

  #offerQueued(
    queued: readonly GatedRun[],
    groupOf: (workflowId: string) => Awaitable<string | null>,
    busy: Set<string>,
  ): Awaitable<void> {
    return each(queued, (run) => {
      if (this.#handedOut.has(run.id)) return;
      if (run.parentRunId !== null) {
        this.#handOut(run.id, null); // children bypass the gate
        return;
      }
      return andThen(groupOf(run.workflowId), (group) => {
        if (group === null) {
          this.#handOut(run.id, null);
          return;
        }
        if (busy.has(group)) {
          this.#mayHaveWaiting = true;
          return;
        }
        busy.add(group);
        const active = this.#store.listRuns({
          workflowId: run.workflowId,
          statuses: ACTIVE_STATUSES,
          limit: 1,
        });
        return andThen(active, (rows) => {
          if (rows.length > 0) {
            this.#mayHaveWaiting = true;
            return;
          }
          this.#handOut(run.id, group);
        });
      });
    });
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
