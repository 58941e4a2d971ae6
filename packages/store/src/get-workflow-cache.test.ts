/**
 * getWorkflow()/getWorkflowById() are served from memory between deploys (every startRun reads
 * its workflow). What would break: a cached row that survives a redeploy or a rolled-back
 * upsert, a row cached from inside a transaction that later rolled back, or a cached row that
 * differs from what the database holds.
 */
import { describe, expect, it } from "vitest";
import { openStore } from "./open.ts";
import { testManifest } from "./testing/fixtures.ts";

describe("getWorkflow / getWorkflowById cache", () => {
  it("returns the same values as a fresh read, by slug and by id", () => {
    const store = openStore({ path: ":memory:" });
    try {
      const deployed = store.upsertWorkflow({
        slug: "a",
        manifest: testManifest("a"),
        program: "1",
        config: { k: 1 },
      });
      const bySlug = store.getWorkflow("a");
      expect(bySlug).toEqual(deployed);
      expect(store.getWorkflow("a")).toEqual(deployed);
      expect(store.getWorkflowById(deployed.id)).toEqual(deployed);
      expect(store.getWorkflowById(deployed.id)).toEqual(store.getWorkflow("a"));
      expect(store.getWorkflow("missing")).toBeNull();
      expect(store.getWorkflowById("missing")).toBeNull();
    } finally {
      store.close();
    }
  });

  it("sees every committed redeploy and forgets rolled-back ones", () => {
    const store = openStore({ path: ":memory:" });
    try {
      const first = store.upsertWorkflow({ slug: "a", manifest: testManifest("a"), program: "1" });
      expect(store.getWorkflow("a")?.program).toBe("1");
      expect(store.getWorkflowById(first.id)?.program).toBe("1");

      store.upsertWorkflow({ slug: "a", manifest: testManifest("a"), program: "2" });
      expect(store.getWorkflow("a")?.program).toBe("2");
      expect(store.getWorkflowById(first.id)?.program).toBe("2");

      expect(() =>
        store.transaction(() => {
          store.upsertWorkflow({ slug: "a", manifest: testManifest("a"), program: "3" });
          store.upsertWorkflow({ slug: "b", manifest: testManifest("b"), program: "1" });
          // Read (and would-be cache) inside the transaction that then rolls back.
          expect(store.getWorkflow("a")?.program).toBe("3");
          expect(store.getWorkflow("b")?.program).toBe("1");
          throw new Error("abort deploy");
        }),
      ).toThrow(/abort deploy/);
      expect(store.getWorkflow("a")?.program).toBe("2");
      expect(store.getWorkflowById(first.id)?.program).toBe("2");
      expect(store.getWorkflow("b")).toBeNull();
    } finally {
      store.close();
    }
  });

  it("keeps serving the committed row after a failed upsert inside a transaction", () => {
    const store = openStore({ path: ":memory:" });
    try {
      store.upsertWorkflow({ slug: "a", manifest: testManifest("a"), program: "1" });
      store.transaction(() => {
        expect(() =>
          store.upsertWorkflow({ slug: "a", manifest: testManifest("other"), program: "2" }),
        ).toThrow(/does not match/);
        expect(store.getWorkflow("a")?.program).toBe("1");
      });
      expect(store.getWorkflow("a")?.program).toBe("1");
    } finally {
      store.close();
    }
  });

  it("hands out frozen rows, so a caller cannot change what the next caller sees", () => {
    const store = openStore({ path: ":memory:" });
    try {
      store.upsertWorkflow({ slug: "a", manifest: testManifest("a"), program: "1" });
      const row = store.getWorkflow("a");
      expect(Object.isFrozen(row)).toBe(true);
      expect(() => {
        (row as { program: string }).program = "changed";
      }).toThrow(TypeError);
      expect(store.getWorkflow("a")?.program).toBe("1");
    } finally {
      store.close();
    }
  });
});
