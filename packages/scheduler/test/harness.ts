/**
 * The scheduler tests' harness: an in-memory store (asynchronous like PostgreSQL, or synchronous
 * like SQLite — every behaviour suite runs in both modes), a manual clock, a log, and a dispatch
 * stand-in that records hand-outs and moves the run to `running` like a supervisor would.
 */
import type { JsonValue } from "@promenade/workflow";
import { validateMeta, type WorkflowManifest } from "@promenade/workflow";
import type { RunRow, RunStatus, WorkflowRow } from "@promenade/workflow/records";
import { Scheduler, type SchedulerOptions } from "../src/scheduler.ts";
import { createManualClock, type ManualClock } from "@promenade/workflow/testing";
import { InMemorySchedulerStore } from "../src/testing/in-memory-store.ts";

export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
export const MINUTE = 60_000;

/** The two kinds of backend every behaviour suite runs against. */
export const MODES = [
  { mode: "async store", sync: false },
  { mode: "sync store", sync: true },
] as const;

export interface Harness {
  store: InMemorySchedulerStore;
  clock: ManualClock;
  logs: string[];
  dispatched: string[];
  make(overrides?: Partial<SchedulerOptions>): Scheduler;
  deploy(
    slug: string,
    manifest?: Record<string, unknown>,
    config?: Record<string, JsonValue>,
  ): Promise<WorkflowRow>;
  /** Queue `n` manual runs (child runs with `parentRunId`), in creation order. */
  queue(workflowId: string, n: number, parentRunId?: string): Promise<string[]>;
  /** Move a run to `to` from any non-terminal status, after every pending dispatch move. */
  move(runId: string | undefined, to: RunStatus): Promise<void>;
  /** Every run, oldest first (synchronous inspection). */
  runs(filter?: (run: RunRow) => boolean): RunRow[];
  /** Recorded fire instants, ascending. */
  fireTimes(workflowId?: string): number[];
}

/**
 * A canonical manifest (defaults applied). Triggers the SDK would reject (a 4-field cron) are put
 * back afterwards, to stand for rows an older engine stored.
 */
function manifestOf(meta: Record<string, unknown>): WorkflowManifest {
  const triggers = meta.triggers as WorkflowManifest["triggers"];
  const valid = triggers.every((t) => t.kind !== "cron" || t.expr.trim().split(/\s+/).length >= 5);
  if (valid) return validateMeta(meta);
  return { ...validateMeta({ ...meta, triggers: [{ kind: "manual" }] }), triggers };
}

export function harness(sync: boolean, start = T0): Harness {
  const clock = createManualClock(start);
  const store = new InMemorySchedulerStore({ now: () => clock.now(), sync });
  const logs: string[] = [];
  const dispatched: string[] = [];
  const moves: Promise<unknown>[] = [];
  return {
    store,
    clock,
    logs,
    dispatched,
    make: (overrides = {}) =>
      new Scheduler({
        store,
        clock,
        log: (line) => logs.push(line),
        dispatch: (runId) => {
          dispatched.push(runId);
          moves.push(
            Promise.resolve(store.commitStatus(runId, { to: "running", expect: ["queued"] })),
          );
        },
        ...overrides,
      }),
    deploy: async (slug, manifest = {}, config = {}) =>
      store.upsertWorkflow({
        slug,
        manifest: manifestOf({
          slug,
          triggers: [{ kind: "cron", expr: "* * * * *" }],
          ...manifest,
        }),
        program: "export {};",
        config,
      }),
    queue: async (workflowId, n, parentRunId) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const { run } = await store.createRun({
          workflowId,
          triggerKind: "manual",
          ...(parentRunId === undefined ? {} : { parentRunId }),
        });
        ids.push(run.id);
      }
      return ids;
    },
    move: async (runId, to) => {
      await Promise.all(moves);
      await store.commitStatus(runId ?? "", {
        to,
        expect: ["queued", "pending", "running", "cancelling"],
      });
    },
    runs: (filter = () => true) => store.runs().filter(filter),
    fireTimes: (workflowId) =>
      store
        .listCronFires()
        .filter((f) => workflowId === undefined || f.workflowId === workflowId)
        .map((f) => f.fireTime)
        .sort((a, b) => a - b),
  };
}
