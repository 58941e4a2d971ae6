/**
 * Cron fires through the Scheduler, over the in-memory store in both modes (promises like
 * PostgreSQL, plain values like SQLite) with a manual clock: exactly-once fires under repeated,
 * replayed, restarted and racing ticks; catch-up; the late-fire threshold; and containment. If one
 * of these breaks, a cron job double-fires after a restart, a missed fire is run or lost silently,
 * or one bad row silences every other workflow.
 */
import { describe, expect, it } from "vitest";
import type { WorkflowRow } from "@promenade/workflow/records";
import type { SchedulerStore } from "./ports.ts";
import { harness, MINUTE, MODES, T0, type Harness } from "../test/harness.ts";

describe.each(MODES)("cron fires ($mode)", ({ sync }) => {
  it("fires nothing on first sight, then each crossed minute exactly once", async () => {
    const h = harness(sync);
    const wf = await h.deploy("every-minute");
    const scheduler = h.make();
    await scheduler.tick();
    expect(h.runs()).toHaveLength(0);
    h.clock.advance(MINUTE);
    await scheduler.tick();
    await scheduler.tick();
    const runs = h.runs();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ triggerKind: "cron", input: null, workflowId: wf.id });
    expect(await h.store.lastCronFire(wf.id, 0)).toBe(T0 + MINUTE);
    h.clock.advance(3 * MINUTE);
    await scheduler.tick();
    expect(h.runs()).toHaveLength(4);
    expect(h.fireTimes()).toEqual([1, 2, 3, 4].map((n) => T0 + n * MINUTE));
    // Each fired run carries the queued event the store wrote with it, and was offered to dispatch.
    for (const run of h.runs()) {
      const events = await h.store.listEvents(run.id);
      expect(events[0]?.event).toMatchObject({ kind: "run_status", status: "queued" });
    }
    expect([...h.dispatched].sort()).toEqual(h.runs().map((r) => r.id));
  });

  it("never creates a second run for a fire across replayed clocks and restarts", async () => {
    const h = harness(sync);
    const wf = await h.deploy("every-minute", {
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
      await scheduler.tick();
      if (random() < 0.2) await scheduler.tick();
    }
    const fires = h.store.listCronFires();
    const runs = h.runs();
    expect(runs.length).toBe(fires.length);
    expect(new Set(fires.map((f) => f.runId)).size).toBe(fires.length);
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(fires.map((f) => f.runId)));
    for (const index of [0, 2]) {
      const times = fires.filter((f) => f.triggerIndex === index).map((f) => f.fireTime);
      expect(new Set(times).size).toBe(times.length);
      expect(Math.max(...times)).toBeLessThanOrEqual(maxNow);
    }
    expect(fires.some((f) => f.triggerIndex === 1)).toBe(false);
    expect(await h.store.lastCronFire(wf.id, 0)).not.toBeNull();
  });

  it("logs an instant another scheduler already fired and moves on without a run", async () => {
    const h = harness(sync);
    await h.deploy("every-minute");
    const a = h.make();
    const b = h.make();
    await a.tick();
    await b.tick();
    h.clock.advance(MINUTE);
    await Promise.all([a.tick(), b.tick()]);
    expect(h.runs()).toHaveLength(1);
    const notices = h.logs.filter(
      (l) => l.includes("every-minute") && l.includes("already recorded"),
    );
    expect(notices).toHaveLength(1);
    h.clock.advance(MINUTE);
    await Promise.all([b.tick(), a.tick()]);
    expect(h.runs()).toHaveLength(2);
  });

  it("fires every boundary of a delayed tick, but treats fires older than the threshold as missed", async () => {
    const h = harness(sync);
    await h.deploy("every-minute");
    const scheduler = h.make({ lateFireThresholdMs: 5 * MINUTE });
    await scheduler.tick();
    h.clock.advance(3 * MINUTE);
    await scheduler.tick();
    expect(h.runs()).toHaveLength(3);
    h.clock.advance(60 * MINUTE); // the host slept
    await scheduler.tick();
    expect(h.runs()).toHaveLength(3);
    const notice = h.logs.find((l) => l.includes("missed"));
    expect(notice).toBe(
      '[scheduler] every-minute trigger #0: skipped 60 missed cron fire(s) while the scheduler was stalled (catch_up: "skip")',
    );
    h.clock.advance(MINUTE);
    await scheduler.tick();
    expect(h.fireTimes().at(-1)).toBe(T0 + 64 * MINUTE);
  });

  it("keeps anchors across a redeploy and follows a changed expression from then on", async () => {
    const h = harness(sync);
    const wf = await h.deploy("job");
    const scheduler = h.make();
    await scheduler.tick();
    h.clock.advance(MINUTE);
    await scheduler.tick();
    await h.deploy("job"); // same expression, same millisecond
    await scheduler.tick();
    expect(h.runs()).toHaveLength(1);
    await h.deploy("job", { triggers: [{ kind: "cron", expr: "*/10 * * * * *" }] }); // same ms again
    h.clock.advance(30_000);
    await scheduler.tick();
    expect(h.fireTimes(wf.id)).toEqual([T0 + MINUTE, T0 + 70_000, T0 + 80_000, T0 + 90_000]);
  });

  it("keeps firing exactly once per boundary after thousands of redeploys", async () => {
    const h = harness(sync);
    const wf = await h.deploy("churn");
    const scheduler = h.make();
    await scheduler.tick();
    for (let i = 0; i < 3000; i++) {
      h.clock.advance(1); // a new updatedAt: every redeploy rebuilds the trigger
      await h.deploy("churn", { description: `v${i}` });
      await scheduler.tick();
    }
    h.clock.set(T0 + 2 * MINUTE);
    await scheduler.tick();
    expect(h.fireTimes(wf.id)).toEqual([T0 + MINUTE, T0 + 2 * MINUTE]);
  });
});

