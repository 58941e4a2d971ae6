/**
 * Scheduler behaviour over the in-memory store with a manual clock: exactly-once fires under
 * repeated, replayed and restarted ticks; catch-up; error containment; and the dispatch gate. If
 * one of these breaks, a cron job double-fires after a restart, a serial workflow runs two at a
 * time, or one bad row silences every other workflow.
 */
import { describe, expect, it } from "vitest";
import type { WorkflowRow } from "@promenade/store";
import { validateMeta, type WorkflowManifest } from "@promenade/workflow";
import { isEngineError } from "@promenade/workflow/errors";
import type { Clock } from "./ports.ts";
import { Scheduler, type SchedulerOptions } from "./scheduler.ts";
import { createFakeClock, type FakeClock } from "./testing/fake-clock.ts";
import { InMemorySchedulerStore } from "./testing/in-memory-store.ts";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const MINUTE = 60_000;

interface Harness {
  store: InMemorySchedulerStore;
  clock: FakeClock;
  logs: string[];
  queuedEvents: string[];
  dispatched: string[];
  make(overrides?: Partial<SchedulerOptions>): Scheduler;
  deploy(
    slug: string,
    manifest?: Record<string, unknown>,
    config?: Record<string, string>,
  ): WorkflowRow;
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

function harness(start = T0): Harness {
  const clock = createFakeClock(start);
  const store = new InMemorySchedulerStore({ now: () => clock.now() });
  const logs: string[] = [];
  const queuedEvents: string[] = [];
  const dispatched: string[] = [];
  return {
    store,
    clock,
    logs,
    queuedEvents,
    dispatched,
    make: (overrides = {}) =>
      new Scheduler({
        store,
        clock,
        log: (line) => logs.push(line),
        emitQueued: (runId) => queuedEvents.push(runId),
        dispatch: (runId) => {
          dispatched.push(runId);
          store.updateRunStatus(runId, "running");
        },
        ...overrides,
      }),
    deploy: (slug, manifest = {}, config = {}) =>
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
  };
}

function fireTimes(store: InMemorySchedulerStore, workflowId?: string): number[] {
  return store
    .listCronFires()
    .filter((f) => workflowId === undefined || f.workflowId === workflowId)
    .map((f) => f.fireTime)
    .sort((a, b) => a - b);
}

describe("cron fires (spec 02 §6.4, check 55)", () => {
  it("fires nothing on first sight, then each crossed minute exactly once", () => {
    const h = harness();
    const wf = h.deploy("every-minute");
    const scheduler = h.make();
    scheduler.tick();
    expect(h.store.listRuns()).toHaveLength(0);
    h.clock.advance(MINUTE);
    scheduler.tick();
    scheduler.tick();
    const runs = h.store.listRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ triggerKind: "cron", input: null, workflowId: wf.id });
    expect(h.store.lastCronFire(wf.id, 0)).toBe(T0 + MINUTE);
    h.clock.advance(3 * MINUTE);
    scheduler.tick();
    expect(h.store.listRuns()).toHaveLength(4);
    expect(fireTimes(h.store)).toEqual([1, 2, 3, 4].map((n) => T0 + n * MINUTE));
    // Each fire emitted its queued event and was offered to dispatch.
    expect([...h.queuedEvents].sort()).toEqual(
      h.store
        .listRuns()
        .map((r) => r.id)
        .sort(),
    );
    expect(h.dispatched).toHaveLength(4);
  });

  it("commits run, fire record and queued event together: a failed emit leaves nothing", () => {
    const h = harness();
    const wf = h.deploy("every-minute");
    let failing = true;
    const scheduler = h.make({
      emitQueued: (runId) => {
        if (failing) throw new Error("event append failed");
        h.queuedEvents.push(runId);
      },
    });
    scheduler.tick();
    h.clock.advance(MINUTE);
    scheduler.tick();
    scheduler.tick();
    expect(h.store.listRuns()).toHaveLength(0);
    expect(h.store.lastCronFire(wf.id, 0)).toBeNull();
    expect(h.logs.filter((l) => l.includes("event append failed"))).toHaveLength(1);
    failing = false;
    scheduler.tick();
    scheduler.tick();
    expect(h.store.listRuns()).toHaveLength(1);
    expect(fireTimes(h.store)).toEqual([T0 + MINUTE]);
    expect(h.queuedEvents).toEqual([h.store.listRuns()[0]?.id]);
  });

