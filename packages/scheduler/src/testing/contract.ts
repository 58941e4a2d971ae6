/**
 * `describeSchedulerStore(makeStore)`: the contract every `SchedulerStore` must meet — the reads
 * the scheduler makes, `fireCron`'s exactly-once (also under concurrent calls), and the ordering
 * the dispatch gate relies on — checked on its own and through a real `Scheduler`. Every call is
 * awaited, so one suite covers stores that answer with values (SQLite) and with promises
 * (PostgreSQL). The engine runs it against both real stores and this package runs it against
 * `InMemorySchedulerStore`, so the fake and the real stores are checked alike. Registers Vitest
 * suites; import it only from test files.
 */
import { afterEach, describe, expect, it } from "vitest";
import { validateMeta, type JsonValue, type WorkflowManifest } from "@promenade/workflow";
import { isEngineError } from "@promenade/workflow/errors";
import type {
  Awaitable,
  EventRow,
  RunRow,
  RunStatus,
  TriggerKind,
  WorkflowRow,
} from "@promenade/workflow/records";
import { createManualClock, type ManualClock } from "@promenade/workflow/testing";
import type { SchedulerStore } from "../ports.ts";
import { Scheduler } from "../scheduler.ts";

/** A deploy as a test writes it (the store's `upsertWorkflow` arguments). */
export interface DeployWorkflowArgs {
  slug: string;
  manifest: WorkflowManifest;
  program: string;
  config?: Record<string, JsonValue>;
}

/** A run queued by hand (the store's `createRun` arguments). */
export interface QueueRunArgs {
  workflowId: string;
  triggerKind: TriggerKind;
  input?: JsonValue;
  parentRunId?: string;
  idempotencyKey?: string;
}

/** A status transition as a supervisor commits it (a subset of the store's `commitStatus`). */
export interface StatusMove {
  to: RunStatus;
  /** Applies only when the run's status is one of these. */
  expect: readonly RunStatus[];
}

/**
 * What the contract suite needs: the scheduler's port plus the writes a test uses to deploy
 * workflows, queue runs and move them like a supervisor, the events a run has, and `close`. The
 * real stores satisfy it as they are.
 */
export interface SchedulerStoreUnderTest extends SchedulerStore {
  upsertWorkflow(args: DeployWorkflowArgs): Awaitable<WorkflowRow>;
  /** Queues a run and writes its `queued` event. */
  createRun(args: QueueRunArgs): Awaitable<{ run: RunRow; created: boolean }>;
  /** The updated run, or `null` when the status was not one of `change.expect`. */
  commitStatus(runId: string, change: StatusMove): Awaitable<RunRow | null>;
  /** The run's events, cursor ascending. */
  listEvents(runId: string): Awaitable<readonly EventRow[]>;
  close(): Awaitable<void>;
}

/** Options of {@link describeSchedulerStore}. */
export interface DescribeSchedulerStoreOptions {
  /** Suffix of the suite name, e.g. `"(sqlite)"`. */
  name?: string;
}

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const UNKNOWN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

function deploy(
  store: SchedulerStoreUnderTest,
  slug: string,
  manifest: Record<string, unknown> = {},
  config: Record<string, JsonValue> = {},
): Awaitable<WorkflowRow> {
  return store.upsertWorkflow({
    slug,
    manifest: validateMeta({ slug, triggers: [{ kind: "manual" }], ...manifest }),
    program: "export {};",
    config,
  });
}

async function codeOf(fn: () => Awaitable<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return isEngineError(error) ? error.code : `non-EngineError: ${String(error)}`;
  }
  return undefined;
}

function silentScheduler(
  store: SchedulerStore,
  clock: ManualClock,
  dispatch: (runId: string) => void = () => {},
): { scheduler: Scheduler; logs: string[] } {
  const logs: string[] = [];
  const scheduler = new Scheduler({ store, clock, dispatch, log: (line) => logs.push(line) });
  return { scheduler, logs };
}

/**
 * Register the `SchedulerStore` contract suite. `makeStore` is called once per test and must
 * return (or resolve with) an empty store; the suite closes it afterwards.
 */
