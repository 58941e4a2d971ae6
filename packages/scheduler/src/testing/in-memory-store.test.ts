/**
 * The contract suite against the in-memory fake, in both of its modes: if the fake drifts from
 * the real stores' semantics, scheduler tests that pass here would lie about production.
 */
import { describe, expect, it } from "vitest";
import { validateMeta } from "@promenade/workflow";
import { isPromiseLike } from "@promenade/workflow/records";
import { describeSchedulerStore } from "./contract.ts";
import { InMemorySchedulerStore } from "./in-memory-store.ts";

describeSchedulerStore(() => new InMemorySchedulerStore(), { name: "(in-memory, async)" });
describeSchedulerStore(() => new InMemorySchedulerStore({ sync: true }), {
  name: "(in-memory, sync)",
});
describeSchedulerStore(() => new InMemorySchedulerStore({ latencyMs: 2 }), {
  name: "(in-memory, async with latency)",
});

const manual = (slug: string): ReturnType<typeof validateMeta> =>
  validateMeta({ slug, triggers: [{ kind: "manual" }] });

describe("InMemorySchedulerStore extras", () => {
  it("answers with the same workflow list until a workflow changes", async () => {
    const store = new InMemorySchedulerStore();
    await store.upsertWorkflow({ slug: "a", manifest: manual("a"), program: "" });
    const first = await store.listWorkflows();
    expect(await store.listWorkflows()).toBe(first);
    await store.upsertWorkflow({ slug: "b", manifest: manual("b"), program: "" });
    expect(await store.listWorkflows()).not.toBe(first);
    expect((await store.listWorkflows()).map((w) => w.slug)).toEqual(["a", "b"]);
  });

  it("answers with promises by default and with plain values in sync mode", () => {
    const asyncStore = new InMemorySchedulerStore();
    const syncStore = new InMemorySchedulerStore({ sync: true });
    const pending = asyncStore.listWorkflows();
    expect(isPromiseLike(pending)).toBe(true);
    expect(syncStore.listWorkflows()).toEqual([]);
    return pending;
  });

  it("applies a write when it is called, before its answer arrives", async () => {
    const store = new InMemorySchedulerStore();
    const wf = await store.upsertWorkflow({ slug: "a", manifest: manual("a"), program: "" });
    const fire = { workflowId: wf.id, triggerIndex: 0, fireTime: 0 };
    const first = store.fireCron(fire);
    expect(store.runs()).toHaveLength(1);
    expect(await store.fireCron(fire)).toBeNull();
    expect(await first).not.toBeNull();
  });

  it("fails every call with INTERNAL after close, thrown in sync mode and rejected otherwise", async () => {
    const store = new InMemorySchedulerStore();
    await store.close();
    await expect(store.listWorkflows()).rejects.toThrow(/closed/);
    const sync = new InMemorySchedulerStore({ sync: true });
    await sync.close();
    expect(() => sync.listWorkflows()).toThrow(/closed/);
  });
});