  it("never creates a second run for a fire across replayed clocks and restarts", () => {
    const h = harness();
    const wf = h.deploy("every-minute", {
      triggers: [
        { kind: "cron", expr: "* * * * *" },
        { kind: "manual" },
        { kind: "cron", expr: "*/2 * * * *" },
      ],
    });
    // A deterministic walk: forward, backward (replay), and a fresh scheduler (restart) now and then.
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let scheduler = h.make();
    let maxNow = T0;
    for (let step = 0; step < 400; step++) {
      const r = random();
      if (r < 0.1) scheduler = h.make();
      const jump = r < 0.3 ? -Math.floor(random() * 5 * MINUTE) : Math.floor(random() * 2 * MINUTE);
      h.clock.set(Math.max(T0, h.clock.now() + jump));
      maxNow = Math.max(maxNow, h.clock.now());
      scheduler.tick();
      if (random() < 0.2) scheduler.tick();
    }
    const fires = h.store.listCronFires();
    const runs = h.store.listRuns();
    expect(runs.length).toBe(fires.length);
    expect(new Set(fires.map((f) => f.runId)).size).toBe(fires.length);
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(fires.map((f) => f.runId)));
    for (const index of [0, 2]) {
      const times = fires.filter((f) => f.triggerIndex === index).map((f) => f.fireTime);
      expect(new Set(times).size).toBe(times.length);
      expect(Math.max(...times)).toBeLessThanOrEqual(maxNow);
    }
    expect(fires.some((f) => f.triggerIndex === 1)).toBe(false);
    expect(h.store.lastCronFire(wf.id, 0)).not.toBeNull();
  });

  it("logs a CONFLICT from a concurrent fire and moves on without a run", () => {
    const h = harness();
    h.deploy("every-minute");
    const a = h.make();
    const b = h.make();
    a.tick();
    b.tick();
    h.clock.advance(MINUTE);
    a.tick();
    b.tick();
    expect(h.store.listRuns()).toHaveLength(1);
    expect(h.logs.some((l) => l.includes("every-minute") && l.includes("already recorded"))).toBe(
      true,
    );
    h.clock.advance(MINUTE);
    b.tick();
    a.tick();
    expect(h.store.listRuns()).toHaveLength(2);
  });

  it("fires every boundary of a delayed tick, but treats fires older than the threshold as missed", () => {
    const h = harness();
    h.deploy("every-minute");
    const scheduler = h.make({ lateFireThresholdMs: 5 * MINUTE });
    scheduler.tick();
    h.clock.advance(3 * MINUTE);
    scheduler.tick();
    expect(h.store.listRuns()).toHaveLength(3);
    h.clock.advance(60 * MINUTE); // the host slept
    scheduler.tick();
    expect(h.store.listRuns()).toHaveLength(3);
    const notice = h.logs.find((l) => l.includes("missed"));
    expect(notice).toContain("every-minute");
    expect(notice).toContain("60");
    expect(notice).toContain("skip");
    h.clock.advance(MINUTE);
    scheduler.tick();
    expect(fireTimes(h.store).at(-1)).toBe(T0 + 64 * MINUTE);
  });

  it("keeps anchors across a redeploy and follows a changed expression from then on", () => {
    const h = harness();
    const wf = h.deploy("job");
    const scheduler = h.make();
    scheduler.tick();
    h.clock.advance(MINUTE);
    scheduler.tick();
    h.deploy("job"); // same expression, same millisecond
    scheduler.tick();
    expect(h.store.listRuns()).toHaveLength(1);
    h.deploy("job", { triggers: [{ kind: "cron", expr: "*/10 * * * * *" }] }); // same ms again
    h.clock.advance(30_000);
    scheduler.tick();
    expect(fireTimes(h.store, wf.id)).toEqual([T0 + MINUTE, T0 + 70_000, T0 + 80_000, T0 + 90_000]);
  });
});

