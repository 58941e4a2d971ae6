/**
 * `describeSchedulerStore(makeStore)`: the contract every `SchedulerStore` must meet (spec 02
 * §4.7 for the picked methods, §6.4 exactly-once, §6.6 gate ordering). The engine runs it
 * against the SQLite store and this package runs it against `InMemorySchedulerStore`, so the fake
 * and the real store are checked alike. Registers Vitest suites; import it only from test files.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunRow, Store, UpsertWorkflowArgs, WorkflowRow } from "@promenade/store";
import { validateMeta } from "@promenade/workflow";
import { isEngineError } from "@promenade/workflow/errors";
import type { SchedulerStore } from "../ports.ts";
import { Scheduler } from "../scheduler.ts";
import { createFakeClock } from "./fake-clock.ts";

/**
 * What the contract suite needs: the scheduler's port plus the writes a test uses to deploy
 * workflows and to move runs like a supervisor (`upsertWorkflow`, `updateRunStatus`), and
 * `close`. The SQLite store (`openStore(...)`) satisfies it as is.
 */
export type SchedulerStoreUnderTest = SchedulerStore &
  Pick<Store, "upsertWorkflow" | "updateRunStatus" | "close">;

/** Options of {@link describeSchedulerStore}. */
export interface DescribeSchedulerStoreOptions {
  /** Suffix of the suite name, e.g. `"(sqlite)"`. */
  name?: string;
}

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

