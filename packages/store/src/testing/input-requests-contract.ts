/**
 * The human-input part of the store contract suite (registered by `describeStoreContract`):
 * the durable answer slot of each gate. What would break without these rules: a restarted
 * program asked twice (or never answered), two people's answers both accepted, a cancelled run
 * still listed as waiting in the inbox, or the gate's events out of cursor order.
 */
import { describe, expect, it } from "vitest";
import { TURN_CURSOR_STRIDE } from "../internal/sdk.ts";
import type { AsyncStore, EventAppend, PublishedEvent } from "../types.ts";
import type { ManualClock } from "@promenade/workflow/testing";
import { outputLineEvent } from "./fixtures.ts";

const STRIDE = TURN_CURSOR_STRIDE;

/** What the human-input tests need from the suite's setup. */
export interface InputRequestSetup {
  setupRun: () => Promise<{
    store: AsyncStore;
    clock: ManualClock;
    runId: string;
    workflowId: string;
  }>;
  listen: (store: AsyncStore) => PublishedEvent[];
}

async function errorOf(fn: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a throw");
}

const choice = { kind: "choice", options: ["Ship", "Hold"] };

function line(runId: string, cursor: number, text: string): EventAppend {
  return { cursor, event: outputLineEvent(runId, text, { seq: cursor % STRIDE }) };
}