describe("redeploy churn", () => {
  it("keeps firing exactly once per boundary after thousands of redeploys", () => {
    const h = harness();
    const wf = h.deploy("churn");
    const scheduler = h.make();
    scheduler.tick();
    for (let i = 0; i < 3000; i++) {
      h.clock.advance(1); // a new updatedAt: every redeploy rebuilds the trigger
      h.deploy("churn", { description: `v${i}` });
      scheduler.tick();
    }
    h.clock.set(T0 + 2 * MINUTE);
    scheduler.tick();
    expect(fireTimes(h.store, wf.id)).toEqual([T0 + MINUTE, T0 + 2 * MINUTE]);
  });
});

describe("catch-up after a restart (spec 02 §6.5, check 56)", () => {
  function restartedAfterDowntime(config: Record<string, string>): Harness & { wf: WorkflowRow } {
    const h = harness();
    const wf = h.deploy("hourly-report", {}, config);
    const first = h.make();
    first.tick();
    h.clock.advance(MINUTE);
    first.tick();
    expect(h.store.listRuns()).toHaveLength(1);
    h.clock.advance(2 * 60 * MINUTE + 30_000);
    return { ...h, wf };
  }

  it("skips missed fires by default and logs one notice naming the workflow and count", () => {
    const h = restartedAfterDowntime({});
    const scheduler = h.make();
    scheduler.tick();
    scheduler.tick();
    expect(h.store.listRuns()).toHaveLength(1);
    const notices = h.logs.filter((l) => l.includes("missed"));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toBe(
      '[scheduler] hourly-report trigger #0: skipped 120 missed cron fire(s) from downtime (catch_up: "skip")',
    );
    h.clock.advance(30_000);
    scheduler.tick();
    expect(fireTimes(h.store, h.wf.id).at(-1)).toBe(T0 + 122 * MINUTE);
  });

  it('runs once at the latest missed instant with catch_up: "once"', () => {
    const h = restartedAfterDowntime({ catch_up: "once" });
    const scheduler = h.make();
    scheduler.tick();
    scheduler.tick();
    const runs = h.store.listRuns();
    expect(runs).toHaveLength(2);
    expect(runs[0]?.triggerKind).toBe("cron");
    expect(h.store.lastCronFire(h.wf.id, 0)).toBe(T0 + 121 * MINUTE);
    const notice = h.logs.find((l) => l.includes("missed")) ?? "";
    expect(notice).toContain("120");
    expect(notice).toContain("once");
    // A second restart at the same moment changes nothing.
    h.make().tick();
    expect(h.store.listRuns()).toHaveLength(2);
  });

  it("says nothing when no fire was missed", () => {
    const h = harness();
    h.deploy("job");
    const first = h.make();
    first.tick();
    h.clock.advance(MINUTE);
    first.tick();
    h.clock.advance(30_000);
    h.make().tick();
    expect(h.logs.filter((l) => l.includes("missed"))).toEqual([]);
  });

  it("caps the count at 10000", () => {
    const h = harness();
    h.deploy("per-second", { triggers: [{ kind: "cron", expr: "* * * * * *" }] });
    const first = h.make();
    first.tick();
    h.clock.advance(1000);
    first.tick();
    h.clock.advance(4 * 60 * MINUTE);
    h.make().tick();
    expect(h.logs.find((l) => l.includes("missed"))).toContain("≥10000");
  });
});

