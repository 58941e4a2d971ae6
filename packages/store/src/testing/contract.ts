/**
 * The store contract suite: every observable rule the supervisor, scheduler, server and engine
 * rely on, written against {@link AsyncStore} only and awaiting every call, so one suite runs
 * against every backend (SQLite returns plain values, PostgreSQL promises). Rules only one
 * backend has (SQLite's `transaction`/`afterCommit`, its file lock, its query plans) are tested
 * in that backend's own files, not here. Needs vitest (an optional peer dependency).
 *
 * Timing rule the suite pins: by the time a write returns (or its promise resolves), every
 * `subscribe` listener has received the events it committed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TURN_CURSOR_STRIDE, type JsonValue, type RunEvent } from "../internal/sdk.ts";
import type { AsyncStore, Awaitable, EventAppend, PublishedEvent } from "../types.ts";
import { createManualClock, type ManualClock } from "@promenade/workflow/testing";
import { outputLineEvent, statusEvent, testManifest, textDeltaEvent } from "./fixtures.ts";
import { describeDeliveryContract } from "./deliveries-contract.ts";
import { describeRequestKeyContract } from "./request-keys-contract.ts";
import { describeRetentionContract } from "./retention-contract.ts";
import { describeInputRequestContract } from "./input-requests-contract.ts";
import { describeUndeployContract } from "./undeploy-contract.ts";
import { describeVersionContract } from "./versions-contract.ts";

/** Makes a fresh, empty store whose timestamps come from `now`. */
export type StoreFactory = (options: { now: () => number }) => Awaitable<AsyncStore>;

const STRIDE = TURN_CURSOR_STRIDE;

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

async function errorOf(fn: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a throw");
}

/**
 * Registers the contract tests under `describe(name)`. Each test gets a fresh, empty store from
 * `makeStore` and closes it afterwards.
 */
