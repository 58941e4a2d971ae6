/**
 * The `SupervisorStore` contract suite (spec 02 §4.7, the semantics the supervisor relies on).
 * `describeSupervisorStore(makeStore)` registers Vitest tests; the supervisor runs it against its
 * in-memory fake and the engine runs it against the real SQLite store, so both are held to the
 * same behaviour. If one of these fails, runs can end twice or lose events.
 */
import { describe, expect, it } from "vitest";
import type { RunEvent } from "@promenade/workflow";
import type { SupervisorStore, WorkflowRow } from "../ports.ts";

/** What the suite needs: a fresh store plus a way to seed workflows (not part of the port). */
export interface SupervisorStoreHarness {
  store: SupervisorStore;
  /** Deploys a workflow (e.g. `store.upsertWorkflow`). */
  addWorkflow(args: {
    slug: string;
    manifest: WorkflowRow["manifest"];
    program: string;
  }): WorkflowRow;
  /** Releases the store after each test. */
  close?(): void;
}

function manifest(slug: string): WorkflowRow["manifest"] {
  return {
    slug,
    triggers: [{ kind: "manual" }],
    concurrency: { mode: "unlimited" },
    runs_on: "boardwalk/linux",
    callable_by: "anyone_in_org",
  } as unknown as WorkflowRow["manifest"];
}

function statusEvent(runId: string, seq: number, status: "queued" | "pending"): RunEvent {
  return { kind: "run_status", status, runId, turnId: runId, seq, t: 1 };
}

