/**
 * The `SupervisorStore` contract suite: the semantics the supervisor relies on. The supervisor
 * runs it against its in-memory fake (asynchronous and synchronous); the engine runs it against
 * the real SQLite and PostgreSQL stores, so all are held to the same behaviour. Every call is
 * awaited, so plain values and promises are both accepted. If one of these fails, runs can end
 * twice, lose events, or publish them out of order.
 */
import { describe, expect, it } from "vitest";
import type { RunEvent } from "@promenade/workflow";
import type { EventListener, PublishedEvent } from "@promenade/workflow/records";
import type { Awaitable, EventAppend, RunRow, SupervisorStore, WorkflowRow } from "../ports.ts";

/** What the suite needs: a fresh store plus a way to seed workflows (not part of the port). */
export interface SupervisorStoreHarness {
  store: SupervisorStore;
  /** Deploys a workflow (e.g. `store.upsertWorkflow`). */
  addWorkflow: (args: {
    slug: string;
    manifest: WorkflowRow["manifest"];
    program: string;
  }) => Awaitable<WorkflowRow>;
  /**
   * The store's event feed, when it has one (the engine's stores do): the suite then checks
   * that every write of the port publishes its events after the commit, in cursor order.
   */
  subscribe?: (listener: EventListener) => () => void;
  /** Releases the store after each test. */
  close?: () => Awaitable<void>;
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

function phaseAt(runId: string, cursor: number, name: string): EventAppend {
  const seq = cursor % 1_000_000;
  return { cursor, event: { kind: "phase", name, id: name, runId, turnId: runId, seq, t: 1 } };
}

function statusOf(event: RunEvent): string | null {
  return event.kind === "run_status" ? event.status : null;
}

/** Registers the contract tests for a store factory. */
export function describeSupervisorStore(makeStore: () => Awaitable<SupervisorStoreHarness>): void {
  type Setup = SupervisorStoreHarness & {
    workflow: WorkflowRow;
    other: WorkflowRow;
    newRun: (extra?: { parentRunId?: string; idempotencyKey?: string }) => Promise<RunRow>;
  };
  const setup = async (): Promise<Setup> => {
    const harness = await makeStore();
    const workflow = await harness.addWorkflow({
      slug: "contract-a",
      manifest: manifest("contract-a"),
      program: "export const meta = {};",
    });
    const other = await harness.addWorkflow({
      slug: "contract-b",
      manifest: manifest("contract-b"),
      program: "export const meta = {};",
    });
    const newRun: Setup["newRun"] = async (extra = {}) =>
      (await harness.store.createRun({ workflowId: workflow.id, triggerKind: "manual", ...extra }))
        .run;
    return { ...harness, workflow, other, newRun };
  };
  const withStore = (fn: (h: Setup) => Promise<void>) => async () => {
    const h = await setup();
    try {
      await fn(h);
    } finally {
      await h.close?.();
    }
  };

  describe("SupervisorStore contract", () => {
    it(
      "looks workflows up by slug and id, null when unknown",
      withStore(async ({ store, workflow }) => {
        expect((await store.getWorkflow("contract-a"))?.id).toBe(workflow.id);
        expect((await store.getWorkflowById(workflow.id))?.slug).toBe("contract-a");
        expect(await store.getWorkflow("nope")).toBeNull();
        expect(await store.getWorkflowById("01NOPE")).toBeNull();
      }),
    );

    it(
      "reads back the workflow version a run records (its program), null for an unknown number",
      withStore(async ({ store, workflow, newRun }) => {
        const run = await newRun();
        if (run.version !== null) {
          expect(await store.getWorkflowVersion(workflow.id, run.version)).toMatchObject({
            id: run.versionId,
            workflowId: workflow.id,
            number: run.version,
            program: "export const meta = {};",
          });
        }
        expect(await store.getWorkflowVersion(workflow.id, 999)).toBeNull();
      }),
    );

    it(
      "creates a queued run with zero tallies together with its queued event at cursor 1",
      withStore(async ({ store, workflow }) => {
        const { run, created } = await store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          input: { a: 1 },
        });
        expect(created).toBe(true);
        expect(run).toMatchObject({
          workflowId: workflow.id,
          status: "queued",
          triggerKind: "manual",
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
          idempotencyKey: null,
        });
        expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.getRun("01NOPE")).toBeNull();
        expect(await store.maxCursor(run.id)).toBe(1);
        const none = (await store.createRun({ workflowId: workflow.id, triggerKind: "cron" })).run;
        expect(none.input).toBeNull();
      }),
    );