describe("containment (spec 02 §6.3)", () => {
  it("keeps firing healthy workflows while a broken one is logged once per version", () => {
    const h = harness();
    const good = h.deploy("good");
    h.deploy("bad-cron", { triggers: [{ kind: "cron", expr: "* * * *" }] });
    h.deploy("bad-config", {}, { catch_up: "sometimes" });
    const scheduler = h.make();
    for (let i = 0; i < 5; i++) {
      scheduler.tick();
      h.clock.advance(MINUTE);
    }
    expect(h.store.listRuns().every((r) => r.workflowId === good.id)).toBe(true);
    expect(h.store.listRuns()).toHaveLength(4);
    expect(h.logs.filter((l) => l.includes("bad-cron"))).toHaveLength(1);
    expect(h.logs.filter((l) => l.includes("bad-config"))).toHaveLength(1);
    expect(h.logs.find((l) => l.includes("bad-cron"))).toContain("got 4");
    // Fixing the row by redeploying brings it back.
    const fixed = h.deploy("bad-cron");
    scheduler.tick();
    h.clock.advance(MINUTE);
    scheduler.tick();
    expect(h.store.listRuns({ workflowId: fixed.id })).toHaveLength(1);
  });

  it("retries a fire whose store write failed, once it succeeds, without a duplicate", () => {
    const h = harness();
    const flaky = h.deploy("flaky");
    const good = h.deploy("good");
    let broken = true;
    const store = h.store;
    const scheduler = h.make({
      store: {
        transaction: (fn) => store.transaction(fn),
        listWorkflows: () => store.listWorkflows(),
        getWorkflowById: (id) => store.getWorkflowById(id),
        listRuns: (filter) => store.listRuns(filter),
        lastCronFire: (id, index) => store.lastCronFire(id, index),
        recordCronFire: (args) => store.recordCronFire(args),
        createRun: (args) => {
          if (broken && args.workflowId === flaky.id) throw new Error("SQLITE_BUSY");
          return store.createRun(args);
        },
      },
    });
    scheduler.tick();
    h.clock.advance(MINUTE);
    scheduler.tick();
    scheduler.tick();
    expect(h.store.listRuns({ workflowId: good.id })).toHaveLength(1);
    expect(h.store.listRuns({ workflowId: flaky.id })).toHaveLength(0);
    expect(h.logs.filter((l) => l.includes("SQLITE_BUSY"))).toHaveLength(1);
    broken = false;
    scheduler.tick();
    scheduler.tick();
    expect(fireTimes(h.store, flaky.id)).toEqual([T0 + MINUTE]);
  });
});