/** Registers the contract tests for a store factory. */
export function describeSupervisorStore(makeStore: () => SupervisorStoreHarness): void {
  const setup = (): SupervisorStoreHarness & { workflow: WorkflowRow; other: WorkflowRow } => {
    const harness = makeStore();
    const workflow = harness.addWorkflow({
      slug: "contract-a",
      manifest: manifest("contract-a"),
      program: "export const meta = {};",
    });
    const other = harness.addWorkflow({
      slug: "contract-b",
      manifest: manifest("contract-b"),
      program: "export const meta = {};",
    });
    return { ...harness, workflow, other };
  };
  const withStore = (fn: (h: ReturnType<typeof setup>) => void) => () => {
    const h = setup();
    try {
      fn(h);
    } finally {
      h.close?.();
    }
  };

  describe("SupervisorStore contract", () => {
    it(
      "looks workflows up by slug and id, null when unknown",
      withStore(({ store, workflow }) => {
        expect(store.getWorkflow("contract-a")?.id).toBe(workflow.id);
        expect(store.getWorkflowById(workflow.id)?.slug).toBe("contract-a");
        expect(store.getWorkflow("nope")).toBeNull();
        expect(store.getWorkflowById("01NOPE")).toBeNull();
      }),
    );

    it(
      "creates queued runs with zero tallies and finds them again by idempotency key",
      withStore(({ store, workflow, other }) => {
        const { run, created } = store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          input: { a: 1 },
        });
        expect(created).toBe(true);
        expect(run).toMatchObject({
          status: "queued",
          input: { a: 1 },
          output: null,
          error: null,
          restarts: 0,
          tokensIn: 0,
          tokensOut: 0,
          usdMicros: 0,
          startedAt: null,
          endedAt: null,
          parentRunId: null,
        });
        expect(store.getRun(run.id)?.status).toBe("queued");
        expect(store.getRun("01NOPE")).toBeNull();

        const first = store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          parentRunId: run.id,
          idempotencyKey: "k",
        });
        const again = store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          parentRunId: run.id,
          idempotencyKey: "k",
        });
        expect(again).toEqual({ run: first.run, created: false });
        const top = store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          idempotencyKey: "k",
        });
        expect(top.created).toBe(true);
        expect(
          store.createRun({ workflowId: workflow.id, triggerKind: "manual", idempotencyKey: "k" })
            .created,
        ).toBe(false);
        expect(() =>
          store.createRun({ workflowId: other.id, triggerKind: "manual", idempotencyKey: "k" }),
        ).toThrow(expect.objectContaining({ code: "CONFLICT" }));
        expect(() => store.createRun({ workflowId: "01NOPE", triggerKind: "manual" })).toThrow(
          expect.objectContaining({ code: "NOT_FOUND" }),
        );
        expect(() =>
          store.createRun({
            workflowId: workflow.id,
            triggerKind: "manual",
            parentRunId: "01NOPE",
          }),
        ).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
      }),
    );

    it(
      "applies expect-guarded status updates atomically with their fields",
      withStore(({ store, workflow }) => {
        const { run } = store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
        expect(store.updateRunStatus(run.id, "running", { expect: ["pending"] })).toBe(false);
        expect(store.getRun(run.id)?.status).toBe("queued");
        expect(store.updateRunStatus(run.id, "pending", { expect: ["queued"] })).toBe(true);
        expect(
          store.updateRunStatus(run.id, "running", { startedAt: 10, expect: ["pending"] }),
        ).toBe(true);
        store.updateRunStatus(run.id, "pending");
        store.updateRunStatus(run.id, "running", { startedAt: 20 });
        expect(store.getRun(run.id)?.startedAt).toBe(10);
        expect(
          store.updateRunStatus(run.id, "failed", {
            endedAt: 30,
            output: { partial: true },
            error: { code: "PROGRAM_ERROR", message: "m", hint: "h" },
            expect: ["running"],
          }),
        ).toBe(true);
        expect(store.getRun(run.id)).toMatchObject({
          status: "failed",
          endedAt: 30,
          output: { partial: true },
          error: { code: "PROGRAM_ERROR", message: "m", hint: "h" },
        });
        expect(() => store.updateRunStatus("01NOPE", "running")).toThrow(
          expect.objectContaining({ code: "NOT_FOUND" }),
        );
      }),
    );

    it(
      "counts restarts and adds usage tallies",
      withStore(({ store, workflow }) => {
        const { run } = store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
        expect(store.incrementRestarts(run.id)).toBe(1);
        expect(store.incrementRestarts(run.id)).toBe(2);
        store.addRunUsage(run.id, { tokensIn: 5, tokensOut: 7, usdMicros: 11 });
        store.addRunUsage(run.id, { tokensIn: 1 });
        expect(store.getRunUsage(run.id)).toEqual({ tokensIn: 6, tokensOut: 7, usdMicros: 11 });
        expect(() => store.addRunUsage(run.id, { tokensIn: -1 })).toThrow(
          expect.objectContaining({ code: "VALIDATION" }),
        );
        expect(() => store.addRunUsage(run.id, { usdMicros: 1.5 })).toThrow(
          expect.objectContaining({ code: "VALIDATION" }),
        );
        expect(() => store.incrementRestarts("01NOPE")).toThrow(
          expect.objectContaining({ code: "NOT_FOUND" }),
        );
        expect(() => store.getRunUsage("01NOPE")).toThrow(
          expect.objectContaining({ code: "NOT_FOUND" }),
        );
      }),
    );

    it(
      "appends event batches all-or-nothing and reports the highest cursor",
      withStore(({ store, workflow }) => {
        const { run } = store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
        expect(store.maxCursor(run.id)).toBe(0);
        store.appendEvents(run.id, []);
        store.appendEvents(run.id, [{ cursor: 1, event: statusEvent(run.id, 1, "queued") }]);
        expect(() =>
          store.appendEvents(run.id, [
            { cursor: 1_000_001, event: statusEvent(run.id, 1, "pending") },
            { cursor: 1, event: statusEvent(run.id, 1, "queued") },
          ]),
        ).toThrow(expect.objectContaining({ code: "CONFLICT" }));
        expect(store.maxCursor(run.id)).toBe(1);
        for (const cursor of [0, 1.5]) {
          expect(() =>
            store.appendEvents(run.id, [{ cursor, event: statusEvent(run.id, 1, "pending") }]),
          ).toThrow(expect.objectContaining({ code: "VALIDATION" }));
        }
        expect(() =>
          store.appendEvents("01NOPE", [{ cursor: 5, event: statusEvent("01NOPE", 5, "queued") }]),
        ).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
        store.appendEvents(run.id, [
          { cursor: 1_000_001, event: statusEvent(run.id, 1, "pending") },
        ]);
        expect(store.maxCursor(run.id)).toBe(1_000_001);
      }),
    );

    it(
      "rolls a transaction back entirely and runs afterCommit callbacks only after commit",
      withStore(({ store, workflow }) => {
        const order: string[] = [];
        store.afterCommit(() => order.push("outside"));
        expect(order).toEqual(["outside"]);
        const id = store.transaction(() => {
          const { run } = store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
          store.transaction(() => {
            store.appendEvents(run.id, [{ cursor: 1, event: statusEvent(run.id, 1, "queued") }]);
            store.afterCommit(() => order.push("inner"));
          });
          store.afterCommit(() => order.push("outer"));
          expect(order).toEqual(["outside"]);
          return run.id;
        });
        expect(order).toEqual(["outside", "inner", "outer"]);
        expect(store.maxCursor(id)).toBe(1);

        let leaked = "";
        expect(() =>
          store.transaction(() => {
            const { run } = store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
            leaked = run.id;
            store.updateRunStatus(id, "pending");
            store.appendEvents(id, [{ cursor: 1_000_001, event: statusEvent(id, 1, "pending") }]);
            store.afterCommit(() => order.push("dropped"));
            throw new Error("roll back");
          }),
        ).toThrow("roll back");
        expect(store.getRun(leaked)).toBeNull();
        expect(store.getRun(id)?.status).toBe("queued");
        expect(store.maxCursor(id)).toBe(1);
        expect(order).not.toContain("dropped");
      }),
    );

    it(
      "lists runs by status, parent and order",
      withStore(({ store, workflow }) => {
        const a = store.createRun({ workflowId: workflow.id, triggerKind: "manual" }).run;
        const b = store.createRun({ workflowId: workflow.id, triggerKind: "cron" }).run;
        const c = store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          parentRunId: a.id,
          idempotencyKey: "child",
        }).run;
        store.updateRunStatus(b.id, "running");
        store.updateRunStatus(c.id, "cancelling");
        expect(store.listRuns({ statuses: [] })).toEqual([]);
        expect(store.listRuns({ statuses: ["queued"], order: "oldest" }).map((r) => r.id)).toEqual([
          a.id,
        ]);
        expect(
          store
            .listRuns({ statuses: ["pending", "running", "cancelling"], order: "oldest" })
            .map((r) => r.id),
        ).toEqual([b.id, c.id]);
        expect(store.listRuns({ order: "oldest" }).map((r) => r.id)).toEqual([a.id, b.id, c.id]);
        expect(store.listRuns().map((r) => r.id)).toEqual([c.id, b.id, a.id]);
        expect(store.listRuns({ parentRunId: a.id }).map((r) => r.id)).toEqual([c.id]);
      }),
    );

    it(
      "records artifacts and validates their size",
      withStore(({ store, workflow }) => {
        const { run } = store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
        const row = store.createArtifact({
          runId: run.id,
          name: "a.txt",
          contentType: "text/plain",
          path: "/tmp/a.txt",
          size: 3,
          metadata: { k: 1 },
        });
        expect(row).toMatchObject({ runId: run.id, name: "a.txt", size: 3, metadata: { k: 1 } });
        expect(typeof row.id).toBe("string");
        expect(() =>
          store.createArtifact({
            runId: run.id,
            name: "b",
            contentType: "x",
            path: "/b",
            size: -1,
          }),
        ).toThrow(expect.objectContaining({ code: "VALIDATION" }));
        expect(() =>
          store.createArtifact({
            runId: "01NOPE",
            name: "b",
            contentType: "x",
            path: "/b",
            size: 1,
          }),
        ).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
      }),
    );
  });
}
