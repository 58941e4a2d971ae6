/**
 * The Scheduler itself: a tick over a synchronous store is complete when `tick()` returns (the
 * embedded engine's `engine.tick()` promises that), over an asynchronous one it is a promise;
 * ticks never overlap and a request made during one is served by one more; store-wide failures
 * surface; the loop and the options. If these break, an embedder's `engine.tick(); listRuns()`
 * misses the run it just fired, or two ticks race over one trigger.
 */
import { describe, expect, it } from "vitest";
import { isEngineError } from "@promenade/workflow/errors";
import { isPromiseLike } from "@promenade/workflow/records";
import type { Clock } from "@promenade/workflow/clock";
import { harness, MINUTE, MODES, T0 } from "../test/harness.ts";

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("over a synchronous store", () => {
  it("finishes a tick before tick() returns: the fired run is stored and dispatched", async () => {
    const h = harness(true);
    const wf = await h.deploy("every-minute");
    const scheduler = h.make();
    expect(scheduler.tick()).toBeUndefined();
    h.clock.advance(MINUTE);
    const result = scheduler.tick();
    // Nothing awaited between the call and these reads.
    expect(result).toBeUndefined();
    expect(h.runs().map((r) => r.workflowId)).toEqual([wf.id]);
    expect(h.dispatched).toEqual([h.runs()[0]?.id]);
  });

  it("finishes releaseQueued() and releaseStarted() before they return", async () => {
    const h = harness(true);
    const wf = await h.deploy("fanout", { triggers: [{ kind: "manual" }] });
    const serial = await h.deploy("serial", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial" },
    });
    const scheduler = h.make();
    const [a] = await h.queue(wf.id, 1);
    expect(scheduler.releaseQueued()).toBeUndefined();
    expect(h.dispatched).toEqual([a]);
    const [b] = await h.queue(wf.id, 1);
    const [c] = await h.queue(serial.id, 1);
    const runB = h.runs().find((r) => r.id === b);
    const runC = h.runs().find((r) => r.id === c);
    if (runB === undefined || runC === undefined) throw new Error("runs missing");
    expect(scheduler.releaseStarted(runB)).toBeUndefined();
    expect(scheduler.releaseStarted(runC)).toBeUndefined();
    expect(h.dispatched).toEqual([a, b, c]);
  });

  it("ignores tick() re-entered from a dispatch callback, and still dispatches what it fired", async () => {
    const h = harness(true);
    await h.deploy("every-minute");
    let inner: unknown = "not called";
    const scheduler = h.make({
      dispatch: (runId) => {
        h.dispatched.push(runId);
        inner = scheduler.tick();
      },
    });
    expect(scheduler.tick()).toBeUndefined();
    h.clock.advance(MINUTE);
    expect(scheduler.tick()).toBeUndefined();
    expect(inner).toBeUndefined();
    expect(h.dispatched).toHaveLength(1);
  });

  it("throws a store-wide failure from tick()", async () => {
    const h = harness(true);
    await h.deploy("job");
    const scheduler = h.make();
    await h.store.close();
    expect(() => scheduler.tick()).toThrow(/closed/);
    // The failed tick released its guard: the next one runs (and fails the same way).
    expect(() => scheduler.tick()).toThrow(/closed/);
  });
});

describe("over an asynchronous store", () => {
  it("returns a promise from tick() that settles when the pass is complete", async () => {
    const h = harness(false);
    const wf = await h.deploy("every-minute");
    const scheduler = h.make();
    await scheduler.tick();
    h.clock.advance(MINUTE);
    const result = scheduler.tick();
    expect(isPromiseLike(result)).toBe(true);
    await result;
    expect(h.runs().map((r) => r.workflowId)).toEqual([wf.id]);
    expect(h.dispatched).toEqual([h.runs()[0]?.id]);
  });

  it("serves a tick requested during a running one by exactly one more pass, shared by every caller", async () => {
    const h = harness(false);
    await h.deploy("every-minute");
    const scheduler = h.make();
    await scheduler.tick();
    h.clock.advance(MINUTE);
    const first = scheduler.tick();
    h.clock.advance(MINUTE); // due only for a pass that starts after this
    const second = scheduler.tick();
    const third = scheduler.tick();
    expect(second).toBe(third);
    expect(second).not.toBe(first);
    await first;
    expect(h.fireTimes()).toEqual([T0 + MINUTE]);
    await second;
    expect(h.fireTimes()).toEqual([T0 + MINUTE, T0 + 2 * MINUTE]);
    expect(h.dispatched).toHaveLength(2);
  });

  it("rejects a store-wide failure, and the next tick runs again", async () => {
    const h = harness(false);
    await h.deploy("job");
    const scheduler = h.make();
    await h.store.close();
    await expect(scheduler.tick()).rejects.toThrow(/closed/);
    await expect(scheduler.tick()).rejects.toThrow(/closed/);
  });

  it("idle() settles once the loop's in-flight tick is done", async () => {
    const h = harness(false);
    await h.deploy("per-second", { triggers: [{ kind: "cron", expr: "* * * * * *" }] });
    const scheduler = h.make();
    scheduler.start(); // first tick begun: waiting on the store
    h.clock.advance(1000);
    scheduler.stop();
    await scheduler.idle();
    const settled = h.runs().length;
    await turn();
    await turn();
    expect(h.runs()).toHaveLength(settled);
  });
});

describe.each(MODES)("loop and options ($mode)", ({ sync }) => {
  it("ticks inside start(), then once per interval of the injected clock, until stop()", async () => {
    const h = harness(sync);
    await h.deploy("per-second", { triggers: [{ kind: "cron", expr: "* * * * * *" }] });
    const scheduler = h.make({ tickIntervalMs: 1000 });
    scheduler.start();
    scheduler.start(); // idempotent
    await scheduler.idle();
    for (let i = 0; i < 5; i++) {
      h.clock.advance(1000);
      await scheduler.idle();
      // Let the loop come back from its sleep and begin the next tick.
      for (let k = 0; k < 3; k++) await turn();
      await scheduler.idle();
    }
    expect(h.runs()).toHaveLength(5);
    scheduler.stop();
    scheduler.stop();
    h.clock.advance(5000);
    await turn();
    await scheduler.idle();
    expect(h.runs()).toHaveLength(5);
  });

  it("logs a tick slower than its budget (measured on the injected clock)", async () => {
    const h = harness(sync);
    await h.deploy("job");
    const clockStepping = (stepMs: number): Clock => {
      let now = T0;
      return { now: () => (now += stepMs), sleep: () => Promise.resolve() };
    };
    await h.make({ tickBudgetMs: 250, clock: clockStepping(200) }).tick();
    expect(h.logs.filter((l) => l.includes("tick took"))).toEqual([]);
    await h.make({ tickBudgetMs: 100, clock: clockStepping(300) }).tick();
    expect(h.logs.filter((l) => l.includes("tick took"))).toEqual([
      "[scheduler] tick took 300ms (budget 100ms)",
    ]);
  });

  it("logs a failing tick in the loop and keeps looping", async () => {
    const h = harness(sync);
    await h.deploy("job");
    const scheduler = h.make();
    await h.store.close();
    scheduler.start();
    await scheduler.idle();
    h.clock.advance(1000);
    for (let k = 0; k < 3; k++) await turn();
    await scheduler.idle();
    scheduler.stop();
    expect(h.logs.filter((l) => l.startsWith("[scheduler] tick failed:"))).toHaveLength(2);
  });

  it("rejects non-positive or fractional durations with VALIDATION", () => {
    const h = harness(sync);
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