/** Registers the human-input request contract tests. */
export function describeInputRequestContract({ setupRun, listen }: InputRequestSetup): void {
  describe("human-input requests", () => {
    it("inserts a pending request with its requested event after the pending events, once per key", async () => {
      const { store, clock, runId } = await setupRun();
      const seen = listen(store);
      clock.advance(10);
      const first = await store.createInputRequest(runId, {
        key: "ship",
        prompt: "Ship it?",
        inputSpec: choice,
        assignees: ["role:admin"],
        pending: [line(runId, STRIDE + 1, "before")],
        stamp: { cursor: STRIDE + 2, seq: 2 },
      });
      expect(first.created).toBe(true);
      expect(first.request).toEqual({
        id: expect.any(String) as unknown,
        runId,
        seq: 1,
        key: "ship",
        prompt: "Ship it?",
        inputSpec: choice,
        assignees: ["role:admin"],
        status: "pending",
        response: null,
        respondedBy: null,
        createdAt: clock.now(),
        expiresAt: null,
        respondedAt: null,
      });
      const events = (await store.listEvents(runId)).slice(1);
      expect(events.map((row) => row.cursor)).toEqual([STRIDE + 1, STRIDE + 2]);
      expect(events[1]?.event).toEqual({
        kind: "human_input_requested",
        requestId: first.request.id,
        key: "ship",
        prompt: "Ship it?",
        runId,
        turnId: runId,
        seq: 2,
        t: clock.now(),
      });
      expect(seen.map((row) => row.cursor)).toEqual([STRIDE + 1, STRIDE + 2]);
      // The same key again (a restarted pass): the same row, nothing more written.
      const again = await store.createInputRequest(runId, {
        key: "ship",
        prompt: "Ship it now?",
        inputSpec: { kind: "text" },
        stamp: { cursor: 2 * STRIDE + 1, seq: 1 },
      });
      expect(again).toEqual({ request: first.request, created: false });
      expect(await store.maxCursor(runId)).toBe(STRIDE + 2);
      expect(await store.getInputRequest(runId, "ship")).toEqual(first.request);
      expect(await store.getInputRequest(runId, "nope")).toBeNull();
    });

    it("numbers requests per run, stamps a fresh block without a stamp, and sets expiresAt from the timeout", async () => {
      const { store, clock, runId } = await setupRun();
      await store.appendEvents(runId, [line(runId, 3 * STRIDE + 4, "x")]);
      const a = await store.createInputRequest(runId, {
        key: "input-1",
        prompt: "a",
        inputSpec: { kind: "text" },
        timeoutMs: 500,
      });
      const b = await store.createInputRequest(runId, {
        key: "input-2",
        prompt: "b",
        inputSpec: { kind: "text" },
      });
      expect([a.request.seq, b.request.seq]).toEqual([1, 2]);
      expect(a.request.expiresAt).toBe(clock.now() + 500);
      expect(b.request.expiresAt).toBeNull();
      expect((await store.listEvents(runId)).slice(-2).map((row) => row.cursor)).toEqual([
        4 * STRIDE + 1,
        5 * STRIDE + 1,
      ]);
    });

    it("resolves a pending request once: the first settlement wins, with its resolved event", async () => {
      const { store, clock, runId } = await setupRun();
      const { request } = await store.createInputRequest(runId, {
        key: "ship",
        prompt: "Ship it?",
        inputSpec: choice,
        stamp: { cursor: STRIDE + 1, seq: 1 },
      });
      clock.advance(50);
      const resolved = await store.settleInputRequest(runId, "ship", {
        status: "resolved",
        response: { value: "Ship", isOther: false },
        respondedBy: "api",
        pending: [line(runId, STRIDE + 2, "waiting")],
        stamp: { cursor: STRIDE + 3, seq: 3 },
      });
      expect(resolved).toEqual({
        ...request,
        status: "resolved",
        response: { value: "Ship", isOther: false },
        respondedBy: "api",
        respondedAt: clock.now(),
      });
      const last = (await store.listEvents(runId)).at(-1);
      expect(last).toEqual({
        runId,
        cursor: STRIDE + 3,
        event: {
          kind: "human_input_resolved",
          requestId: request.id,
          key: "ship",
          runId,
          turnId: runId,
          seq: 3,
          t: clock.now(),
        },
      });
      const second = await store.settleInputRequest(runId, "ship", {
        status: "resolved",
        response: { value: "Hold", isOther: false },
      });
      expect(second).toBeNull();
      expect(await store.getInputRequest(runId, "ship")).toEqual(resolved);
      expect(await store.maxCursor(runId)).toBe(STRIDE + 3);
      expect(
        await store.settleInputRequest(runId, "never-asked", {
          status: "resolved",
          response: { value: "x" },
        }),
      ).toBeNull();
      // A key that has an answer is found as it is: a restarted pass gets the stored answer.
      expect(
        await store.createInputRequest(runId, { key: "ship", prompt: "?", inputSpec: choice }),
      ).toEqual({ request: resolved, created: false });
    });

    it("lets exactly one of several concurrent settlements win", async () => {
      const { store, runId } = await setupRun();
      await store.createInputRequest(runId, { key: "k", prompt: "?", inputSpec: choice });
      const results = await Promise.all(
        ["Ship", "Hold", "Ship", "Hold"].map(async (value) =>
          store.settleInputRequest(runId, "k", {
            status: "resolved",
            response: { value, isOther: false },
          }),
        ),
      );
      const winners = results.filter((row) => row !== null);
      expect(winners).toHaveLength(1);
      expect((await store.getInputRequest(runId, "k"))?.response).toEqual(winners[0]?.response);
      const resolvedEvents = (await store.listEvents(runId)).filter(
        (row) => row.event.kind === "human_input_resolved",
      );
      expect(resolvedEvents).toHaveLength(1);
    });

    it("expires a pending request with or without a default answer", async () => {
      const { store, clock, runId } = await setupRun();
      await store.createInputRequest(runId, { key: "a", prompt: "?", inputSpec: choice });
      await store.createInputRequest(runId, { key: "b", prompt: "?", inputSpec: choice });
      clock.advance(1);
      const a = await store.settleInputRequest(runId, "a", {
        status: "expired",
        response: { value: "Hold", isOther: false },
      });
      expect(a).toMatchObject({
        status: "expired",
        response: { value: "Hold", isOther: false },
        respondedBy: null,
        respondedAt: clock.now(),
      });
      const b = await store.settleInputRequest(runId, "b", { status: "expired", response: null });
      expect(b).toMatchObject({ status: "expired", response: null, respondedAt: clock.now() });
      expect(
        await store.settleInputRequest(runId, "a", {
          status: "resolved",
          response: { value: "Ship", isOther: false },
        }),
      ).toBeNull();
    });

    it("cancels the pending requests of a run that ends, and only those", async () => {
      const { store, clock, runId } = await setupRun();
      await store.createInputRequest(runId, { key: "open", prompt: "?", inputSpec: choice });
      await store.createInputRequest(runId, { key: "done", prompt: "?", inputSpec: choice });
      const done = await store.settleInputRequest(runId, "done", {
        status: "resolved",
        response: { value: "Ship", isOther: false },
      });
      await store.commitStatus(runId, { to: "awaiting_input", expect: ["queued"] });
      // A non-terminal transition leaves them alone.
      expect((await store.getInputRequest(runId, "open"))?.status).toBe("pending");
      clock.advance(7);
      await store.commitStatus(runId, {
        to: "cancelled",
        expect: ["awaiting_input"],
        endedAt: clock.now(),
      });
      expect(await store.getInputRequest(runId, "open")).toMatchObject({
        status: "cancelled",
        response: null,
        respondedAt: clock.now(),
      });
      expect(await store.getInputRequest(runId, "done")).toEqual(done);
      expect(
        await store.settleInputRequest(runId, "open", {
          status: "resolved",
          response: { value: "Ship", isOther: false },
        }),
      ).toBeNull();
    });

    it("lists requests newest first, filtered by run and statuses", async () => {
      const { store, clock, runId, workflowId } = await setupRun();
      const other = (await store.createRun({ workflowId, triggerKind: "manual" })).run.id;
      const r1 = (
        await store.createInputRequest(runId, { key: "1", prompt: "", inputSpec: choice })
      ).request;
      const r2 = (
        await store.createInputRequest(other, { key: "2", prompt: "", inputSpec: choice })
      ).request;
      // Same creation time: insertion order breaks the tie.
      const r3 = (
        await store.createInputRequest(runId, { key: "3", prompt: "", inputSpec: choice })
      ).request;
      clock.advance(5);
      const r4 = (
        await store.createInputRequest(other, { key: "4", prompt: "", inputSpec: choice })
      ).request;
      const answered = await store.settleInputRequest(runId, "3", {
        status: "resolved",
        response: { value: "Ship", isOther: false },
      });
      const ids = (rows: { id: string }[]) => rows.map((row) => row.id);
      expect(ids(await store.listInputRequests())).toEqual([r4.id, r3.id, r2.id, r1.id]);
      expect(ids(await store.listInputRequests({ runId }))).toEqual([r3.id, r1.id]);
      expect(ids(await store.listInputRequests({ statuses: ["pending"] }))).toEqual([
        r4.id,
        r2.id,
        r1.id,
      ]);
      expect(await store.listInputRequests({ runId, statuses: ["resolved", "expired"] })).toEqual([
        answered,
      ]);
      expect(await store.listInputRequests({ statuses: [] })).toEqual([]);
      expect(await store.listInputRequests({ runId: "01NOPE" })).toEqual([]);
    });

    it("refuses bad arguments with VALIDATION and unknown runs with NOT_FOUND, writing nothing", async () => {
      const { store, runId } = await setupRun();
      const base = { key: "k", prompt: "?", inputSpec: choice };
      const bad: [() => unknown, string][] = [
        [() => store.createInputRequest(runId, { ...base, key: "" }), "key"],
        [() => store.createInputRequest(runId, { ...base, key: "x".repeat(1025) }), "key"],
        [
          () => store.createInputRequest(runId, { ...base, prompt: 3 as unknown as string }),
          "prompt",
        ],
        [
          () =>
            store.createInputRequest(runId, {
              ...base,
              assignees: [1] as unknown as string[],
            }),
          "assignees",
        ],
        [() => store.createInputRequest(runId, { ...base, timeoutMs: -1 }), "timeoutMs"],
        [
          () =>
            store.createInputRequest(runId, {
              ...base,
              inputSpec: { f: () => 1 } as unknown as null,
            }),
          "inputSpec",
        ],
        [
          () =>
            store.settleInputRequest(runId, "k", {
              status: "answered" as "resolved",
              response: 1,
            }),
          "status",
        ],
        [() => store.settleInputRequest(runId, "k", { status: "resolved" }), "response"],
        [() => store.listInputRequests({ statuses: ["open" as "pending"] }), "statuses[0]"],
      ];
      for (const [call, field] of bad) {
        const error = await errorOf(call);
        expect(error.code, field).toBe("VALIDATION");
        expect(error.message, field).toContain(field);
      }
      expect(await store.listInputRequests()).toEqual([]);
      expect((await errorOf(() => store.createInputRequest("01NOPE", base))).code).toBe(
        "NOT_FOUND",
      );
      expect(
        (
          await errorOf(() =>
            store.settleInputRequest("01NOPE", "k", { status: "resolved", response: 1 }),
          )
        ).code,
      ).toBe("NOT_FOUND");
      expect(await store.maxCursor(runId)).toBe(1);
    });
  });
}