describe.each(MODES)("catch-up after a restart ($mode)", ({ sync }) => {
  async function restartedAfterDowntime(
    config: Record<string, string>,
  ): Promise<Harness & { wf: WorkflowRow }> {
    const h = harness(sync);
    const wf = await h.deploy("hourly-report", {}, config);
    const first = h.make();
    await first.tick();
    h.clock.advance(MINUTE);
    await first.tick();
    expect(h.runs()).toHaveLength(1);
    h.clock.advance(2 * 60 * MINUTE + 30_000);
    return { ...h, wf };
  }

  it("skips missed fires by default and logs one notice naming the workflow and count", async () => {
    const h = await restartedAfterDowntime({});
    const scheduler = h.make();
    await scheduler.tick();
    await scheduler.tick();
    expect(h.runs()).toHaveLength(1);
    const notices = h.logs.filter((l) => l.includes("missed"));
    expect(notices).toEqual([
      '[scheduler] hourly-report trigger #0: skipped 120 missed cron fire(s) from downtime (catch_up: "skip")',
    ]);
    h.clock.advance(30_000);
    await scheduler.tick();
    expect(h.fireTimes(h.wf.id).at(-1)).toBe(T0 + 122 * MINUTE);
  });

  it('runs once at the latest missed instant with catch_up: "once"', async () => {
    const h = await restartedAfterDowntime({ catch_up: "once" });
    const scheduler = h.make();
    await scheduler.tick();
    await scheduler.tick();
    const runs = h.runs();
    expect(runs).toHaveLength(2);
    expect(runs[1]?.triggerKind).toBe("cron");
    expect(await h.store.lastCronFire(h.wf.id, 0)).toBe(T0 + 121 * MINUTE);
    expect(h.logs.filter((l) => l.includes("missed"))).toEqual([
      '[scheduler] hourly-report trigger #0: 120 missed cron fire(s) from downtime — ran once (catch_up: "once")',
    ]);
    // A second restart at the same moment changes nothing.
    await h.make().tick();
    expect(h.runs()).toHaveLength(2);
  });

  it("says nothing when no fire was missed", async () => {
    const h = harness(sync);
    await h.deploy("job");
    const first = h.make();
    await first.tick();
    h.clock.advance(MINUTE);
    await first.tick();
    h.clock.advance(30_000);
    await h.make().tick();
    expect(h.logs.filter((l) => l.includes("missed"))).toEqual([]);
  });

  it("caps the count at 10000", async () => {
    const h = harness(sync);
    await h.deploy("per-second", { triggers: [{ kind: "cron", expr: "* * * * * *" }] });
    const first = h.make();
    await first.tick();
    h.clock.advance(1000);
    await first.tick();
    h.clock.advance(4 * 60 * MINUTE);
    await h.make().tick();
    expect(h.logs.find((l) => l.includes("missed"))).toContain("≥10000");
  });
});