describe("dispatch gate (spec 02 §6.6, check 59)", () => {
  function startRuns(h: Harness, workflowId: string, n: number, parentRunId?: string): string[] {
    return Array.from({ length: n }, () =>
      h.store.transaction(
        () =>
          h.store.createRun({
            workflowId,
            triggerKind: "manual",
            ...(parentRunId === undefined ? {} : { parentRunId }),
          }).run.id,
      ),
    );
  }

  it("serial: 20 runs started at once run one at a time and complete in creation order", async () => {
    const h = harness();
    const wf = h.deploy("serial", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial" },
    });
    let running = 0;
    let maxRunning = 0;
    const completed: string[] = [];
    const scheduler: Scheduler = h.make({
      // A supervisor stand-in: pending at once, running and completed on later turns, and the
      // onTerminal hook releasing the queue (spec 02 §6.7).
      dispatch: (runId) => {
        h.store.updateRunStatus(runId, "pending");
        setImmediate(() => {
          h.store.updateRunStatus(runId, "running");
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          setImmediate(() => {
            running -= 1;
            h.store.updateRunStatus(runId, "completed");
            completed.push(runId);
            setImmediate(() => scheduler.releaseQueued());
          });
        });
      },
    });
    const ids = startRuns(h, wf.id, 20);
    for (const _ of ids) scheduler.releaseQueued(); // like 20 startRun calls
    expect(h.store.listRuns({ statuses: ["queued"] })).toHaveLength(19);
    await new Promise<void>((resolve) => {
      const poll = (): void => (completed.length === 20 ? resolve() : void setImmediate(poll));
      poll();
    });
    expect(maxRunning).toBe(1);
    expect(completed).toEqual(ids);
  });

  describe("releaseStarted (the engine's startRun)", () => {
    function countQueuedListings(h: Harness): { count: number } {
      const counter = { count: 0 };
      const listRuns = h.store.listRuns.bind(h.store);
      h.store.listRuns = (filter) => {
        if (filter?.statuses?.length === 1 && filter.statuses[0] === "queued") counter.count += 1;
        return listRuns(filter);
      };
      return counter;
    }
    const runOf = (
      h: Harness,
      id: string,
    ): { id: string; workflowId: string; parentRunId: string | null } => {
      const run = h.store.listRuns().find((row) => row.id === id);
      if (run === undefined) throw new Error(`no run ${id}`);
      return run;
    };

    it("hands an unlimited workflow's new run out without listing the queue once nothing waits", () => {
      const h = harness();
      const wf = h.deploy("fanout", { triggers: [{ kind: "manual" }] });
      const scheduler = h.make();
      scheduler.releaseQueued(); // the first pass always lists: queued runs may predate it
      const listings = countQueuedListings(h);
      const ids = startRuns(h, wf.id, 3);
      for (const id of ids) scheduler.releaseStarted(runOf(h, id));
      expect(h.dispatched).toEqual(ids);
      expect(listings.count).toBe(0);
    });

    it("lists the queue before the first full pass, so runs queued by an earlier process go first", () => {
      const h = harness();
      const wf = h.deploy("fanout", { triggers: [{ kind: "manual" }] });
      const [old] = startRuns(h, wf.id, 1);
      const scheduler = h.make();
      const [fresh] = startRuns(h, wf.id, 1);
      scheduler.releaseStarted(runOf(h, fresh ?? ""));
      expect(h.dispatched).toEqual([old, fresh]);
    });

    it("keeps the gate for serial workflows and lists while a gated run waits", () => {
      const h = harness();
      const serial = h.deploy("serial", {
        triggers: [{ kind: "manual" }],
        concurrency: { mode: "serial" },
      });
      const free = h.deploy("free", { triggers: [{ kind: "manual" }] });
      const scheduler = h.make();
      scheduler.releaseQueued();
      const [s1, s2] = startRuns(h, serial.id, 2);
      scheduler.releaseStarted(runOf(h, s1 ?? ""));
      scheduler.releaseStarted(runOf(h, s2 ?? ""));
      expect(h.dispatched).toEqual([s1]); // s2 waits behind s1

      const listings = countQueuedListings(h);
      const [f1] = startRuns(h, free.id, 1);
      scheduler.releaseStarted(runOf(h, f1 ?? ""));
      expect(h.dispatched).toEqual([s1, f1]);
      expect(listings.count).toBe(1); // s2 was left behind: a full pass, not the shortcut

      h.store.updateRunStatus(s1 ?? "", "completed");
      scheduler.releaseQueued();
      expect(h.dispatched).toEqual([s1, f1, s2]);
      const [f2] = startRuns(h, free.id, 1);
      scheduler.releaseStarted(runOf(h, f2 ?? ""));
      expect(h.dispatched).toEqual([s1, f1, s2, f2]);
      expect(listings.count).toBe(2); // nothing waits any more: the shortcut again
    });
  });

  it("unlimited dispatches every queued run at once, oldest first", () => {
    const h = harness();
    const wf = h.deploy("fanout", { triggers: [{ kind: "manual" }] });
    const ids = startRuns(h, wf.id, 3);
    h.make().releaseQueued();
    expect(h.dispatched).toEqual(ids);
  });

  it("serial_by_key gates like serial within a workflow; other workflows keep their own slot", () => {
    const h = harness();
    const a = h.deploy("a", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial_by_key", key: "tenant" },
    });
    const b = h.deploy("b", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial_by_key", key: "tenant" },
    });
    const [a1, a2] = startRuns(h, a.id, 2);
    const [b1] = startRuns(h, b.id, 1);
    const scheduler = h.make();
    scheduler.releaseQueued();
    expect(h.dispatched).toEqual([a1, b1]);
    h.store.updateRunStatus(a1 ?? "", "completed");
    scheduler.releaseQueued();
    expect(h.dispatched).toEqual([a1, b1, a2]);
  });

  it("child runs bypass the gate but hold their workflow's slot while active", () => {
    const h = harness();
    const wf = h.deploy("serial", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial" },
    });
    const [parent] = startRuns(h, wf.id, 1);
    const scheduler = h.make();
    scheduler.releaseQueued();
    const [child] = startRuns(h, wf.id, 1, parent);
    const [later] = startRuns(h, wf.id, 1);
    scheduler.releaseQueued();
    expect(h.dispatched).toEqual([parent, child]);
    h.store.updateRunStatus(parent ?? "", "completed");
    scheduler.releaseQueued();
    expect(h.dispatched).toEqual([parent, child]); // the child still holds the slot
    h.store.updateRunStatus(child ?? "", "completed");
    scheduler.releaseQueued();
    expect(h.dispatched).toEqual([parent, child, later]);
  });

  it("never re-dispatches a handed-out run that still reads queued, and holds its slot", () => {
    const h = harness();
    const wf = h.deploy("serial", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial" },
    });
    const ids = startRuns(h, wf.id, 2);
    const scheduler = h.make({ dispatch: (runId) => h.dispatched.push(runId) });
    scheduler.releaseQueued();
    scheduler.releaseQueued();
    scheduler.tick();
    expect(h.dispatched).toEqual([ids[0]]);
    h.store.updateRunStatus(ids[0] ?? "", "cancelled"); // e.g. cancelled while queued
    scheduler.releaseQueued();
    expect(h.dispatched).toEqual(ids);
  });

  it("logs a dispatch that throws and offers the run again on the next pass", () => {
    const h = harness();
    const wf = h.deploy("fanout", { triggers: [{ kind: "manual" }] });
    const [id] = startRuns(h, wf.id, 1);
    let fail = true;
    const scheduler = h.make({
      dispatch: (runId) => {
        if (fail) throw new Error("spawn failed");
        h.dispatched.push(runId);
      },
    });
    scheduler.releaseQueued();
    expect(h.logs.some((l) => l.includes("spawn failed"))).toBe(true);
    fail = false;
    scheduler.releaseQueued();
    expect(h.dispatched).toEqual([id]);
  });
});

