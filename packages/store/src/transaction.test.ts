/**
 * The SQLite store's own write surface, which no other backend has: `transaction` and
 * `afterCommit` (nesting, rollback, savepoints), and the single-statement `updateRunStatus` and
 * `recordCronFire` the store keeps for its own tests and tools.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore, statusEvent, testManifest } from "./testing/fixtures.ts";
import type { Store } from "./types.ts";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

let open: Store[] = [];
afterEach(() => {
  for (const store of open) store.close();
  open = [];
});

function setup(): { store: Store; workflowId: string } {
  const store = createMemoryStore();
  open.push(store);
  const workflowId = store.upsertWorkflow({
    slug: "echo",
    manifest: testManifest("echo"),
    program: "export {}",
  }).id;
  return { store, workflowId };
}

describe("transaction and afterCommit", () => {
  it("commits the callback's writes and returns its value", () => {
    const { store, workflowId } = setup();
    const id = store.transaction(
      () => store.createRun({ workflowId, triggerKind: "manual" }).run.id,
    );
    expect(store.getRun(id)?.status).toBe("queued");
  });

  it("rolls back every write when the callback throws, and rethrows", () => {
    const { store, workflowId } = setup();
    const boom = new Error("boom");
    expect(() =>
      store.transaction(() => {
        store.createRun({ workflowId, triggerKind: "manual" });
        throw boom;
      }),
    ).toThrow(boom);
    expect(store.listRuns()).toEqual([]);
  });

  it("joins nested calls: an inner throw rolls back the outer work even if caught", () => {
    const { store, workflowId } = setup();
    expect(() =>
      store.transaction(() => {
        store.createRun({ workflowId, triggerKind: "manual" });
        try {
          store.transaction(() => {
            throw new Error("inner");
          });
        } catch {
          // swallowed on purpose: the outer must still not commit half of the work
        }
      }),
    ).toThrow(/inner/);
    expect(store.listRuns()).toEqual([]);
  });

  it("refuses an async callback with VALIDATION and writes nothing", () => {
    const { store, workflowId } = setup();
    expect(
      codeOf(() =>
        store.transaction(() => {
          store.createRun({ workflowId, triggerKind: "manual" });
          return Promise.resolve();
        }),
      ),
    ).toBe("VALIDATION");
    expect(store.listRuns()).toEqual([]);
  });

  it("runs afterCommit callbacks after the outermost commit, in order, and drops them on rollback", () => {
    const { store, workflowId } = setup();
    const seen: string[] = [];
    store.afterCommit(() => seen.push("outside"));
    expect(seen).toEqual(["outside"]);
    store.transaction(() => {
      const { run } = store.createRun({ workflowId, triggerKind: "manual" });
      store.transaction(() =>
        store.afterCommit(() => seen.push(`inner:${String(store.getRun(run.id) !== null)}`)),
      );
      store.afterCommit(() => seen.push("outer"));
      expect(seen).toEqual(["outside"]);
    });
    expect(seen).toEqual(["outside", "inner:true", "outer"]);
    expect(() =>
      store.transaction(() => {
        store.afterCommit(() => seen.push("never"));
        throw new Error("rollback");
      }),
    ).toThrow("rollback");
    expect(seen).toHaveLength(3);
  });

  it("keeps a failed batch inside a caller's transaction from leaving half of itself", () => {
    const { store, workflowId } = setup();
    const runId = store.createRun({ workflowId, triggerKind: "manual" }).run.id;
    store.appendEvents(runId, [{ cursor: 3, event: statusEvent(runId, "queued", { seq: 3 }) }]);
    store.transaction(() => {
      store.updateRunStatus(runId, "pending");
      expect(
        codeOf(() =>
          store.appendEvents(runId, [
            { cursor: 2, event: statusEvent(runId, "queued", { seq: 2 }) },
            { cursor: 3, event: statusEvent(runId, "pending", { seq: 3 }) },
          ]),
        ),
      ).toBe("CONFLICT");
    });
    expect(store.listEvents(runId).map((r) => r.cursor)).toEqual([1, 3]);
    expect(store.getRun(runId)?.status).toBe("pending");
  });

  it("runs commitStatus and fireCron inside a caller's transaction as one savepoint each", () => {
    const { store, workflowId } = setup();
    const runId = store.createRun({ workflowId, triggerKind: "manual" }).run.id;
    expect(() =>
      store.transaction(() => {
        store.commitStatus(runId, { to: "running", expect: ["queued"] });
        expect(store.fireCron({ workflowId, triggerIndex: 0, fireTime: 1 })).not.toBeNull();
        throw new Error("rollback");
      }),
    ).toThrow("rollback");
    expect(store.getRun(runId)?.status).toBe("queued");
    expect(store.listEvents(runId).map((r) => r.cursor)).toEqual([1]);
    expect(store.lastCronFire(workflowId, 0)).toBeNull();
    store.transaction(() => {
      expect(
        codeOf(() =>
          store.commitStatus(runId, {
            to: "running",
            expect: ["queued"],
            stamp: { cursor: 1, seq: 1 },
          }),
        ),
      ).toBe("CONFLICT");
      expect(store.getRun(runId)?.status).toBe("queued");
    });
  });
});

describe("updateRunStatus", () => {
  it("updates status with output, error and times, honouring expect, without writing events", () => {
    const { store, workflowId } = setup();
    const { run } = store.createRun({ workflowId, triggerKind: "manual" });
    expect(store.updateRunStatus(run.id, "pending", { startedAt: 100, expect: ["queued"] })).toBe(
      true,
    );
    expect(store.updateRunStatus(run.id, "running", { expect: ["queued"] })).toBe(false);
    expect(store.updateRunStatus(run.id, "running", { startedAt: 200 })).toBe(true);
    expect(store.getRun(run.id)).toMatchObject({ status: "running", startedAt: 100 });
    store.updateRunStatus(run.id, "failed", {
      output: { healthy: false },
      error: { code: "PROGRAM_ERROR", message: "not healthy" },
      endedAt: 300,
    });
    expect(store.getRun(run.id)).toMatchObject({
      status: "failed",
      output: { healthy: false },
      error: { code: "PROGRAM_ERROR", message: "not healthy" },
      startedAt: 100,
      endedAt: 300,
    });
    expect(store.maxCursor(run.id)).toBe(1);
    expect(codeOf(() => store.updateRunStatus("nope", "running"))).toBe("NOT_FOUND");
    expect(codeOf(() => store.updateRunStatus("nope", "running", { expect: ["queued"] }))).toBe(
      "NOT_FOUND",
    );
    expect(codeOf(() => store.updateRunStatus(run.id, "done" as never))).toBe("VALIDATION");
    expect(
      codeOf(() => store.updateRunStatus(run.id, "failed", { error: { code: 1 } as never })),
    ).toBe("VALIDATION");
  });
});

describe("recordCronFire", () => {
  it("records a fire for an existing run once; duplicates CONFLICT and roll back with the caller", () => {
    const { store, workflowId } = setup();
    const fire = (fireTime: number) =>
      store.transaction(() => {
        const { run } = store.createRun({ workflowId, triggerKind: "cron" });
        store.recordCronFire({ workflowId, triggerIndex: 0, fireTime, runId: run.id });
        return run.id;
      });
    fire(60_000);
    fire(120_000);
    expect(store.lastCronFire(workflowId, 0)).toBe(120_000);
    expect(codeOf(() => fire(60_000))).toBe("CONFLICT");
    expect(store.listRuns({ workflowId })).toHaveLength(2);
    // fireCron sees instants recorded this way.
    expect(store.fireCron({ workflowId, triggerIndex: 0, fireTime: 60_000 })).toBeNull();
    const runId = store.listRuns()[0]?.id ?? "";
    expect(
      codeOf(() =>
        store.recordCronFire({ workflowId: "nope", triggerIndex: 0, fireTime: 1, runId }),
      ),
    ).toBe("NOT_FOUND");
    expect(
      codeOf(() =>
        store.recordCronFire({ workflowId, triggerIndex: 0, fireTime: 1, runId: "nope" }),
      ),
    ).toBe("NOT_FOUND");
    expect(
      codeOf(() => store.recordCronFire({ workflowId, triggerIndex: -1, fireTime: 1, runId })),
    ).toBe("VALIDATION");
  });
});
