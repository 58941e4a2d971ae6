/**
 * The dispatch gate through the Scheduler, over the in-memory store in both modes: concurrency
 * modes, child runs, hand-out bookkeeping, the `releaseStarted` shortcut, and overlapping release
 * requests over a store that answers later. If one of these breaks, a serial workflow runs two at
 * a time, a run is executed twice, or a queued run waits forever.
 */
import { describe, expect, it } from "vitest";
import type { ListRunsFilter, RunRow } from "@promenade/workflow/records";
import type { SchedulerStore } from "./ports.ts";
import { harness, MODES, type Harness } from "../test/harness.ts";

const runOf = (h: Harness, id: string | undefined): RunRow => {
  const run = h.runs().find((row) => row.id === id);
  if (run === undefined) throw new Error(`no run ${id}`);
  return run;
};

/** Counts the gate's queued-runs listings (the query `releaseStarted` exists to skip). */
function countQueuedListings(h: Harness): { count: number } {
  const counter = { count: 0 };
  const listRuns = h.store.listRuns.bind(h.store);
  h.store.listRuns = (filter?: ListRunsFilter) => {
    if (filter?.statuses?.length === 1 && filter.statuses[0] === "queued") counter.count += 1;
    return listRuns(filter);
  };
  return counter;
}

describe.each(MODES)("dispatch gate ($mode)", ({ sync }) => {
  it("serial: 20 runs started at once run one at a time and complete in creation order", async () => {
    const h = harness(sync);
    const wf = await h.deploy("serial", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial" },
    });
    let running = 0;
    let maxRunning = 0;
    const completed: string[] = [];
    const scheduler = h.make({
      // A supervisor stand-in: pending at once, running and completed on later turns, and the
      // terminal transition releasing the queue.
      dispatch: (runId) => {
        void (async () => {
          await h.store.commitStatus(runId, { to: "pending", expect: ["queued"] });
          await new Promise((resolve) => setImmediate(resolve));
          await h.store.commitStatus(runId, { to: "running", expect: ["pending"] });
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
          await h.store.commitStatus(runId, { to: "completed", expect: ["running"] });
          completed.push(runId);
          await scheduler.releaseQueued();
        })();
      },
    });
    const ids = await h.queue(wf.id, 20);
    // Like 20 startRun calls, all at once.
    await Promise.all(ids.map(async () => scheduler.releaseQueued()));
    expect(h.runs((r) => r.status === "queued")).toHaveLength(19);
    await new Promise<void>((resolve) => {
      const poll = (): void => (completed.length === 20 ? resolve() : void setImmediate(poll));
      poll();
    });
    expect(maxRunning).toBe(1);
    expect(completed).toEqual(ids);
  });

  it("unlimited dispatches every queued run at once, oldest first", async () => {
    const h = harness(sync);
    const wf = await h.deploy("fanout", { triggers: [{ kind: "manual" }] });
    const ids = await h.queue(wf.id, 3);
    await h.make().releaseQueued();
    expect(h.dispatched).toEqual(ids);
  });

  it("serial_by_key gates like serial within a workflow; other workflows keep their own slot", async () => {
    const h = harness(sync);
    const a = await h.deploy("a", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial_by_key", key: "tenant" },
    });
    const b = await h.deploy("b", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial_by_key", key: "tenant" },
    });
    const [a1, a2] = await h.queue(a.id, 2);
    const [b1] = await h.queue(b.id, 1);
    const scheduler = h.make();
    await scheduler.releaseQueued();
    expect(h.dispatched).toEqual([a1, b1]);
    await h.move(a1, "completed");
    await scheduler.releaseQueued();
    expect(h.dispatched).toEqual([a1, b1, a2]);
  });

  it("child runs bypass the gate but hold their workflow's slot while active", async () => {
    const h = harness(sync);
    const wf = await h.deploy("serial", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial" },
    });
    const [parent] = await h.queue(wf.id, 1);
    const scheduler = h.make();
    await scheduler.releaseQueued();
    const [child] = await h.queue(wf.id, 1, parent);
    const [later] = await h.queue(wf.id, 1);
    await scheduler.releaseQueued();
    expect(h.dispatched).toEqual([parent, child]);
    await h.move(parent, "completed");
    await scheduler.releaseQueued();
    expect(h.dispatched).toEqual([parent, child]); // the child still holds the slot
    await h.move(child, "completed");
    await scheduler.releaseQueued();
    expect(h.dispatched).toEqual([parent, child, later]);
  });

  it("never re-dispatches a handed-out run that still reads queued, and holds its slot", async () => {
    const h = harness(sync);
    const wf = await h.deploy("serial", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial" },
    });
    const ids = await h.queue(wf.id, 2);
    const scheduler = h.make({ dispatch: (runId) => h.dispatched.push(runId) });
    await scheduler.releaseQueued();
    await scheduler.releaseQueued();
    await scheduler.tick();
    expect(h.dispatched).toEqual([ids[0]]);
    await h.move(ids[0], "cancelled"); // e.g. cancelled while queued
    await scheduler.releaseQueued();
    expect(h.dispatched).toEqual(ids);
  });

  it("logs a dispatch that throws and offers the run again on the next pass", async () => {
    const h = harness(sync);
    const wf = await h.deploy("fanout", { triggers: [{ kind: "manual" }] });
    const [id] = await h.queue(wf.id, 1);
    let fail = true;
    const scheduler = h.make({
      dispatch: (runId) => {
        if (fail) throw new Error("spawn failed");
        h.dispatched.push(runId);
      },
    });
    await scheduler.releaseQueued();
    expect(h.logs.some((l) => l.includes("spawn failed"))).toBe(true);
    fail = false;
    await scheduler.releaseQueued();
    expect(h.dispatched).toEqual([id]);
  });

  it("gates a workflow whose concurrency cannot be read as serial, and says so", async () => {
    const h = harness(sync);
    const wf = await h.deploy("odd", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial" },
    });
    const ids = await h.queue(wf.id, 2);
    const store = h.store;
    const wrapped: SchedulerStore = {
      listWorkflows: () => store.listWorkflows(),
      listRuns: (filter) => store.listRuns(filter),
      lastCronFire: (id, index) => store.lastCronFire(id, index),
      fireCron: (fire) => store.fireCron(fire),
      getWorkflowById: () => Promise.reject(new Error("row decode failed")),
    };
    const scheduler = h.make({ store: wrapped });
    await scheduler.releaseQueued();
    expect(h.dispatched).toEqual([ids[0]]);
    expect(
      h.logs.some((l) => l.includes("row decode failed") && l.includes("gated as serial")),
    ).toBe(true);
  });

  describe("releaseStarted (the engine's startRun)", () => {
    it("hands an unlimited workflow's new run out without listing the queue once nothing waits", async () => {
      const h = harness(sync);
      const wf = await h.deploy("fanout", { triggers: [{ kind: "manual" }] });
      const scheduler = h.make();
      await scheduler.releaseQueued(); // the first pass always lists: queued runs may predate it
      const listings = countQueuedListings(h);
      const ids = await h.queue(wf.id, 3);
      for (const id of ids) await scheduler.releaseStarted(runOf(h, id));
      expect(h.dispatched).toEqual(ids);
      expect(listings.count).toBe(0);
    });

    it("lists the queue before the first full pass, so runs queued by an earlier process go first", async () => {
      const h = harness(sync);
      const wf = await h.deploy("fanout", { triggers: [{ kind: "manual" }] });
      const [old] = await h.queue(wf.id, 1);
      const scheduler = h.make();
      const [fresh] = await h.queue(wf.id, 1);
      await scheduler.releaseStarted(runOf(h, fresh));
      expect(h.dispatched).toEqual([old, fresh]);
    });

    it("keeps the gate for serial workflows and lists while a gated run waits", async () => {
      const h = harness(sync);
      const serial = await h.deploy("serial", {
        triggers: [{ kind: "manual" }],
        concurrency: { mode: "serial" },
      });
      const free = await h.deploy("free", { triggers: [{ kind: "manual" }] });
      const scheduler = h.make();
      await scheduler.releaseQueued();
      const [s1, s2] = await h.queue(serial.id, 2);
      await scheduler.releaseStarted(runOf(h, s1));
      await scheduler.releaseStarted(runOf(h, s2));
      expect(h.dispatched).toEqual([s1]); // s2 waits behind s1

      const listings = countQueuedListings(h);
      const [f1] = await h.queue(free.id, 1);
      await scheduler.releaseStarted(runOf(h, f1));
      expect(h.dispatched).toEqual([s1, f1]);
      expect(listings.count).toBe(1); // s2 was left behind: a full pass, not the shortcut

      await h.move(s1, "completed");
      await scheduler.releaseQueued();
      expect(h.dispatched).toEqual([s1, f1, s2]);
      const [f2] = await h.queue(free.id, 1);
      await scheduler.releaseStarted(runOf(h, f2));
      expect(h.dispatched).toEqual([s1, f1, s2, f2]);
      expect(listings.count).toBe(2); // nothing waits any more: the shortcut again
    });
  });
});