function deploy(
  store: SchedulerStoreUnderTest,
  slug: string,
  manifest: Record<string, unknown> = {},
  config: UpsertWorkflowArgs["config"] = {},
): WorkflowRow {
  return store.upsertWorkflow({
    slug,
    manifest: validateMeta({ slug, triggers: [{ kind: "manual" }], ...manifest }),
    program: "export {};",
    config,
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isEngineError(error) ? error.code : `non-EngineError: ${String(error)}`;
  }
  return undefined;
}

function silentScheduler(
  store: SchedulerStore,
  clock: ReturnType<typeof createFakeClock>,
  dispatch: (runId: string) => void = () => {},
): { scheduler: Scheduler; logs: string[] } {
  const logs: string[] = [];
  const scheduler = new Scheduler({
    store,
    clock,
    dispatch,
    emitQueued: () => {},
    log: (line) => logs.push(line),
  });
  return { scheduler, logs };
}

/**
 * Register the `SchedulerStore` contract suite. `makeStore` is called once per test and must
 * return an empty store; the suite closes it afterwards.
 */
export function describeSchedulerStore(
  makeStore: () => SchedulerStoreUnderTest,
  options: DescribeSchedulerStoreOptions = {},
): void {
  describe(`SchedulerStore contract${options.name === undefined ? "" : ` ${options.name}`}`, () => {
    let open: SchedulerStoreUnderTest[] = [];
    const fresh = (): SchedulerStoreUnderTest => {
      const store = makeStore();
      open.push(store);
      return store;
    };
    afterEach(() => {
      for (const store of open) store.close();
      open = [];
    });

    it("lists workflows by slug ascending and keeps the id across a redeploy", () => {
      const store = fresh();
      const b = deploy(store, "bravo");
      const a = deploy(store, "alpha");
      expect(store.listWorkflows().map((w) => w.slug)).toEqual(["alpha", "bravo"]);
      const again = deploy(store, "bravo", { description: "v2" });
      expect(again.id).toBe(b.id);
      expect(again.createdAt).toBe(b.createdAt);
      expect(store.getWorkflowById(a.id)?.slug).toBe("alpha");
      expect(store.getWorkflowById("01ARZ3NDEKTSV4RRFFQ69G5FAV")).toBeNull();
    });

    it("creates a queued cron run with null input; an unknown workflow is NOT_FOUND", () => {
      const store = fresh();
      const wf = deploy(store, "nightly");
      const { run, created } = store.createRun({
        workflowId: wf.id,
        triggerKind: "cron",
        input: null,
      });
      expect(created).toBe(true);
      expect(run).toMatchObject({
        workflowId: wf.id,
        status: "queued",
        triggerKind: "cron",
        input: null,
        parentRunId: null,
      });
      expect(
        codeOf(() =>
          store.createRun({ workflowId: "01ARZ3NDEKTSV4RRFFQ69G5FAV", triggerKind: "cron" }),
        ),
      ).toBe("NOT_FOUND");
    });

    it("rolls back the run and its fire record when the transaction body throws", () => {
      const store = fresh();
      const wf = deploy(store, "nightly");
      expect(store.transaction(() => 42)).toBe(42);
      expect(() =>
        store.transaction(() => {
          const { run } = store.createRun({ workflowId: wf.id, triggerKind: "cron" });
          store.recordCronFire({ workflowId: wf.id, triggerIndex: 0, fireTime: T0, runId: run.id });
          throw new Error("emitQueued failed");
        }),
      ).toThrow("emitQueued failed");
      expect(store.listRuns()).toEqual([]);
      expect(store.lastCronFire(wf.id, 0)).toBeNull();
    });

    it("rejects a duplicate fire with CONFLICT, and the run created beside it never exists", () => {
      const store = fresh();
      const wf = deploy(store, "nightly");
      const fire = (): RunRow =>
        store.transaction(() => {
          const { run } = store.createRun({ workflowId: wf.id, triggerKind: "cron" });
          store.recordCronFire({ workflowId: wf.id, triggerIndex: 0, fireTime: T0, runId: run.id });
          return run;
        });
      const first = fire();
      expect(codeOf(fire)).toBe("CONFLICT");
      expect(store.listRuns().map((r) => r.id)).toEqual([first.id]);
      // Another trigger index of the same workflow is a different fire.
      store.transaction(() => {
        const { run } = store.createRun({ workflowId: wf.id, triggerKind: "cron" });
        store.recordCronFire({ workflowId: wf.id, triggerIndex: 1, fireTime: T0, runId: run.id });
      });
      expect(store.listRuns()).toHaveLength(2);
    });

    it("rejects a fire of an unknown workflow or run with NOT_FOUND", () => {
      const store = fresh();
      const wf = deploy(store, "nightly");
      const { run } = store.createRun({ workflowId: wf.id, triggerKind: "cron" });
      expect(
        codeOf(() =>
          store.recordCronFire({
            workflowId: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            triggerIndex: 0,
            fireTime: T0,
            runId: run.id,
          }),
        ),
      ).toBe("NOT_FOUND");
      expect(
        codeOf(() =>
          store.recordCronFire({
            workflowId: wf.id,
            triggerIndex: 0,
            fireTime: T0,
            runId: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
          }),
        ),
      ).toBe("NOT_FOUND");
    });

    it("answers lastCronFire with the latest fire time per trigger, null without history", () => {
      const store = fresh();
      const wf = deploy(store, "nightly");
      expect(store.lastCronFire(wf.id, 0)).toBeNull();
      for (const [index, fireTime] of [
        [0, T0 + 120_000],
        [0, T0 + 60_000],
        [1, T0 + 600_000],
      ] as const) {
        const { run } = store.createRun({ workflowId: wf.id, triggerKind: "cron" });
        store.recordCronFire({ workflowId: wf.id, triggerIndex: index, fireTime, runId: run.id });
      }
      expect(store.lastCronFire(wf.id, 0)).toBe(T0 + 120_000);
      expect(store.lastCronFire(wf.id, 1)).toBe(T0 + 600_000);
      expect(store.lastCronFire(wf.id, 2)).toBeNull();
    });

    it("lists runs by status and workflow, oldest first in creation order, with limit", () => {
      const store = fresh();
      const a = deploy(store, "alpha");
      const b = deploy(store, "bravo");
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const workflowId = i % 2 === 0 ? a.id : b.id;
        ids.push(store.createRun({ workflowId, triggerKind: "manual" }).run.id);
      }
      store.updateRunStatus(ids[2] ?? "", "running");
      const queued = store.listRuns({ statuses: ["queued"], order: "oldest" }).map((r) => r.id);
      expect(queued).toEqual([ids[0], ids[1], ids[3], ids[4], ids[5]]);
      expect(store.listRuns({ statuses: [] })).toEqual([]);
      expect(
        store.listRuns({ workflowId: a.id, statuses: ["pending", "running", "cancelling"] }),
      ).toHaveLength(1);
      expect(
        store.listRuns({ workflowId: b.id, statuses: ["queued"], order: "oldest", limit: 2 }),
      ).toHaveLength(2);
      expect(store.listRuns().map((r) => r.id)).toEqual([...ids].reverse());
    });

    it("lets a Scheduler fire a due cron exactly once across ticks, restarts and clock replays", () => {
      const store = fresh();
      const wf = deploy(store, "every-minute", {
        triggers: [{ kind: "cron", expr: "* * * * *" }],
      });
      const clock = createFakeClock(T0);
      const first = silentScheduler(store, clock).scheduler;
      first.tick();
      expect(store.listRuns()).toHaveLength(0);
      clock.advance(60_000);
      first.tick();
      first.tick();
      const runs = store.listRuns();
      expect(runs).toHaveLength(1);
      expect(runs[0]?.triggerKind).toBe("cron");
      expect(store.lastCronFire(wf.id, 0)).toBe(T0 + 60_000);
      // A second engine that still believes it is T0 + 30 s, then catches up to T0 + 90 s.
      clock.set(T0 + 30_000);
      const replay = silentScheduler(store, clock).scheduler;
      replay.tick();
      clock.set(T0 + 90_000);
      replay.tick();
      expect(store.listRuns()).toHaveLength(1);
      // Two live schedulers racing for the same instant: one run, one CONFLICT notice.
      const racing = silentScheduler(store, clock);
      racing.scheduler.tick();
      clock.set(T0 + 120_000);
      replay.tick();
      racing.scheduler.tick();
      expect(store.listRuns()).toHaveLength(2);
      expect(racing.logs.join("\n")).toContain("already recorded");
      expect(store.lastCronFire(wf.id, 0)).toBe(T0 + 120_000);
    });

    it("lets a Scheduler release a serial workflow's queued runs one at a time, oldest first", () => {
      const store = fresh();
      const wf = deploy(store, "serial", { concurrency: { mode: "serial" } });
      const ids = [1, 2, 3].map(
        () => store.createRun({ workflowId: wf.id, triggerKind: "manual" }).run.id,
      );
      const dispatched: string[] = [];
      const { scheduler } = silentScheduler(store, createFakeClock(T0), (runId) => {
        dispatched.push(runId);
        store.updateRunStatus(runId, "running");
      });
      scheduler.releaseQueued();
      scheduler.releaseQueued();
      expect(dispatched).toEqual([ids[0]]);
      store.updateRunStatus(ids[0] ?? "", "cancelling");
      scheduler.releaseQueued();
      expect(dispatched).toEqual([ids[0]]);
      store.updateRunStatus(ids[0] ?? "", "completed");
      scheduler.releaseQueued();
      expect(dispatched).toEqual([ids[0], ids[1]]);
      store.updateRunStatus(ids[1] ?? "", "failed");
      scheduler.releaseQueued();
      expect(dispatched).toEqual(ids);
    });
  });
}