describe("loop and options (spec 02 §6.1)", () => {
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it("ticks inside start(), then once per interval of the injected clock, until stop()", async () => {
    const h = harness();
    h.deploy("per-second", { triggers: [{ kind: "cron", expr: "* * * * * *" }] });
    const scheduler = h.make({ tickIntervalMs: 1000 });
    scheduler.start();
    scheduler.start(); // idempotent
    for (let i = 0; i < 5; i++) {
      h.clock.advance(1000);
      await turn();
    }
    expect(h.store.listRuns()).toHaveLength(5);
    scheduler.stop();
    scheduler.stop();
    h.clock.advance(5000);
    await turn();
    expect(h.store.listRuns()).toHaveLength(5);
  });

  it("logs a tick slower than its budget (measured on the injected clock)", () => {
    const h = harness();
    h.deploy("job");
    const clockStepping = (stepMs: number): Clock => {
      let now = T0;
      return { now: () => (now += stepMs), sleep: () => Promise.resolve() };
    };
    h.make({ tickBudgetMs: 250, clock: clockStepping(200) }).tick();
    expect(h.logs.filter((l) => l.includes("tick took"))).toEqual([]);
    h.make({ tickBudgetMs: 100, clock: clockStepping(300) }).tick();
    expect(h.logs.filter((l) => l.includes("tick took"))).toEqual([
      "[scheduler] tick took 300ms (budget 100ms)",
    ]);
  });

  it("rejects non-positive or fractional durations with VALIDATION", () => {
    const h = harness();
    for (const bad of [{ tickIntervalMs: 0 }, { tickBudgetMs: -1 }, { lateFireThresholdMs: 1.5 }]) {
      try {
        h.make(bad);
        throw new Error("accepted");
      } catch (error) {
        expect(isEngineError(error) && error.code).toBe("VALIDATION");
      }
    }
  });
});