export function describeStoreContract(name: string, makeStore: StoreFactory): void {
  describe(name, () => {
    let open: AsyncStore[] = [];
    afterEach(async () => {
      for (const store of open) await store.close();
      open = [];
    });
    const setup = async (): Promise<{
      store: AsyncStore;
      clock: ManualClock;
      workflowId: string;
    }> => {
      const clock = createManualClock();
      const store = await makeStore({ now: () => clock.now() });
      open.push(store);
      const workflow = await store.upsertWorkflow({
        slug: "echo",
        manifest: testManifest("echo"),
        program: "export {}",
      });
      return { store, clock, workflowId: workflow.id };
    };
    const setupRun = async () => {
      const context = await setup();
      const { run } = await context.store.createRun({
        workflowId: context.workflowId,
        triggerKind: "manual",
      });
      return { ...context, runId: run.id };
    };
    const cursors = async (store: AsyncStore, runId: string): Promise<number[]> =>
      (await store.listEvents(runId)).map((row) => row.cursor);
    const listen = (store: AsyncStore): PublishedEvent[] => {
      const seen: PublishedEvent[] = [];
      store.subscribe((row) => seen.push(row));
      return seen;
    };

    describeInputRequestContract({ setupRun, listen });

    describeRequestKeyContract({ setup, listen });

    describeDeliveryContract({ setup, listen });

    describeVersionContract({ setup });
    describeUndeployContract({ setup });
    describeRetentionContract({ setup });

    describe("workflows", () => {
      it("upserts by slug keeping id and createdAt, replacing the rest", async () => {
        const { store, clock } = await setup();
        const first = await store.upsertWorkflow({
          slug: "digest",
          manifest: testManifest("digest", { title: "Daily digest" }),
          program: "v1",
          config: { catch_up: "once" },
        });
        expect(first).toMatchObject({
          slug: "digest",
          name: "digest",
          title: "Daily digest",
          program: "v1",
        });
        expect(first.config).toEqual({ catch_up: "once" });
        clock.advance(1000);
        const second = await store.upsertWorkflow({
          slug: "digest",
          manifest: testManifest("digest"),
          program: "v2",
        });
        expect(second.id).toBe(first.id);
        expect(second.createdAt).toBe(first.createdAt);
        expect(second.updatedAt).toBe(first.createdAt + 1000);
        expect(second).toMatchObject({ program: "v2", title: null, config: {} });
        expect(await store.getWorkflow("digest")).toEqual(second);
        expect(await store.getWorkflowById(first.id)).toEqual(second);
      });

      it("lists workflows by slug ascending and returns null for unknown ones", async () => {
        const { store } = await setup();
        await store.upsertWorkflow({ slug: "alpha", manifest: testManifest("alpha"), program: "" });
        expect((await store.listWorkflows()).map((w) => w.slug)).toEqual(["alpha", "echo"]);
        expect(await store.getWorkflow("nope")).toBeNull();
        expect(await store.getWorkflowById("nope")).toBeNull();
      });

      it("rejects a bad manifest, a slug mismatch and a non-JSON config with VALIDATION", async () => {
        const { store } = await setup();
        const bad = { slug: "x", manifest: { slug: "x" } as never, program: "" };
        expect(await codeOf(() => store.upsertWorkflow(bad))).toBe("VALIDATION");
        expect(
          await codeOf(() =>
            store.upsertWorkflow({ slug: "y", manifest: testManifest("x"), program: "" }),
          ),
        ).toBe("VALIDATION");
        expect(
          await codeOf(() =>
            store.upsertWorkflow({
              slug: "x",
              manifest: testManifest("x"),
              program: "",
              config: { when: new Date() } as never,
            }),
          ),
        ).toBe("VALIDATION");
        expect(await store.getWorkflow("x")).toBeNull();
      });
    });

    describe("runs", () => {
      it("creates a queued run with zero tallies, input null when omitted, and its queued event at cursor 1", async () => {
        const { store, clock, workflowId } = await setup();
        const { run, created } = await store.createRun({ workflowId, triggerKind: "manual" });
        expect(created).toBe(true);
        expect(run).toMatchObject({
          workflowId,
          status: "queued",
          triggerKind: "manual",
          input: null,
          output: null,
          error: null,
          parentRunId: null,
          idempotencyKey: null,
          restarts: 0,
          tokensIn: 0,
          tokensOut: 0,
          usdMicros: 0,
          createdAt: clock.now(),
          startedAt: null,
          endedAt: null,
          activeMs: 0,
          retries: 0,
          retryAt: null,
          version: 1,
        });
        expect(run.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
        expect(await store.getRun(run.id)).toEqual(run);
        expect(await store.listEvents(run.id)).toEqual([
          { runId: run.id, cursor: 1, event: statusEvent(run.id, "queued", { t: clock.now() }) },
        ]);
        expect(await store.maxCursor(run.id)).toBe(1);
      });

      it("round-trips JSON input exactly", async () => {
        const { store, workflowId } = await setup();
        const input: JsonValue = { n: 7, tags: ["a", "b"], nested: { ok: true, none: null } };
        const { run } = await store.createRun({ workflowId, triggerKind: "webhook", input });
        expect((await store.getRun(run.id))?.input).toEqual(input);
        const { run: empty } = await store.createRun({
          workflowId,
          triggerKind: "manual",
          input: null,
        });
        expect(empty.input).toBeNull();
      });

      it("finds instead of creating on a reused idempotency key, with or without a parent, writing nothing", async () => {
        const { store, workflowId } = await setup();
        const a = await store.createRun({
          workflowId,
          triggerKind: "manual",
          idempotencyKey: "k1",
        });
        const seen = listen(store);
        const b = await store.createRun({
          workflowId,
          triggerKind: "manual",
          idempotencyKey: "k1",
        });
        expect(b).toEqual({ run: a.run, created: false });
        expect(await cursors(store, a.run.id)).toEqual([1]);
        expect(seen).toEqual([]);
        const child = await store.createRun({
          workflowId,
          triggerKind: "manual",
          parentRunId: a.run.id,
          idempotencyKey: "k1",
        });
        expect(child.created).toBe(true);
        const again = await store.createRun({
          workflowId,
          triggerKind: "manual",
          parentRunId: a.run.id,
          idempotencyKey: "k1",
        });
        expect(again).toEqual({ run: child.run, created: false });
        const k2 = await store.createRun({
          workflowId,
          triggerKind: "manual",
          idempotencyKey: "k2",
        });
        expect(k2.created).toBe(true);
        const other = await store.upsertWorkflow({
          slug: "other",
          manifest: testManifest("other"),
          program: "",
        });
        expect(
          await codeOf(() =>
            store.createRun({ workflowId: other.id, triggerKind: "manual", idempotencyKey: "k1" }),
          ),
        ).toBe("CONFLICT");
        expect(await store.listRuns()).toHaveLength(3);
      });

      it("rejects unknown workflows and parents with NOT_FOUND naming which", async () => {
        const { store, workflowId } = await setup();
        const noWorkflow = await errorOf(() =>
          store.createRun({ workflowId: "nope", triggerKind: "manual" }),
        );
        expect(noWorkflow.code).toBe("NOT_FOUND");
        expect(noWorkflow.message).toMatch(/workflow/i);
        const noParent = await errorOf(() =>
          store.createRun({ workflowId, triggerKind: "manual", parentRunId: "nope" }),
        );
        expect(noParent.code).toBe("NOT_FOUND");
        expect(noParent.message).toMatch(/parent/i);
      });

      it("rejects non-JSON input and bad trigger kinds with VALIDATION and writes nothing", async () => {
        const { store, workflowId } = await setup();
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        for (const input of [
          () => 1,
          1n,
          Number.NaN,
          Infinity,
          new Date(),
          cyclic,
          [undefined],
          Symbol("s"),
        ]) {
          expect(
            await codeOf(() =>
              store.createRun({ workflowId, triggerKind: "manual", input: input as never }),
            ),
          ).toBe("VALIDATION");
        }
        expect(
          await codeOf(() => store.createRun({ workflowId, triggerKind: "timer" as never })),
        ).toBe("VALIDATION");
        expect(await store.listRuns()).toEqual([]);
      });

      it("adds active time and counts retries with their due time, rejecting bad numbers and unknown runs", async () => {
        const { store, runId } = await setupRun();
        expect(await store.addActiveMs(runId, 1500)).toBe(1500);
        expect(await store.addActiveMs(runId, 0)).toBe(1500);
        expect(await store.addActiveMs(runId, 250)).toBe(1750);
        expect(await store.scheduleRetry(runId, 5_000)).toBe(1);
        expect(await store.getRun(runId)).toMatchObject({
          activeMs: 1750,
          retries: 1,
          retryAt: 5_000,
        });
        await store.clearRetry(runId);
        expect(await store.scheduleRetry(runId, 9_000)).toBe(2);
        await store.clearRetry(runId);
        expect(await store.getRun(runId)).toMatchObject({
          activeMs: 1750,
          retries: 2,
          retryAt: null,
        });
        expect(await codeOf(() => store.addActiveMs(runId, -1))).toBe("VALIDATION");
        expect(await codeOf(() => store.addActiveMs(runId, 1.5))).toBe("VALIDATION");
        expect(await codeOf(() => store.scheduleRetry(runId, Number.NaN))).toBe("VALIDATION");
        expect(await codeOf(() => store.addActiveMs("nope", 1))).toBe("NOT_FOUND");
        expect(await codeOf(() => store.scheduleRetry("nope", 1))).toBe("NOT_FOUND");
        expect(await codeOf(() => store.clearRetry("nope"))).toBe("NOT_FOUND");
        expect(await store.getRun(runId)).toMatchObject({ activeMs: 1750, retries: 2 });
      });

      it("counts restarts and adds usage returning the totals, rejecting bad amounts and unknown runs", async () => {
        const { store, runId } = await setupRun();
        expect(await store.incrementRestarts(runId)).toBe(1);
        expect(await store.incrementRestarts(runId)).toBe(2);
        expect(await store.addRunUsage(runId, { tokensIn: 120, tokensOut: 30 })).toEqual({
          tokensIn: 120,
          tokensOut: 30,
          usdMicros: 0,
        });
        expect(await store.addRunUsage(runId, { tokensIn: 1, usdMicros: 5 })).toEqual({
          tokensIn: 121,
          tokensOut: 30,
          usdMicros: 5,
        });
        expect(await store.addRunUsage(runId, {})).toEqual({
          tokensIn: 121,
          tokensOut: 30,
          usdMicros: 5,
        });
        expect(await store.getRunUsage(runId)).toEqual({
          tokensIn: 121,
          tokensOut: 30,
          usdMicros: 5,
        });
        expect(await store.getRun(runId)).toMatchObject({ restarts: 2, tokensIn: 121 });
        expect(await codeOf(() => store.addRunUsage(runId, { tokensIn: -1 }))).toBe("VALIDATION");
        expect(await codeOf(() => store.addRunUsage(runId, { usdMicros: 1.5 }))).toBe("VALIDATION");
        expect(await codeOf(() => store.addRunUsage("nope", { tokensIn: 1 }))).toBe("NOT_FOUND");
        expect(await codeOf(() => store.incrementRestarts("nope"))).toBe("NOT_FOUND");
        expect(await codeOf(() => store.getRunUsage("nope"))).toBe("NOT_FOUND");
        expect(await store.getRunUsage(runId)).toEqual({
          tokensIn: 121,
          tokensOut: 30,
          usdMicros: 5,
        });
      });
    });

    describe("commitStatus", () => {
      it("applies a transition at the caller's stamp, with its fields, and returns the row", async () => {
        const { store, clock, runId } = await setupRun();
        clock.advance(5);
        const pending = await store.commitStatus(runId, {
          to: "pending",
          expect: ["queued"],
          startedAt: 100,
          stamp: { cursor: STRIDE + 1, seq: 1 },
        });
        expect(pending).toMatchObject({ id: runId, status: "pending", startedAt: 100 });
        expect(await store.getRun(runId)).toEqual(pending);
        // The first pass's start wins.
        const running = await store.commitStatus(runId, {
          to: "running",
          expect: ["pending"],
          startedAt: 200,
          stamp: { cursor: STRIDE + 2, seq: 2 },
        });
        expect(running).toMatchObject({ status: "running", startedAt: 100 });
        const failed = await store.commitStatus(runId, {
          to: "failed",
          expect: ["running"],
          output: { healthy: false },
          error: { code: "PROGRAM_ERROR", message: "not healthy", hint: "check it" },
          endedAt: 300,
          stamp: { cursor: 2 * STRIDE + 7, seq: 7 },
        });
        expect(failed).toMatchObject({
          status: "failed",
          output: { healthy: false },
          error: { code: "PROGRAM_ERROR", message: "not healthy", hint: "check it" },
          startedAt: 100,
          endedAt: 300,
        });
        const t = clock.now();
        expect((await store.listEvents(runId)).slice(1)).toEqual([
          { runId, cursor: STRIDE + 1, event: statusEvent(runId, "pending", { seq: 1, t }) },
          { runId, cursor: STRIDE + 2, event: statusEvent(runId, "running", { seq: 2, t }) },
          {
            runId,
            cursor: 2 * STRIDE + 7,
            // The event carries the error's code and message; the hint stays on the row.
            event: {
              ...statusEvent(runId, "failed", { seq: 7, t }),
              error: { code: "PROGRAM_ERROR", message: "not healthy" },
            },
          },
        ]);
      });

      it("returns null and writes no status event when the status is not one of expect", async () => {
        const { store, runId } = await setupRun();
        const seen = listen(store);
        expect(
          await store.commitStatus(runId, {
            to: "running",
            expect: ["pending"],
            stamp: { cursor: STRIDE + 1, seq: 1 },
          }),
        ).toBeNull();
        expect(await store.commitStatus(runId, { to: "running", expect: [] })).toBeNull();
        expect((await store.getRun(runId))?.status).toBe("queued");
        expect(await cursors(store, runId)).toEqual([1]);
        expect(seen).toEqual([]);
      });

      it("without a stamp, stamps the event at seq 1 of a fresh block after the run's highest cursor", async () => {
        const { store, clock, runId } = await setupRun();
        const cancelled = await store.commitStatus(runId, {
          to: "cancelled",
          expect: ["queued"],
          endedAt: clock.now(),
        });
        expect(cancelled).toMatchObject({ status: "cancelled", endedAt: clock.now() });
        expect(await store.listEvents(runId, { afterCursor: 1 })).toEqual([
          {
            runId,
            cursor: STRIDE + 1,
            event: statusEvent(runId, "cancelled", { seq: 1, t: clock.now() }),
          },
        ]);
        const other = await store.createRun({
          workflowId: cancelled!.workflowId,
          triggerKind: "manual",
        });
        await store.appendEvents(other.run.id, [
          { cursor: 2 * STRIDE + 5, event: outputLineEvent(other.run.id, "x", { seq: 5 }) },
        ]);
        await store.commitStatus(other.run.id, { to: "running", expect: ["queued"] });
        expect(await store.maxCursor(other.run.id)).toBe(3 * STRIDE + 1);
      });

      it("commits the pending events first, also when the status does not apply", async () => {
        const { store, runId } = await setupRun();
        const pending: EventAppend[] = [
          { cursor: STRIDE + 1, event: outputLineEvent(runId, "a", { seq: 1 }) },
          { cursor: STRIDE + 2, event: outputLineEvent(runId, "b", { seq: 2 }) },
        ];
        const seen = listen(store);
        expect(
          await store.commitStatus(runId, {
            to: "running",
            expect: ["pending"],
            pending,
            stamp: { cursor: STRIDE + 3, seq: 3 },
          }),
        ).toBeNull();
        expect(await cursors(store, runId)).toEqual([1, STRIDE + 1, STRIDE + 2]);
        expect(seen.map((row) => row.cursor)).toEqual([STRIDE + 1, STRIDE + 2]);
        const applied = await store.commitStatus(runId, {
          to: "pending",
          expect: ["queued"],
          pending: [{ cursor: STRIDE + 3, event: outputLineEvent(runId, "c", { seq: 3 }) }],
          stamp: { cursor: STRIDE + 4, seq: 4 },
        });
        expect(applied?.status).toBe("pending");
        expect(await cursors(store, runId)).toEqual([
          1,
          STRIDE + 1,
          STRIDE + 2,
          STRIDE + 3,
          STRIDE + 4,
        ]);
        expect(seen.map((row) => row.cursor)).toEqual([
          STRIDE + 1,
          STRIDE + 2,
          STRIDE + 3,
          STRIDE + 4,
        ]);
      });

      it("writes nothing when any event of the transition conflicts, and rejects unknown runs and bad changes", async () => {
        const { store, runId } = await setupRun();
        const seen = listen(store);
        expect(
          await codeOf(() =>
            store.commitStatus(runId, {
              to: "pending",
              expect: ["queued"],
              pending: [{ cursor: STRIDE + 1, event: outputLineEvent(runId, "a") }],
              stamp: { cursor: 1, seq: 1 },
            }),
          ),
        ).toBe("CONFLICT");
        expect(
          await codeOf(() =>
            store.commitStatus(runId, {
              to: "pending",
              expect: ["queued"],
              pending: [
                { cursor: STRIDE + 1, event: outputLineEvent(runId, "a") },
                { cursor: 1, event: outputLineEvent(runId, "b") },
              ],
            }),
          ),
        ).toBe("CONFLICT");
        expect(await cursors(store, runId)).toEqual([1]);
        expect((await store.getRun(runId))?.status).toBe("queued");
        expect(seen).toEqual([]);
        expect(await codeOf(() => store.commitStatus("nope", { to: "running", expect: [] }))).toBe(
          "NOT_FOUND",
        );
        expect(
          await codeOf(() => store.commitStatus("nope", { to: "running", expect: ["queued"] })),
        ).toBe("NOT_FOUND");
        expect(
          await codeOf(() =>
            store.commitStatus(runId, { to: "done" as never, expect: ["queued"] }),
          ),
        ).toBe("VALIDATION");
        expect(
          await codeOf(() =>
            store.commitStatus(runId, {
              to: "failed",
              expect: ["queued"],
              error: { code: 1 } as never,
            }),
          ),
        ).toBe("VALIDATION");
        expect(
          await codeOf(() =>
            store.commitStatus(runId, {
              to: "running",
              expect: ["queued"],
              stamp: { cursor: 0, seq: 1 },
            }),
          ),
        ).toBe("VALIDATION");
        expect(
          await codeOf(() =>
            store.commitStatus(runId, {
              to: "running",
              expect: ["queued"],
              pending: [{ cursor: STRIDE + 1, event: statusEvent("other", "running") }],
            }),
          ),
        ).toBe("VALIDATION");
        expect((await store.getRun(runId))?.status).toBe("queued");
        expect(await cursors(store, runId)).toEqual([1]);
      });

      it("writes why a pass started on its status event, and refuses an unknown reason", async () => {
        const { store, clock, runId } = await setupRun();
        expect(
          await codeOf(() =>
            store.commitStatus(runId, {
              to: "pending",
              expect: ["queued"],
              reason: "reboot" as never,
            }),
          ),
        ).toBe("VALIDATION");
        expect(await cursors(store, runId)).toEqual([1]);
        await store.commitStatus(runId, {
          to: "pending",
          expect: ["queued"],
          reason: "engine_restart",
          stamp: { cursor: STRIDE + 1, seq: 1 },
        });
        await store.commitStatus(runId, {
          to: "running",
          expect: ["pending"],
          reason: "engine_restart",
        });
        const t = clock.now();
        expect((await store.listEvents(runId)).slice(1).map((row) => row.event)).toEqual([
          { ...statusEvent(runId, "pending", { seq: 1, t }), reason: "engine_restart" },
          { ...statusEvent(runId, "running", { seq: 1, t }), reason: "engine_restart" },
        ]);
      });

      it("writes an event-only error on the status event and leaves the row's error alone", async () => {
        const { store, clock, runId } = await setupRun();
        await store.commitStatus(runId, { to: "pending", expect: ["queued"] });
        await store.commitStatus(runId, { to: "running", expect: ["pending"] });
        expect(
          await codeOf(() =>
            store.commitStatus(runId, {
              to: "pending",
              expect: ["running"],
              eventError: { code: "PROGRAM_ERROR" } as never,
            }),
          ),
        ).toBe("VALIDATION");
        const row = await store.commitStatus(runId, {
          to: "pending",
          expect: ["running"],
          reason: "retry",
          eventError: { code: "PROGRAM_ERROR", message: "boom", hint: "kept off the event" },
        });
        expect(row).toMatchObject({ status: "pending", error: null });
        const last = (await store.listEvents(runId)).at(-1)?.event;
        expect(last).toMatchObject({
          kind: "run_status",
          status: "pending",
          reason: "retry",
          error: { code: "PROGRAM_ERROR", message: "boom" },
          t: clock.now(),
        });
        expect(last).not.toHaveProperty("error.hint");
      });
    });

    describe("listRuns", () => {
      const seed = async (
        store: AsyncStore,
        clock: ManualClock,
        workflowId: string,
      ): Promise<string[]> => {
        // Two runs per millisecond: same-ms rows must still come back in insertion order.
        const ids: string[] = [];
        for (let index = 0; index < 6; index++) {
          if (index % 2 === 0) clock.advance(1);
          ids.push((await store.createRun({ workflowId, triggerKind: "manual" })).run.id);
        }
        return ids;
      };
      const ids = async (rows: Awaitable<{ id: string }[]>): Promise<string[]> =>
        (await rows).map((row) => row.id);

      it("lists newest first (same-millisecond runs in reverse insertion order) and oldest first", async () => {
        const { store, clock, workflowId } = await setup();
        const seeded = await seed(store, clock, workflowId);
        expect(await ids(store.listRuns())).toEqual([...seeded].reverse());
        expect(await ids(store.listRuns({ order: "oldest" }))).toEqual(seeded);
      });

      it("filters by workflow, statuses and parent; statuses [] matches nothing", async () => {
        const { store, clock, workflowId } = await setup();
        const seeded = await seed(store, clock, workflowId);
        const other = (
          await store.upsertWorkflow({
            slug: "other",
            manifest: testManifest("other"),
            program: "",
          })
        ).id;
        const child = (
          await store.createRun({
            workflowId: other,
            triggerKind: "manual",
            parentRunId: seeded[0]!,
          })
        ).run.id;
        await store.commitStatus(seeded[1]!, { to: "running", expect: ["queued"] });
        await store.commitStatus(seeded[4]!, { to: "completed", expect: ["queued"] });
        expect(await ids(store.listRuns({ workflowId: other }))).toEqual([child]);
        expect(await ids(store.listRuns({ statuses: ["running", "completed"] }))).toEqual([
          seeded[4]!,
          seeded[1]!,
        ]);
        expect(
          await ids(store.listRuns({ workflowId, statuses: ["queued"], order: "oldest" })),
        ).toEqual([seeded[0]!, seeded[2]!, seeded[3]!, seeded[5]!]);
        expect(await ids(store.listRuns({ parentRunId: seeded[0]! }))).toEqual([child]);
        expect(await store.listRuns({ statuses: [] })).toEqual([]);
        expect(await codeOf(() => store.listRuns({ statuses: ["done" as never] }))).toBe(
          "VALIDATION",
        );
      });

      it("filters by creation time: createdSince inclusive, createdBefore exclusive", async () => {
        const { store, clock, workflowId } = await setup();
        const seeded = await seed(store, clock, workflowId);
        const rows = await store.listRuns({ order: "oldest" });
        // Three milliseconds, two runs each.
        const [t1, t2, t3] = [rows[0]!.createdAt, rows[2]!.createdAt, rows[4]!.createdAt];
        expect([t2 - t1, t3 - t2]).toEqual([1, 1]);
        expect(await ids(store.listRuns({ createdSince: t2 }))).toEqual(
          [...seeded.slice(2)].reverse(),
        );
        expect(await ids(store.listRuns({ createdBefore: t2, order: "oldest" }))).toEqual(
          seeded.slice(0, 2),
        );
        expect(
          await ids(store.listRuns({ createdSince: t2, createdBefore: t3, order: "oldest" })),
        ).toEqual(seeded.slice(2, 4));
        expect(await store.listRuns({ createdSince: t3 + 1 })).toEqual([]);
        expect(await store.listRuns({ createdSince: t2, createdBefore: t2 })).toEqual([]);
        // Combined with statuses, the workflow, and both kinds of paging.
        await store.commitStatus(seeded[3]!, { to: "running", expect: ["queued"] });
        await store.commitStatus(seeded[5]!, { to: "running", expect: ["queued"] });
        expect(
          await ids(store.listRuns({ workflowId, statuses: ["running"], createdBefore: t3 })),
        ).toEqual([seeded[3]!]);
        expect(await ids(store.listRuns({ statuses: ["queued"], createdSince: t2 }))).toEqual([
          seeded[4]!,
          seeded[2]!,
        ]);
        expect(await ids(store.listRuns({ createdSince: t2, limit: 2, offset: 1 }))).toEqual([
          seeded[4]!,
          seeded[3]!,
        ]);
        expect(
          await ids(store.listRuns({ createdBefore: t3, beforeRunId: seeded[3]!, limit: 2 })),
        ).toEqual([seeded[2]!, seeded[1]!]);
        for (const bad of [{ createdSince: -1 }, { createdBefore: 1.5 }, { createdSince: "1" }]) {
          expect(await codeOf(() => store.listRuns(bad as never))).toBe("VALIDATION");
        }
      });

      it("pages with limit/offset and with beforeRunId in both orders", async () => {
        const { store, clock, workflowId } = await setup();
        const seeded = await seed(store, clock, workflowId);
        const newest = [...seeded].reverse();
        expect(await ids(store.listRuns({ limit: 2 }))).toEqual(newest.slice(0, 2));
        expect(await ids(store.listRuns({ limit: 2, offset: 2 }))).toEqual(newest.slice(2, 4));
        expect(await ids(store.listRuns({ offset: 5 }))).toEqual(newest.slice(5));
        expect(await store.listRuns({ limit: 0 })).toEqual([]);
        expect(await ids(store.listRuns({ beforeRunId: newest[1]!, limit: 2 }))).toEqual(
          newest.slice(2, 4),
        );
        // The anchor's same-millisecond neighbour is on the right side of the keyset in both orders.
        expect(await ids(store.listRuns({ beforeRunId: newest[0]! }))).toEqual(newest.slice(1));
        expect(await ids(store.listRuns({ beforeRunId: seeded[2]!, order: "oldest" }))).toEqual(
          seeded.slice(3),
        );
        expect(
          await ids(
            store.listRuns({
              workflowId,
              statuses: ["queued"],
              beforeRunId: newest[2]!,
              limit: 10,
            }),
          ),
        ).toEqual(newest.slice(3));
        expect(await codeOf(() => store.listRuns({ beforeRunId: "nope" }))).toBe("NOT_FOUND");
        expect(await codeOf(() => store.listRuns({ beforeRunId: seeded[0]!, offset: 1 }))).toBe(
          "VALIDATION",
        );
        expect(await codeOf(() => store.listRuns({ limit: -1 }))).toBe("VALIDATION");
      });
    });

    describe("events", () => {
      it("appends and lists by cursor, suffix after any cursor, with limit", async () => {
        const { store, clock, runId } = await setupRun();
        const events: { cursor: number; event: RunEvent }[] = [
          { cursor: 1, event: statusEvent(runId, "queued", { t: clock.now() }) },
          { cursor: STRIDE + 1, event: statusEvent(runId, "pending") },
          { cursor: STRIDE + 2, event: outputLineEvent(runId, "hello", { seq: 2 }) },
          { cursor: 2 * STRIDE + 1, event: textDeltaEvent(runId, "turn-1", "hi") },
        ];
        await store.appendEvents(runId, events.slice(1, 2));
        await store.appendEvents(runId, events.slice(2));
        expect(await store.maxCursor(runId)).toBe(2 * STRIDE + 1);
        const all = await store.listEvents(runId);
        expect(all).toEqual(events.map((e) => ({ runId, ...e })));
        for (const [index, row] of all.entries()) {
          expect(await store.listEvents(runId, { afterCursor: row.cursor })).toEqual(
            all.slice(index + 1),
          );
        }
        expect(await store.listEvents(runId, { afterCursor: 0 })).toEqual(all);
        expect(await store.listEvents(runId, { afterCursor: 1, limit: 2 })).toEqual(
          all.slice(1, 3),
        );
        expect(await store.listEvents("unknown-run")).toEqual([]);
        expect(await store.maxCursor("unknown-run")).toBe(0);
      });

      it("filters by channel without renumbering cursors", async () => {
        const { store, runId } = await setupRun();
        await store.appendEvents(runId, [
          { cursor: 2, event: outputLineEvent(runId, "a", { seq: 2 }) },
          { cursor: 3, event: textDeltaEvent(runId, "turn-1", "b", { seq: 3 }) },
          { cursor: 4, event: statusEvent(runId, "running", { seq: 4 }) },
        ]);
        const channelCursors = async (options: Parameters<AsyncStore["listEvents"]>[1]) =>
          (await store.listEvents(runId, options)).map((r) => r.cursor);
        expect(await channelCursors({ channels: ["lifecycle"] })).toEqual([1, 4]);
        expect(await channelCursors({ channels: ["log", "agent"] })).toEqual([2, 3]);
        expect(
          await channelCursors({ channels: ["lifecycle", "log"], afterCursor: 1, limit: 1 }),
        ).toEqual([2]);
        expect(await channelCursors({ channels: [] })).toEqual([]);
        expect(await codeOf(() => store.listEvents(runId, { channels: ["logs" as never] }))).toBe(
          "VALIDATION",
        );
      });

      it("rejects a batch with a duplicate cursor with CONFLICT and writes none of it", async () => {
        const { store, runId } = await setupRun();
        expect(
          await codeOf(() =>
            store.appendEvents(runId, [
              { cursor: 2, event: statusEvent(runId, "pending", { seq: 2 }) },
              { cursor: 2, event: statusEvent(runId, "running", { seq: 2 }) },
            ]),
          ),
        ).toBe("CONFLICT");
        expect(
          await codeOf(() =>
            store.appendEvents(runId, [
              { cursor: 3, event: statusEvent(runId, "pending", { seq: 3 }) },
              { cursor: 1, event: statusEvent(runId, "running") },
            ]),
          ),
        ).toBe("CONFLICT");
        expect(await cursors(store, runId)).toEqual([1]);
      });

      it("rejects bad cursors, bad events and unknown runs; an empty batch is a no-op", async () => {
        const { store, runId } = await setupRun();
        const event = outputLineEvent(runId, "x");
        expect(await codeOf(() => store.appendEvents(runId, [{ cursor: 0, event }]))).toBe(
          "VALIDATION",
        );
        expect(await codeOf(() => store.appendEvents(runId, [{ cursor: 2.5, event }]))).toBe(
          "VALIDATION",
        );
        expect(
          await codeOf(() =>
            store.appendEvents(runId, [{ cursor: 2, event: { ...event, extra: 1 } as never }]),
          ),
        ).toBe("VALIDATION");
        expect(
          await codeOf(() =>
            store.appendEvents(runId, [{ cursor: 2, event: statusEvent("other", "queued") }]),
          ),
        ).toBe("VALIDATION");
        expect(
          await codeOf(() =>
            store.appendEvents(runId, [
              {
                cursor: 2,
                event: { ...outputLineEvent(runId, ""), kind: "output", value: 1n } as never,
              },
            ]),
          ),
        ).toBe("VALIDATION");
        expect(
          await codeOf(() =>
            store.appendEvents("nope", [{ cursor: 1, event: statusEvent("nope", "queued") }]),
          ),
        ).toBe("NOT_FOUND");
        await store.appendEvents(runId, []);
        expect(await cursors(store, runId)).toEqual([1]);
      });
    });

    describe("cron fires", () => {
      it("fires each instant exactly once: run, fire record and queued event together; null on a duplicate", async () => {
        const { store, clock, workflowId } = await setup();
        expect(await store.lastCronFire(workflowId, 0)).toBeNull();
        const first = await store.fireCron({ workflowId, triggerIndex: 0, fireTime: 60_000 });
        expect(first).toMatchObject({
          workflowId,
          status: "queued",
          triggerKind: "cron",
          input: null,
          parentRunId: null,
          createdAt: clock.now(),
        });
        expect(await store.getRun(first!.id)).toEqual(first);
        expect(await store.listEvents(first!.id)).toEqual([
          {
            runId: first!.id,
            cursor: 1,
            event: statusEvent(first!.id, "queued", { t: clock.now() }),
          },
        ]);
        const second = await store.fireCron({
          workflowId,
          triggerIndex: 0,
          fireTime: 120_000,
          input: { at: "noon" },
        });
        expect(second?.input).toEqual({ at: "noon" });
        expect(await store.lastCronFire(workflowId, 0)).toBe(120_000);
        expect(await store.lastCronFire(workflowId, 1)).toBeNull();
        const seen = listen(store);
        expect(await store.fireCron({ workflowId, triggerIndex: 0, fireTime: 60_000 })).toBeNull();
        expect(seen).toEqual([]);
        expect(await store.listRuns({ workflowId })).toHaveLength(2);
        // Another trigger of the same workflow has its own instants.
        expect(await store.fireCron({ workflowId, triggerIndex: 1, fireTime: 60_000 })).not.toBe(
          null,
        );
        expect(await store.lastCronFire(workflowId, 1)).toBe(60_000);
      });

      it("rejects unknown workflows with NOT_FOUND and bad arguments with VALIDATION", async () => {
        const { store, workflowId } = await setup();
        expect(
          await codeOf(() => store.fireCron({ workflowId: "nope", triggerIndex: 0, fireTime: 1 })),
        ).toBe("NOT_FOUND");
        expect(
          await codeOf(() => store.fireCron({ workflowId, triggerIndex: -1, fireTime: 1 })),
        ).toBe("VALIDATION");
        expect(
          await codeOf(() => store.fireCron({ workflowId, triggerIndex: 0, fireTime: 1.5 })),
        ).toBe("VALIDATION");
        expect(
          await codeOf(() =>
            store.fireCron({ workflowId, triggerIndex: 0, fireTime: 1, input: 1n as never }),
          ),
        ).toBe("VALIDATION");
        expect(await store.listRuns()).toEqual([]);
        expect(await store.lastCronFire(workflowId, 0)).toBeNull();
      });
    });

    describe("artifacts", () => {
      it("records artifacts and lists them in creation order", async () => {
        const { store, clock, runId } = await setupRun();
        const first = await store.createArtifact({
          runId,
          name: "report.txt",
          contentType: "text/plain",
          path: "/data/runs/x/artifacts/report.txt",
          size: 8,
        });
        expect(first).toMatchObject({
          runId,
          name: "report.txt",
          size: 8,
          metadata: null,
          createdAt: clock.now(),
        });
        const second = await store.createArtifact({
          runId,
          name: "a.json",
          contentType: "application/json",
          path: "/data/runs/x/artifacts/a.json",
          size: 0,
          metadata: { rows: 3 },
        });
        expect(await store.listArtifacts(runId)).toEqual([first, second]);
        expect(await store.listArtifacts("nope")).toEqual([]);
      });

      it("rejects bad sizes, names and paths with VALIDATION and unknown runs with NOT_FOUND", async () => {
        const { store, runId } = await setupRun();
        const base = {
          runId,
          name: "a.txt",
          contentType: "text/plain",
          path: "/tmp/a.txt",
          size: 1,
        };
        const code = (args: typeof base) => codeOf(() => store.createArtifact(args));
        expect(await code({ ...base, size: -1 })).toBe("VALIDATION");
        expect(await code({ ...base, size: 1.5 })).toBe("VALIDATION");
        expect(await code({ ...base, name: "../x" })).toBe("VALIDATION");
        expect(await code({ ...base, path: "relative/a.txt" })).toBe("VALIDATION");
        expect(await code({ ...base, metadata: [] as never } as typeof base)).toBe("VALIDATION");
        expect(await code({ ...base, runId: "nope" })).toBe("NOT_FOUND");
        expect(await store.listArtifacts(runId)).toEqual([]);
      });
    });

    describe("subscribe", () => {
      it("publishes every committed event with the run's workflow id and slug, per run in cursor order", async () => {
        const { store, clock, workflowId } = await setup();
        const seen = listen(store);
        const { run } = await store.createRun({ workflowId, triggerKind: "manual" });
        const route = { workflowId, workflowSlug: "echo" };
        expect(seen).toEqual([
          {
            runId: run.id,
            cursor: 1,
            event: statusEvent(run.id, "queued", { t: clock.now() }),
            ...route,
          },
        ]);
        // A batch listed out of order is still published in cursor order.
        await store.appendEvents(run.id, [
          { cursor: STRIDE + 2, event: outputLineEvent(run.id, "b", { seq: 2 }) },
          { cursor: STRIDE + 1, event: outputLineEvent(run.id, "a", { seq: 1 }) },
        ]);
        await store.appendEvents(run.id, [
          { cursor: STRIDE + 3, event: outputLineEvent(run.id, "c", { seq: 3 }) },
        ]);
        await store.commitStatus(run.id, {
          to: "pending",
          expect: ["queued"],
          pending: [{ cursor: STRIDE + 4, event: outputLineEvent(run.id, "d", { seq: 4 }) }],
          stamp: { cursor: STRIDE + 5, seq: 5 },
        });
        const fired = await store.fireCron({ workflowId, triggerIndex: 0, fireTime: 60_000 });
        expect(seen.map((row) => [row.runId, row.cursor])).toEqual([
          [run.id, 1],
          [run.id, STRIDE + 1],
          [run.id, STRIDE + 2],
          [run.id, STRIDE + 3],
          [run.id, STRIDE + 4],
          [run.id, STRIDE + 5],
          [fired!.id, 1],
        ]);
        for (const row of seen) expect(row).toMatchObject(route);
        // What was published is exactly what was committed.
        const stored = await store.listEvents(run.id);
        expect(
          seen
            .filter((row) => row.runId === run.id)
            .map(({ runId, cursor, event }) => ({ runId, cursor, event })),
        ).toEqual(stored);
      });

      it("publishes nothing for a write that fails, and nothing to an unsubscribed listener", async () => {
        const { store, workflowId, runId } = await setupRun();
        const seen = listen(store);
        const late: PublishedEvent[] = [];
        const unsubscribe = store.subscribe((row) => late.push(row));
        expect(
          await codeOf(() =>
            store.appendEvents(runId, [
              { cursor: STRIDE + 1, event: outputLineEvent(runId, "a") },
              { cursor: 1, event: outputLineEvent(runId, "b") },
            ]),
          ),
        ).toBe("CONFLICT");
        expect(
          await codeOf(() =>
            store.commitStatus(runId, {
              to: "running",
              expect: ["queued"],
              pending: [{ cursor: STRIDE + 1, event: outputLineEvent(runId, "a") }],
              stamp: { cursor: 1, seq: 1 },
            }),
          ),
        ).toBe("CONFLICT");
        expect(
          await codeOf(() =>
            store.createRun({ workflowId, triggerKind: "manual", input: 1n as never }),
          ),
        ).toBe("VALIDATION");
        expect(seen).toEqual([]);
        unsubscribe();
        unsubscribe();
        await store.appendEvents(runId, [
          { cursor: STRIDE + 1, event: outputLineEvent(runId, "a") },
        ]);
        expect(seen.map((row) => row.cursor)).toEqual([STRIDE + 1]);
        expect(late).toEqual([]);
      });

      it("keeps writing and publishing to the other listeners when one listener throws", async () => {
        const { store, runId } = await setupRun();
        store.subscribe(() => {
          throw new Error("listener failure");
        });
        const seen = listen(store);
        await store.appendEvents(runId, [
          { cursor: STRIDE + 1, event: outputLineEvent(runId, "a") },
        ]);
        const row = await store.commitStatus(runId, { to: "running", expect: ["queued"] });
        expect(row?.status).toBe("running");
        expect(seen.map((r) => r.cursor)).toEqual([STRIDE + 1, 2 * STRIDE + 1]);
        expect(await cursors(store, runId)).toEqual([1, STRIDE + 1, 2 * STRIDE + 1]);
      });
    });

    describe("ping and close", () => {
      it("pings an open store", async () => {
        const { store } = await setup();
        expect(await store.ping()).toBeUndefined();
      });

      it("is idempotent and makes every later call fail INTERNAL mentioning closed", async () => {
        const { store, workflowId } = await setup();
        await store.close();
        await store.close();
        const error = await errorOf(() => store.getWorkflowById(workflowId));
        expect(error.code).toBe("INTERNAL");
        expect(error.message).toMatch(/closed/);
        expect(await codeOf(() => store.listRuns())).toBe("INTERNAL");
        expect(await codeOf(() => store.ping())).toBe("INTERNAL");
        expect(await codeOf(() => store.createRun({ workflowId, triggerKind: "manual" }))).toBe(
          "INTERNAL",
        );
        open = open.filter((s) => s !== store);
      });
    });
  });
}