describe.each(MODES)("containment ($mode)", ({ sync }) => {
  it("keeps firing healthy workflows while a broken one is logged once per version", async () => {
    const h = harness(sync);
    const good = await h.deploy("good");
    await h.deploy("bad-cron", { triggers: [{ kind: "cron", expr: "* * * *" }] });
    await h.deploy("bad-config", {}, { catch_up: "sometimes" });
    const scheduler = h.make();
    for (let i = 0; i < 5; i++) {
      await scheduler.tick();
      h.clock.advance(MINUTE);
    }
    expect(h.runs().every((r) => r.workflowId === good.id)).toBe(true);
    expect(h.runs()).toHaveLength(4);
    expect(h.logs.filter((l) => l.includes("bad-cron"))).toHaveLength(1);
    expect(h.logs.filter((l) => l.includes("bad-config"))).toHaveLength(1);
    expect(h.logs.find((l) => l.includes("bad-cron"))).toContain("got 4");
    // Fixing the row by redeploying brings it back.
    const fixed = await h.deploy("bad-cron");
    await scheduler.tick();
    h.clock.advance(MINUTE);
    await scheduler.tick();
    expect(h.runs((r) => r.workflowId === fixed.id)).toHaveLength(1);
  });

  it("retries a fire whose store write failed, once it succeeds, without a duplicate", async () => {
    const h = harness(sync);
    const flaky = await h.deploy("flaky");
    const good = await h.deploy("good");
    let broken = true;
    const store = h.store;
    const fail = (): never => {
      throw new Error("connection reset");
    };
    const wrapped: SchedulerStore = {
      listWorkflows: () => store.listWorkflows(),
      getWorkflowById: (id) => store.getWorkflowById(id),
      listRuns: (filter) => store.listRuns(filter),
      lastCronFire: (id, index) => store.lastCronFire(id, index),
      fireCron: (fire) => {
        if (!broken || fire.workflowId !== flaky.id) return store.fireCron(fire);
        return sync ? fail() : Promise.reject(new Error("connection reset"));
      },
    };
    const scheduler = h.make({ store: wrapped });
    await scheduler.tick();
    h.clock.advance(MINUTE);
    await scheduler.tick();
    await scheduler.tick();
    expect(h.runs((r) => r.workflowId === good.id)).toHaveLength(1);
    expect(h.runs((r) => r.workflowId === flaky.id)).toHaveLength(0);
    expect(h.logs.filter((l) => l.includes("connection reset"))).toHaveLength(1);
    broken = false;
    await scheduler.tick();
    await scheduler.tick();
    expect(h.fireTimes(flaky.id)).toEqual([T0 + MINUTE]);
  });

  it("retries a first sight whose history lookup failed", async () => {
    const h = harness(sync);
    const wf = await h.deploy("job");
    const first = h.make();
    await first.tick();
    h.clock.advance(MINUTE);
    await first.tick();
    let broken = true;
    const store = h.store;
    const wrapped: SchedulerStore = {
      listWorkflows: () => store.listWorkflows(),
      getWorkflowById: (id) => store.getWorkflowById(id),
      listRuns: (filter) => store.listRuns(filter),
      fireCron: (fire) => store.fireCron(fire),
      lastCronFire: (id, index) => {
        if (!broken) return store.lastCronFire(id, index);
        return Promise.reject(new Error("timeout reading cron_fires"));
      },
    };
    const restarted = h.make({ store: wrapped });
    h.clock.advance(2 * MINUTE);
    await restarted.tick(); // no history: nothing may fire, not even as if it were new
    expect(h.fireTimes(wf.id)).toEqual([T0 + MINUTE]);
    expect(h.logs.filter((l) => l.includes("timeout reading cron_fires"))).toHaveLength(1);
    broken = false;
    await restarted.tick();
    expect(h.fireTimes(wf.id)).toEqual([T0 + MINUTE]);
    expect(h.logs.some((l) => l.includes("skipped 2 missed"))).toBe(true);
  });
});
