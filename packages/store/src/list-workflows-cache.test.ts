/**
 * listWorkflows() is served from memory between deploys (the scheduler calls it every tick).
 * What would break: a cached list that still shows a workflow whose upsert was rolled back, or
 * that misses a redeploy.
 */
import { describe, expect, it } from "vitest";
import { openStore } from "./open.ts";
import { testManifest } from "./testing/fixtures.ts";

describe("listWorkflows cache", () => {
  it("reflects every committed upsert and forgets rolled-back ones", () => {
    const store = openStore({ path: ":memory:" });
    try {
      store.upsertWorkflow({ slug: "b", manifest: testManifest("b"), program: "1" });
      expect(store.listWorkflows().map((w) => w.slug)).toEqual(["b"]);
      store.upsertWorkflow({ slug: "a", manifest: testManifest("a"), program: "1" });
      expect(store.listWorkflows().map((w) => w.slug)).toEqual(["a", "b"]);

      expect(() =>
        store.transaction(() => {
          store.upsertWorkflow({ slug: "c", manifest: testManifest("c"), program: "1" });
          expect(store.listWorkflows().map((w) => w.slug)).toEqual(["a", "b", "c"]);
          throw new Error("abort deploy");
        }),
      ).toThrow(/abort deploy/);
      expect(store.listWorkflows().map((w) => w.slug)).toEqual(["a", "b"]);

      store.upsertWorkflow({ slug: "a", manifest: testManifest("a"), program: "2" });
      expect(store.listWorkflows().find((w) => w.slug === "a")?.program).toBe("2");
    } finally {
      store.close();
    }
  });

  it("hands out a fresh array each call, so a caller's mutation never leaks", () => {
    const store = openStore({ path: ":memory:" });
    try {
      store.upsertWorkflow({ slug: "a", manifest: testManifest("a"), program: "1" });
      const first = store.listWorkflows();
      first.pop();
      expect(store.listWorkflows()).toHaveLength(1);
    } finally {
      store.close();
    }
  });
});