export function describeSchedulerStore(
  makeStore: () => Awaitable<SchedulerStoreUnderTest>,
  options: DescribeSchedulerStoreOptions = {},
): void {
  describe(`SchedulerStore contract${options.name === undefined ? "" : ` ${options.name}`}`, () => {
    let open: SchedulerStoreUnderTest[] = [];
    const fresh = async (): Promise<SchedulerStoreUnderTest> => {
      const store = await makeStore();
      open.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of open) await store.close();
      open = [];
    });

    it("lists workflows by slug and keeps the id across a redeploy", async () => {
      const store = await fresh();
      const b = await deploy(store, "bravo");
      const a = await deploy(store, "alpha");
      const slugs = (await store.listWorkflows()).map((w) => w.slug);
      expect([...slugs].sort()).toEqual(["alpha", "bravo"]);
      const again = await deploy(store, "bravo", { description: "v2" });
      expect(again.id).toBe(b.id);
      expect(again.createdAt).toBe(b.createdAt);
      expect((await store.getWorkflowById(a.id))?.slug).toBe("alpha");
      expect(await store.getWorkflowById(UNKNOWN_ID)).toBeNull();
    });

    it("fires an instant as one queued cron run with null input, and records it", async () => {
      const store = await fresh();
      const wf = await deploy(store, "nightly");
      const run = await store.fireCron({ workflowId: wf.id, triggerIndex: 0, fireTime: T0 });
      expect(run).toMatchObject({
        workflowId: wf.id,
        status: "queued",
        triggerKind: "cron",
        input: null,
        parentRunId: null,
      });
      expect((await store.listRuns({})).map((r) => r.id)).toEqual([run?.id]);
      expect(await store.lastCronFire(wf.id, 0)).toBe(T0);
    });

    it("writes the fired run's queued event, cursor 1, with the run", async () => {
      const store = await fresh();
      const wf = await deploy(store, "nightly");
      const run = await store.fireCron({ workflowId: wf.id, triggerIndex: 0, fireTime: T0 });
      if (run === null) throw new Error("the first fire of an instant must create its run");
      const events = await store.listEvents(run.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        runId: run.id,
        cursor: 1,
        event: { kind: "run_status", status: "queued", runId: run.id, turnId: run.id, seq: 1 },
      });
    });

    it("answers null and writes nothing for an instant already recorded", async () => {
      const store = await fresh();
      const wf = await deploy(store, "nightly");
      const first = await store.fireCron({ workflowId: wf.id, triggerIndex: 0, fireTime: T0 });
      expect(first).not.toBeNull();
      expect(await store.fireCron({ workflowId: wf.id, triggerIndex: 0, fireTime: T0 })).toBeNull();
      expect((await store.listRuns({})).map((r) => r.id)).toEqual([first?.id]);
      // Another trigger index, or another instant, is a different fire.
      expect(
        await store.fireCron({ workflowId: wf.id, triggerIndex: 1, fireTime: T0 }),
      ).not.toBeNull();
      expect(
        await store.fireCron({ workflowId: wf.id, triggerIndex: 0, fireTime: T0 + 60_000 }),
      ).not.toBeNull();
      expect(await store.listRuns({})).toHaveLength(3);
    });

    it("lets exactly one of many concurrent fires of one instant create a run", async () => {
      const store = await fresh();
      const wf = await deploy(store, "nightly");
      const fire = { workflowId: wf.id, triggerIndex: 0, fireTime: T0 };
      const answers = await Promise.all(
        Array.from({ length: 8 }, async () => store.fireCron(fire)),
      );
      const created = answers.filter((run): run is RunRow => run !== null);
      expect(created).toHaveLength(1);
      const runs = await store.listRuns({});
      expect(runs.map((r) => r.id)).toEqual([created[0]?.id]);
      expect(await store.listEvents(created[0]?.id ?? "")).toHaveLength(1);
    });

    it("rejects a fire of an unknown workflow with NOT_FOUND and writes nothing", async () => {
      const store = await fresh();
      await deploy(store, "nightly");
      expect(
        await codeOf(() =>
          store.fireCron({ workflowId: UNKNOWN_ID, triggerIndex: 0, fireTime: T0 }),
        ),
      ).toBe("NOT_FOUND");
      expect(await store.listRuns({})).toEqual([]);
      expect(await store.lastCronFire(UNKNOWN_ID, 0)).toBeNull();
    });

    it("answers lastCronFire with the latest fire time per trigger, null without history", async () => {
      const store = await fresh();
      const wf = await deploy(store, "nightly");
      expect(await store.lastCronFire(wf.id, 0)).toBeNull();
      for (const [triggerIndex, fireTime] of [
        [0, T0 + 120_000],
        [0, T0 + 60_000],
        [1, T0 + 600_000],
      ] as const) {
        await store.fireCron({ workflowId: wf.id, triggerIndex, fireTime });
      }
      expect(await store.lastCronFire(wf.id, 0)).toBe(T0 + 120_000);
      expect(await store.lastCronFire(wf.id, 1)).toBe(T0 + 600_000);
      expect(await store.lastCronFire(wf.id, 2)).toBeNull();
    });

    it("lists runs by status and workflow, oldest first in creation order, with limit", async () => {
      const store = await fresh();
      const a = await deploy(store, "alpha");
      const b = await deploy(store, "bravo");
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const workflowId = i % 2 === 0 ? a.id : b.id;
        ids.push((await store.createRun({ workflowId, triggerKind: "manual" })).run.id);
      }
      await store.commitStatus(ids[2] ?? "", { to: "running", expect: ["queued"] });
      const queued = await store.listRuns({ statuses: ["queued"], order: "oldest" });
      expect(queued.map((r) => r.id)).toEqual([ids[0], ids[1], ids[3], ids[4], ids[5]]);
      expect(await store.listRuns({ statuses: [] })).toEqual([]);
      expect(
        await store.listRuns({ workflowId: a.id, statuses: ["pending", "running", "cancelling"] }),
      ).toHaveLength(1);
      expect(
        await store.listRuns({
          workflowId: b.id,
          statuses: ["queued"],
          order: "oldest",
          limit: 2,
        }),
      ).toHaveLength(2);
      expect((await store.listRuns({})).map((r) => r.id)).toEqual([...ids].reverse());
    });

    it("lets a Scheduler fire a due cron exactly once across ticks, restarts and clock replays", async () => {
      const store = await fresh();
      const wf = await deploy(store, "every-minute", {
        triggers: [{ kind: "cron", expr: "* * * * *" }],
      });
      const clock = createManualClock(T0);
      const first = silentScheduler(store, clock).scheduler;
      await first.tick();
      expect(await store.listRuns({})).toHaveLength(0);
      clock.advance(60_000);
      await first.tick();
      await first.tick();
      const runs = await store.listRuns({});
      expect(runs).toHaveLength(1);
      expect(runs[0]?.triggerKind).toBe("cron");
      expect(await store.lastCronFire(wf.id, 0)).toBe(T0 + 60_000);
      // A second engine that still believes it is T0 + 30 s, then catches up to T0 + 90 s.
      clock.set(T0 + 30_000);
      const replay = silentScheduler(store, clock);
      await replay.scheduler.tick();
      clock.set(T0 + 90_000);
      await replay.scheduler.tick();
      expect(await store.listRuns({})).toHaveLength(1);
      // Two live schedulers racing for the same instant: one run, one "already recorded" notice.
      const racing = silentScheduler(store, clock);
      await racing.scheduler.tick();
      clock.set(T0 + 120_000);
      await Promise.all([replay.scheduler.tick(), racing.scheduler.tick()]);
      expect(await store.listRuns({})).toHaveLength(2);
      const notices = [...replay.logs, ...racing.logs].filter((l) =>
        l.includes("already recorded"),
      );
      expect(notices).toHaveLength(1);
      expect(await store.lastCronFire(wf.id, 0)).toBe(T0 + 120_000);
    });

    it("lets a Scheduler start every fire of a cron trigger with the trigger's static input", async () => {
      const store = await fresh();
      const input = { repo: "acme/app", depth: 2, labels: ["bug"] };
      const wf = await deploy(store, "every-minute-with-input", {
        triggers: [
          { kind: "cron", expr: "* * * * *", input },
          { kind: "cron", expr: "* * * * *" },
        ],
      });
      const clock = createManualClock(T0);
      const { scheduler } = silentScheduler(store, clock);
      await scheduler.tick();
      clock.advance(60_000);
      await scheduler.tick();
      clock.advance(60_000);
      await scheduler.tick();
      const runs = await store.listRuns({ workflowId: wf.id, order: "oldest" });
      expect(runs).toHaveLength(4);
      const withInput = runs.filter((run) => run.input !== null);
      expect(withInput).toHaveLength(2);
      for (const run of withInput) expect(run).toMatchObject({ triggerKind: "cron", input });
      expect(runs.filter((run) => run.input === null)).toHaveLength(2);
    });

    it("lets a Scheduler release a serial workflow's queued runs one at a time, oldest first", async () => {
      const store = await fresh();
      const wf = await deploy(store, "serial", { concurrency: { mode: "serial" } });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await store.createRun({ workflowId: wf.id, triggerKind: "manual" })).run.id);
      }
      const dispatched: string[] = [];
      const moves: Promise<unknown>[] = [];
      const { scheduler } = silentScheduler(store, createManualClock(T0), (runId) => {
        dispatched.push(runId);
        moves.push(
          Promise.resolve(store.commitStatus(runId, { to: "running", expect: ["queued"] })),
        );
      });
      const move = async (id: string | undefined, to: RunStatus): Promise<void> => {
        await Promise.all(moves);
        await store.commitStatus(id ?? "", { to, expect: ["running", "cancelling"] });
      };
      // Overlapping release requests admit one run, whether or not its move has landed yet.
      await Promise.all([scheduler.releaseQueued(), scheduler.releaseQueued()]);
      await scheduler.releaseQueued();
      expect(dispatched).toEqual([ids[0]]);
      await move(ids[0], "cancelling");
      await scheduler.releaseQueued();
      expect(dispatched).toEqual([ids[0]]);
      await move(ids[0], "completed");
      await scheduler.releaseQueued();
      expect(dispatched).toEqual([ids[0], ids[1]]);
      await move(ids[1], "failed");
      await scheduler.releaseQueued();
      expect(dispatched).toEqual(ids);
    });
  });
}