    it(
      "finds a run again by parent and idempotency key, writing nothing",
      withStore(async ({ store, workflow, other, newRun }) => {
        const parent = await newRun();
        const first = await store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          parentRunId: parent.id,
          idempotencyKey: "k",
        });
        expect(first.created).toBe(true);
        expect(first.run).toMatchObject({ parentRunId: parent.id, idempotencyKey: "k" });
        await store.appendEvents(first.run.id, [phaseAt(first.run.id, 2, "p")]);
        const again = await store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          parentRunId: parent.id,
          idempotencyKey: "k",
        });
        expect(again).toEqual({ run: first.run, created: false });
        expect(await store.maxCursor(first.run.id)).toBe(2);
        const top = await store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          idempotencyKey: "k",
        });
        expect(top.created).toBe(true);
        expect(
          (
            await store.createRun({
              workflowId: workflow.id,
              triggerKind: "manual",
              idempotencyKey: "k",
            })
          ).created,
        ).toBe(false);
        await expect(
          (async () =>
            store.createRun({
              workflowId: other.id,
              triggerKind: "manual",
              idempotencyKey: "k",
            }))(),
        ).rejects.toMatchObject({ code: "CONFLICT" });
        await expect(
          (async () => store.createRun({ workflowId: "01NOPE", triggerKind: "manual" }))(),
        ).rejects.toMatchObject({ code: "NOT_FOUND" });
        await expect(
          (async () =>
            store.createRun({
              workflowId: workflow.id,
              triggerKind: "manual",
              parentRunId: "01NOPE",
            }))(),
        ).rejects.toMatchObject({ code: "NOT_FOUND" });
      }),
    );

    it(
      "commits a status with the caller's stamp, after its pending events, and returns the row",
      withStore(async ({ store, newRun }) => {
        const run = await newRun();
        const row = await store.commitStatus(run.id, {
          to: "pending",
          expect: ["queued"],
          pending: [phaseAt(run.id, 1_000_001, "a"), phaseAt(run.id, 1_000_002, "b")],
          stamp: { cursor: 1_000_003, seq: 3 },
        });
        expect(row).toMatchObject({ id: run.id, status: "pending", startedAt: null });
        expect(await store.getRun(run.id)).toEqual(row);
        expect(await store.maxCursor(run.id)).toBe(1_000_003);
        const running = await store.commitStatus(run.id, {
          to: "running",
          expect: ["pending"],
          startedAt: 10,
          stamp: { cursor: 1_000_004, seq: 4 },
        });
        expect(running).toMatchObject({ status: "running", startedAt: 10 });
        // The first pass's start wins.
        await store.commitStatus(run.id, {
          to: "pending",
          expect: ["running"],
          stamp: { cursor: 1_000_005, seq: 5 },
        });
        const again = await store.commitStatus(run.id, {
          to: "running",
          expect: ["pending"],
          startedAt: 20,
          stamp: { cursor: 1_000_006, seq: 6 },
        });
        expect(again?.startedAt).toBe(10);
        const failed = await store.commitStatus(run.id, {
          to: "failed",
          expect: ["running"],
          endedAt: 30,
          output: { partial: true },
          error: { code: "PROGRAM_ERROR", message: "m", hint: "h" },
          stamp: { cursor: 1_000_007, seq: 7 },
        });
        expect(failed).toMatchObject({
          status: "failed",
          endedAt: 30,
          output: { partial: true },
          error: { code: "PROGRAM_ERROR", message: "m", hint: "h" },
        });
        const fresh = await newRun();
        const completed = await store.commitStatus(fresh.id, {
          to: "completed",
          expect: ["queued"],
          endedAt: 40,
          output: 1,
        });
        expect(completed).toMatchObject({ status: "completed", endedAt: 40, output: 1 });
      }),
    );

    it(
      "writes the status event with the run's ids, the stamp's seq and error code and message",
      withStore(async ({ store, newRun, subscribe }) => {
        if (subscribe === undefined) return;
        const seen: PublishedEvent[] = [];
        const off = subscribe((row) => seen.push(row));
        const run = await newRun();
        await store.commitStatus(run.id, {
          to: "pending",
          expect: ["queued"],
          stamp: { cursor: 1_000_001, seq: 1 },
        });
        await store.commitStatus(run.id, {
          to: "failed",
          expect: ["pending"],
          error: { code: "INTERNAL", message: "broke", hint: "fix it" },
          stamp: { cursor: 1_000_002, seq: 2 },
        });
        off();
        const mine = seen.filter((row) => row.runId === run.id);
        expect(mine.map((row) => row.cursor)).toEqual([1, 1_000_001, 1_000_002]);
        expect(mine[0]?.event).toMatchObject({
          kind: "run_status",
          status: "queued",
          runId: run.id,
          turnId: run.id,
          seq: 1,
        });
        expect(mine[1]?.event).toMatchObject({ status: "pending", seq: 1, turnId: run.id });
        expect(mine[1]?.event).not.toHaveProperty("error");
        expect(mine[2]?.event).toMatchObject({
          kind: "run_status",
          status: "failed",
          error: { code: "INTERNAL", message: "broke" },
          runId: run.id,
          turnId: run.id,
          seq: 2,
        });
        expect((mine[2]?.event as { error?: object }).error).not.toHaveProperty("hint");
        expect(typeof mine[2]?.event.t).toBe("number");
      }),
    );

    it(
      "writes why a pass started on the status event when the transition carries a reason",
      withStore(async ({ store, newRun, subscribe }) => {
        if (subscribe === undefined) return;
        const seen: PublishedEvent[] = [];
        const off = subscribe((row) => seen.push(row));
        const run = await newRun();
        await store.commitStatus(run.id, {
          to: "pending",
          expect: ["queued"],
          reason: "crash_restart",
          stamp: { cursor: 1_000_001, seq: 1 },
        });
        await store.commitStatus(run.id, {
          to: "running",
          expect: ["pending"],
          reason: "crash_restart",
          stamp: { cursor: 1_000_002, seq: 2 },
        });
        await store.commitStatus(run.id, {
          to: "completed",
          expect: ["running"],
          stamp: { cursor: 1_000_003, seq: 3 },
        });
        off();
        const mine = seen.filter((row) => row.runId === run.id).map((row) => row.event);
        expect(mine[1]).toMatchObject({ status: "pending", reason: "crash_restart" });
        expect(mine[2]).toMatchObject({ status: "running", reason: "crash_restart" });
        expect(mine[0]).not.toHaveProperty("reason");
        expect(mine[3]).not.toHaveProperty("reason");
      }),
    );

    it(
      "adds active time, stores a retry's count and due time, and writes an event-only error",
      withStore(async ({ store, newRun, subscribe }) => {
        const run = await newRun();
        expect(run).toMatchObject({ activeMs: 0, retries: 0, retryAt: null });
        expect(await store.addActiveMs(run.id, 1_200)).toBe(1_200);
        expect(await store.addActiveMs(run.id, 300)).toBe(1_500);
        expect(await store.scheduleRetry(run.id, 9_000)).toBe(1);
        expect(await store.getRun(run.id)).toMatchObject({
          activeMs: 1_500,
          retries: 1,
          retryAt: 9_000,
        });
        await store.clearRetry(run.id);
        expect(await store.getRun(run.id)).toMatchObject({ retries: 1, retryAt: null });
        await store.commitStatus(run.id, { to: "pending", expect: ["queued"] });
        await store.commitStatus(run.id, { to: "running", expect: ["pending"] });
        const seen: PublishedEvent[] = [];
        const off = subscribe?.((row) => seen.push(row));
        const row = await store.commitStatus(run.id, {
          to: "pending",
          expect: ["running"],
          reason: "retry",
          eventError: { code: "PROGRAM_ERROR", message: "attempt 1 broke", hint: "row only" },
        });
        off?.();
        expect(row).toMatchObject({ status: "pending", error: null });
        if (subscribe !== undefined) {
          const [event] = seen.filter((e) => e.runId === run.id).map((e) => e.event);
          expect(event).toMatchObject({
            status: "pending",
            reason: "retry",
            error: { code: "PROGRAM_ERROR", message: "attempt 1 broke" },
          });
          expect((event as { error?: object }).error).not.toHaveProperty("hint");
        }
      }),
    );

    it(
      "leaves status and fields alone when the status is not expected, but keeps pending events",
      withStore(async ({ store, newRun }) => {
        const run = await newRun();
        const refused = await store.commitStatus(run.id, {
          to: "running",
          expect: ["pending"],
          startedAt: 5,
          pending: [phaseAt(run.id, 1_000_001, "kept")],
          stamp: { cursor: 1_000_002, seq: 2 },
        });
        expect(refused).toBeNull();
        expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.maxCursor(run.id)).toBe(1_000_001);
        // The refused stamp's cursor was never written: it can be used again.
        expect(
          await store.commitStatus(run.id, {
            to: "cancelled",
            expect: ["queued"],
            endedAt: 9,
            stamp: { cursor: 1_000_002, seq: 2 },
          }),
        ).toMatchObject({ status: "cancelled", endedAt: 9 });
        // A terminal run is never ended twice.
        expect(
          await store.commitStatus(run.id, {
            to: "failed",
            expect: ["queued", "pending", "running", "cancelling"],
            stamp: { cursor: 1_000_003, seq: 3 },
          }),
        ).toBeNull();
        expect((await store.getRun(run.id))?.status).toBe("cancelled");
        expect(await store.maxCursor(run.id)).toBe(1_000_002);
      }),
    );

    it(
      "stamps a status without a caller stamp in a fresh block after the highest cursor",
      withStore(async ({ store, newRun, subscribe }) => {
        const seen: PublishedEvent[] = [];
        const off = subscribe?.((row) => seen.push(row));
        const run = await newRun();
        await store.appendEvents(run.id, [phaseAt(run.id, 2_000_007, "late")]);
        const row = await store.commitStatus(run.id, {
          to: "cancelled",
          expect: ["queued"],
          endedAt: 3,
        });
        expect(row).toMatchObject({ status: "cancelled", endedAt: 3 });
        expect(await store.maxCursor(run.id)).toBe(3_000_001);
        const fresh = await newRun();
        await store.commitStatus(fresh.id, { to: "cancelled", expect: ["queued"], endedAt: 4 });
        expect(await store.maxCursor(fresh.id)).toBe(1_000_001);
        off?.();
        if (subscribe !== undefined) {
          const status = seen.find((e) => e.runId === run.id && e.cursor === 3_000_001)?.event;
          expect(status).toMatchObject({ kind: "run_status", status: "cancelled", seq: 1 });
          expect(status?.turnId).toBe(run.id);
        }
      }),
    );

    it(
      "commits a status with pending events all-or-nothing",
      withStore(async ({ store, newRun }) => {
        const run = await newRun();
        await expect(
          (async () =>
            store.commitStatus(run.id, {
              to: "pending",
              expect: ["queued"],
              pending: [phaseAt(run.id, 1_000_001, "new"), phaseAt(run.id, 1, "clash")],
              stamp: { cursor: 1_000_002, seq: 2 },
            }))(),
        ).rejects.toMatchObject({ code: "CONFLICT" });
        await expect(
          (async () =>
            store.commitStatus(run.id, {
              to: "pending",
              expect: ["queued"],
              pending: [phaseAt(run.id, 1_000_001, "new")],
              stamp: { cursor: 1, seq: 1 },
            }))(),
        ).rejects.toMatchObject({ code: "CONFLICT" });
        expect((await store.getRun(run.id))?.status).toBe("queued");
        expect(await store.maxCursor(run.id)).toBe(1);
        await expect(
          (async () => store.commitStatus("01NOPE", { to: "pending", expect: ["queued"] }))(),
        ).rejects.toMatchObject({ code: "NOT_FOUND" });
      }),
    );

    it(
      "counts restarts and returns the usage tallies after each addition",
      withStore(async ({ store, newRun }) => {
        const run = await newRun();
        expect(await store.incrementRestarts(run.id)).toBe(1);
        expect(await store.incrementRestarts(run.id)).toBe(2);
        expect(
          await store.addRunUsage(run.id, { tokensIn: 5, tokensOut: 7, usdMicros: 11 }),
        ).toEqual({ tokensIn: 5, tokensOut: 7, usdMicros: 11 });
        expect(await store.addRunUsage(run.id, { tokensIn: 1 })).toEqual({
          tokensIn: 6,
          tokensOut: 7,
          usdMicros: 11,
        });
        expect(await store.getRun(run.id)).toMatchObject({
          restarts: 2,
          tokensIn: 6,
          tokensOut: 7,
          usdMicros: 11,
        });
        await expect(
          (async () => store.addRunUsage(run.id, { tokensIn: -1 }))(),
        ).rejects.toMatchObject({ code: "VALIDATION" });
        await expect(
          (async () => store.addRunUsage(run.id, { usdMicros: 1.5 }))(),
        ).rejects.toMatchObject({ code: "VALIDATION" });
        await expect((async () => store.incrementRestarts("01NOPE"))()).rejects.toMatchObject({
          code: "NOT_FOUND",
        });
        await expect(
          (async () => store.addRunUsage("01NOPE", { tokensIn: 1 }))(),
        ).rejects.toMatchObject({ code: "NOT_FOUND" });
      }),
    );

    it(
      "adds concurrent usage reports without losing any",
      withStore(async ({ store, newRun }) => {
        const run = await newRun();
        const totals = await Promise.all(
          Array.from({ length: 20 }, async () => store.addRunUsage(run.id, { tokensIn: 1 })),
        );
        expect(totals.map((t) => t.tokensIn).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        expect((await store.getRun(run.id))?.tokensIn).toBe(20);
      }),
    );

    it(
      "appends event batches all-or-nothing and reports the highest cursor",
      withStore(async ({ store, newRun }) => {
        const run = await newRun();
        expect(await store.maxCursor(run.id)).toBe(1);
        expect(await store.maxCursor("01NOPE")).toBe(0);
        await store.appendEvents(run.id, []);
        await store.appendEvents(run.id, [phaseAt(run.id, 2, "a"), phaseAt(run.id, 3, "b")]);
        await expect(
          (async () =>
            store.appendEvents(run.id, [
              phaseAt(run.id, 1_000_001, "c"),
              phaseAt(run.id, 3, "d"),
            ]))(),
        ).rejects.toMatchObject({ code: "CONFLICT" });
        expect(await store.maxCursor(run.id)).toBe(3);
        for (const cursor of [0, 1.5]) {
          await expect(
            (async () => store.appendEvents(run.id, [{ ...phaseAt(run.id, 9, "x"), cursor }]))(),
          ).rejects.toMatchObject({ code: "VALIDATION" });
        }
        await expect(
          (async () => store.appendEvents("01NOPE", [phaseAt("01NOPE", 5, "x")]))(),
        ).rejects.toMatchObject({ code: "NOT_FOUND" });
        await store.appendEvents(run.id, [phaseAt(run.id, 1_000_001, "c")]);
        expect(await store.maxCursor(run.id)).toBe(1_000_001);
      }),
    );

    it(
      "publishes every committed event once, after its commit, per run in cursor order",
      withStore(async ({ store, newRun, workflow, subscribe }) => {
        if (subscribe === undefined) return;
        const seen: PublishedEvent[] = [];
        const off = subscribe((row) => seen.push(row));
        const run = await newRun();
        await store.appendEvents(run.id, [phaseAt(run.id, 2, "a"), phaseAt(run.id, 3, "b")]);
        await expect(
          (async () =>
            store.appendEvents(run.id, [phaseAt(run.id, 4, "c"), phaseAt(run.id, 2, "x")]))(),
        ).rejects.toMatchObject({ code: "CONFLICT" });
        await store.commitStatus(run.id, {
          to: "pending",
          expect: ["queued"],
          pending: [phaseAt(run.id, 1_000_001, "d")],
          stamp: { cursor: 1_000_002, seq: 2 },
        });
        await store.commitStatus(run.id, {
          to: "running",
          expect: ["queued"],
          pending: [phaseAt(run.id, 1_000_003, "e")],
          stamp: { cursor: 1_000_004, seq: 4 },
        });
        await store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          parentRunId: run.id,
          idempotencyKey: "child",
        });
        await store.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          parentRunId: run.id,
          idempotencyKey: "child",
        });
        off();
        await store.appendEvents(run.id, [phaseAt(run.id, 1_000_005, "unseen")]);
        const mine = seen.filter((row) => row.runId === run.id);
        expect(mine.map((row) => row.cursor)).toEqual([1, 2, 3, 1_000_001, 1_000_002, 1_000_003]);
        expect(mine.map((row) => statusOf(row.event))).toEqual([
          "queued",
          null,
          null,
          null,
          "pending",
          null,
        ]);
        expect(
          seen.every((row) => row.workflowId === workflow.id && row.workflowSlug === "contract-a"),
        ).toBe(true);
        const children = seen.filter((row) => row.runId !== run.id);
        expect(children.map((row) => [row.cursor, statusOf(row.event)])).toEqual([[1, "queued"]]);
      }),
    );

    it(
      "lists runs in the given statuses in creation order",
      withStore(async ({ store, newRun }) => {
        const a = await newRun();
        const b = await newRun();
        const c = await newRun({ parentRunId: a.id, idempotencyKey: "child" });
        await store.commitStatus(b.id, { to: "running", expect: ["queued"] });
        await store.commitStatus(c.id, { to: "cancelling", expect: ["queued"] });
        expect(await store.listRuns({ statuses: [], order: "oldest" })).toEqual([]);
        const ids = async (statuses: RunRow["status"][], order: "oldest" | "newest") =>
          (await store.listRuns({ statuses, order })).map((r) => r.id);
        expect(await ids(["queued"], "oldest")).toEqual([a.id]);
        expect(await ids(["pending", "running", "cancelling"], "oldest")).toEqual([b.id, c.id]);
        expect(await ids(["queued", "running", "cancelling"], "oldest")).toEqual([
          a.id,
          b.id,
          c.id,
        ]);
        expect(await ids(["queued", "running", "cancelling"], "newest")).toEqual([
          c.id,
          b.id,
          a.id,
        ]);
        expect((await store.listRuns({ statuses: ["running"], order: "oldest" }))[0]).toEqual(
          await store.getRun(b.id),
        );
      }),
    );

    it(
      "records artifacts and validates their size",
      withStore(async ({ store, newRun }) => {
        const run = await newRun();
        const row = await store.createArtifact({
          runId: run.id,
          name: "a.txt",
          contentType: "text/plain",
          path: "/tmp/a.txt",
          size: 3,
          metadata: { k: 1 },
        });
        expect(row).toMatchObject({
          runId: run.id,
          name: "a.txt",
          contentType: "text/plain",
          path: "/tmp/a.txt",
          size: 3,
          metadata: { k: 1 },
        });
        expect(typeof row.id).toBe("string");
        expect(typeof row.createdAt).toBe("number");
        const bare = await store.createArtifact({
          runId: run.id,
          name: "b",
          contentType: "x",
          path: "/b",
          size: 0,
        });
        expect(bare.metadata).toBeNull();
        expect(bare.id).not.toBe(row.id);
        await expect(
          (async () =>
            store.createArtifact({
              runId: run.id,
              name: "b",
              contentType: "x",
              path: "/b",
              size: -1,
            }))(),
        ).rejects.toMatchObject({ code: "VALIDATION" });
        await expect(
          (async () =>
            store.createArtifact({
              runId: "01NOPE",
              name: "b",
              contentType: "x",
              path: "/b",
              size: 1,
            }))(),
        ).rejects.toMatchObject({ code: "NOT_FOUND" });
      }),
    );

    it(
      "opens a human-input request once per key, with its event after the pending ones",
      withStore(async ({ store, newRun, subscribe }) => {
        const run = await newRun();
        const seen: PublishedEvent[] = [];
        const off = subscribe?.((row) => seen.push(row));
        const spec = { kind: "choice", options: ["Ship", "Hold"] };
        const first = await store.createInputRequest(run.id, {
          key: "ship",
          prompt: "Ship it?",
          inputSpec: spec,
          assignees: ["role:admin"],
          timeoutMs: 5_000,
          pending: [phaseAt(run.id, 1_000_001, "before")],
          stamp: { cursor: 1_000_002, seq: 2 },
        });
        off?.();
        expect(first.created).toBe(true);
        expect(first.request).toMatchObject({
          runId: run.id,
          seq: 1,
          key: "ship",
          prompt: "Ship it?",
          inputSpec: spec,
          assignees: ["role:admin"],
          status: "pending",
          response: null,
          respondedBy: null,
          respondedAt: null,
        });
        expect(first.request.expiresAt).toBe(first.request.createdAt + 5_000);
        expect(await store.getInputRequest(run.id, "ship")).toEqual(first.request);
        expect(await store.getInputRequest(run.id, "other")).toBeNull();
        expect(await store.maxCursor(run.id)).toBe(1_000_002);
        if (subscribe !== undefined) {
          expect(seen.map((row) => [row.cursor, row.event.kind])).toEqual([
            [1_000_001, "phase"],
            [1_000_002, "human_input_requested"],
          ]);
          expect(seen[1]?.event).toMatchObject({ requestId: first.request.id, key: "ship" });
        }
        const again = await store.createInputRequest(run.id, {
          key: "ship",
          prompt: "Ship it?",
          inputSpec: spec,
          stamp: { cursor: 2_000_001, seq: 1 },
        });
        expect(again).toEqual({ request: first.request, created: false });
        expect(await store.maxCursor(run.id)).toBe(1_000_002);
        // Without a stamp the event lands in a fresh block.
        await store.createInputRequest(run.id, { key: "next", prompt: "?", inputSpec: spec });
        expect(await store.maxCursor(run.id)).toBe(2_000_001);
        expect((await store.getInputRequest(run.id, "next"))?.seq).toBe(2);
        await expect(
          (async () =>
            store.createInputRequest("01NOPE", { key: "k", prompt: "?", inputSpec: spec }))(),
        ).rejects.toMatchObject({ code: "NOT_FOUND" });
      }),
    );

    it(
      "settles a pending request once, and a terminal status cancels what is still pending",
      withStore(async ({ store, newRun }) => {
        const run = await newRun();
        const spec = { kind: "text" };
        const a = await store.createInputRequest(run.id, {
          key: "a",
          prompt: "?",
          inputSpec: spec,
        });
        await store.createInputRequest(run.id, { key: "b", prompt: "?", inputSpec: spec });
        await store.createInputRequest(run.id, { key: "c", prompt: "?", inputSpec: spec });
        const resolved = await store.settleInputRequest(run.id, "a", {
          status: "resolved",
          response: { value: "yes" },
          respondedBy: "api",
          stamp: { cursor: 5_000_001, seq: 1 },
        });
        expect(resolved).toMatchObject({
          id: a.request.id,
          status: "resolved",
          response: { value: "yes" },
          respondedBy: "api",
        });
        expect(typeof resolved?.respondedAt).toBe("number");
        expect(await store.maxCursor(run.id)).toBe(5_000_001);
        expect(
          await store.settleInputRequest(run.id, "a", {
            status: "resolved",
            response: { value: "no" },
          }),
        ).toBeNull();
        const expired = await store.settleInputRequest(run.id, "b", {
          status: "expired",
          response: null,
        });
        expect(expired).toMatchObject({ status: "expired", response: null });
        await store.commitStatus(run.id, { to: "awaiting_input", expect: ["queued"] });
        expect((await store.getInputRequest(run.id, "c"))?.status).toBe("pending");
        await store.commitStatus(run.id, {
          to: "cancelled",
          expect: ["awaiting_input"],
          endedAt: 9,
        });
        expect((await store.getInputRequest(run.id, "a"))?.status).toBe("resolved");
        expect((await store.getInputRequest(run.id, "b"))?.status).toBe("expired");
        const c = await store.getInputRequest(run.id, "c");
        expect(c?.status).toBe("cancelled");
        expect(typeof c?.respondedAt).toBe("number");
        expect(
          await store.settleInputRequest(run.id, "c", {
            status: "resolved",
            response: { value: "late" },
          }),
        ).toBeNull();
      }),
    );
  });
}
