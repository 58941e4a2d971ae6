/**
 * The contract suite against the in-memory fake: if the fake drifts from the SQLite store's
 * semantics, scheduler tests that pass here would lie about production.
 */
import { describe, expect, it } from "vitest";
import { validateMeta } from "@promenade/workflow";
import { describeSchedulerStore } from "./contract.ts";
import { InMemorySchedulerStore } from "./in-memory-store.ts";

describeSchedulerStore(() => new InMemorySchedulerStore(), { name: "(in-memory fake)" });

const manual = (slug: string): ReturnType<typeof validateMeta> =>
  validateMeta({ slug, triggers: [{ kind: "manual" }] });

describe("InMemorySchedulerStore extras", () => {
  it("returns the same workflow list until a workflow changes", () => {
    const store = new InMemorySchedulerStore();
    store.upsertWorkflow({ slug: "a", manifest: manual("a"), program: "" });
    const first = store.listWorkflows();
    expect(store.listWorkflows()).toBe(first);
    store.upsertWorkflow({ slug: "b", manifest: manual("b"), program: "" });
    expect(store.listWorkflows()).not.toBe(first);
    expect(store.listWorkflows().map((w) => w.slug)).toEqual(["a", "b"]);
  });

  it("throws INTERNAL after close", () => {
    const store = new InMemorySchedulerStore();
    store.close();
    expect(() => store.listWorkflows()).toThrow(/closed/);
  });
});