describe("dispatch gate over a store that answers later", () => {
  it("admits one run of a serial workflow however many release requests overlap", async () => {
    const h = harness(false);
    const wf = await h.deploy("serial", {
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "serial" },
    });
    const ids = await h.queue(wf.id, 5);
    // The run stays queued after hand-out (its executor has not started it yet).
    const scheduler = h.make({ dispatch: (runId) => h.dispatched.push(runId) });
    const requests: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      requests.push(Promise.resolve(scheduler.releaseQueued()));
      requests.push(Promise.resolve(scheduler.releaseStarted(runOf(h, ids[i % 5]))));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(requests);
    expect(h.dispatched).toEqual([ids[0]]);
  });

  it("a request made while a pass waits on the store is served by one more pass", async () => {
    const h = harness(false);
    const wf = await h.deploy("fanout", { triggers: [{ kind: "manual" }] });
    const scheduler = h.make();
    const first = scheduler.releaseQueued(); // now waiting on the queued-runs listing
    // Queued after that listing was taken (the fake applies a write when it is called).
    const queued = h.store.createRun({ workflowId: wf.id, triggerKind: "manual" });
    const second = scheduler.releaseQueued();
    expect(second).toBe(first); // joined the running pass…
    await second;
    const { run } = await queued;
    expect(h.dispatched).toEqual([run.id]); // …which went round once more for it
  });

  it("releaseStarted's shortcut defers to passes that ran while it read the workflow", async () => {
    const h = harness(false);
    const wf = await h.deploy("fanout", { triggers: [{ kind: "manual" }] });
    const store = h.store;
    const slow: { release?: () => void } = {};
    let reads = 0;
    const wrapped: SchedulerStore = {
      listWorkflows: () => store.listWorkflows(),
      listRuns: (filter) => store.listRuns(filter),
      lastCronFire: (id, index) => store.lastCronFire(id, index),
      fireCron: (fire) => store.fireCron(fire),
      getWorkflowById: async (id) => {
        const row = await store.getWorkflowById(id);
        reads += 1;
        if (reads === 1) await new Promise<void>((resolve) => (slow.release = resolve));
        return row;
      },
    };
    const scheduler = h.make({ store: wrapped });
    await scheduler.releaseQueued(); // nothing waits: the next start may take the shortcut
    const [run] = await h.queue(wf.id, 1);
    const started = scheduler.releaseStarted(runOf(h, run)); // reads the workflow, slowly
    while (slow.release === undefined) await new Promise((resolve) => setImmediate(resolve));
    // Meanwhile two full passes hand the run out, see it leave `queued`, and forget it.
    await scheduler.releaseQueued();
    await h.move(run, "running");
    await scheduler.releaseQueued();
    expect(h.dispatched).toEqual([run]);
    slow.release();
    await started;
    expect(h.dispatched).toEqual([run]);
  });
});
