/**
 * The request-key part of the store contract suite (registered by `describeStoreContract`): a
 * client's retry key (an HTTP `Idempotency-Key`) on a run-creating request. What would break
 * without these rules: a client retrying a request whose answer it lost starting a second run, a
 * key reused for a different request silently answered with the wrong run, one workflow's keys
 * colliding with another's, or keys held forever.
 */
import { describe, expect, it } from "vitest";
import type { AsyncStore, PublishedEvent } from "../types.ts";
import type { ManualClock } from "@promenade/workflow/testing";
import { testManifest } from "./fixtures.ts";

/** What the request-key tests need from the suite's setup. */
export interface RequestKeySetup {
  setup: () => Promise<{ store: AsyncStore; clock: ManualClock; workflowId: string }>;
  listen: (store: AsyncStore) => PublishedEvent[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

async function errorOf(
  fn: () => unknown,
): Promise<{ code?: string; message: string; hint?: string }> {
  try {
    await fn();
  } catch (error) {
    return error as { code?: string; message: string; hint?: string };
  }
  throw new Error("expected a throw");
}

/** Registers the request-key contract tests. */
export function describeRequestKeyContract({ setup, listen }: RequestKeySetup): void {
  describe("request keys (Idempotency-Key)", () => {
    it("binds a key to the run it created; the same key and fingerprint find that run, writing nothing", async () => {
      const { store, workflowId } = await setup();
      const seen = listen(store);
      const args = {
        workflowId,
        triggerKind: "manual" as const,
        input: { n: 1 },
        requestKey: { key: "retry-1", fingerprint: "sha-a" },
      };
      const first = await store.createRun(args);
      expect(first.created).toBe(true);
      expect(first.run).toMatchObject({ status: "queued", input: { n: 1 }, parentRunId: null });
      const again = await store.createRun(args);
      expect(again).toEqual({ run: first.run, created: false });
      expect((await store.listRuns()).map((run) => run.id)).toEqual([first.run.id]);
      expect((await store.listEvents(first.run.id)).length).toBe(1);
      // Only the created run's queued event was published.
      expect(seen.map((row) => row.runId)).toEqual([first.run.id]);
    });

    it("answers a found run as it is now", async () => {
      const { store, workflowId } = await setup();
      const args = {
        workflowId,
        triggerKind: "webhook" as const,
        requestKey: { key: "k", fingerprint: "f" },
      };
      const { run } = await store.createRun(args);
      await store.commitStatus(run.id, { to: "pending", expect: ["queued"] });
      const again = await store.createRun(args);
      expect(again.created).toBe(false);
      expect(again.run.status).toBe("pending");
    });

    it("refuses the same key with another fingerprint with CONFLICT naming the run", async () => {
      const { store, workflowId } = await setup();
      const { run } = await store.createRun({
        workflowId,
        triggerKind: "manual",
        requestKey: { key: "retry-1", fingerprint: "sha-a" },
      });
      const error = await errorOf(() =>
        store.createRun({
          workflowId,
          triggerKind: "manual",
          input: { other: true },
          requestKey: { key: "retry-1", fingerprint: "sha-b" },
        }),
      );
      expect(error.code).toBe("CONFLICT");
      expect(error.message).toBe(
        `Idempotency key "retry-1" was already used for a different request to this workflow (run ${run.id}).`,
      );
      expect(error.hint).toMatch(/same request/);
      expect((await store.listRuns()).length).toBe(1);
    });

    it("scopes keys per workflow and keeps them apart from workflows.call keys", async () => {
      const { store, workflowId } = await setup();
      const other = await store.upsertWorkflow({
        slug: "other",
        manifest: testManifest("other"),
        program: "export {}",
      });
      const requestKey = { key: "shared", fingerprint: "f" };
      const a = await store.createRun({ workflowId, triggerKind: "manual", requestKey });
      const b = await store.createRun({ workflowId: other.id, triggerKind: "manual", requestKey });
      expect(b.created).toBe(true);
      expect(b.run.id).not.toBe(a.run.id);
      const child = await store.createRun({
        workflowId,
        triggerKind: "manual",
        parentRunId: a.run.id,
        idempotencyKey: "shared",
      });
      expect(child.created).toBe(true);
      expect(a.run.idempotencyKey).toBeNull();
    });

    it("honours a key for 24 hours after its run, then binds it to a new run", async () => {
      const { store, clock, workflowId } = await setup();
      const requestKey = { key: "daily", fingerprint: "f1" };
      const first = await store.createRun({ workflowId, triggerKind: "manual", requestKey });
      clock.advance(DAY_MS - 1);
      expect(await store.createRun({ workflowId, triggerKind: "manual", requestKey })).toEqual({
        run: first.run,
        created: false,
      });
      clock.advance(1);
      const later = await store.createRun({
        workflowId,
        triggerKind: "manual",
        requestKey: { key: "daily", fingerprint: "f2" },
      });
      expect(later.created).toBe(true);
      expect(later.run.id).not.toBe(first.run.id);
      // Now bound to the new run and its request.
      const again = await store.createRun({
        workflowId,
        triggerKind: "manual",
        requestKey: { key: "daily", fingerprint: "f2" },
      });
      expect(again).toEqual({ run: later.run, created: false });
      expect(
        (await errorOf(() => store.createRun({ workflowId, triggerKind: "manual", requestKey })))
          .code,
      ).toBe("CONFLICT");
    });

    it("creates one run for concurrent requests with the same key", async () => {
      const { store, workflowId } = await setup();
      const requestKey = { key: "burst", fingerprint: "f" };
      const results = await Promise.all(
        Array.from({ length: 5 }, async () =>
          store.createRun({ workflowId, triggerKind: "manual", requestKey }),
        ),
      );
      expect(results.filter((result) => result.created).length).toBe(1);
      expect(new Set(results.map((result) => result.run.id)).size).toBe(1);
      expect((await store.listRuns()).length).toBe(1);
    });

    it("checks the key before writing anything", async () => {
      const { store, workflowId } = await setup();
      const { run: parent } = await store.createRun({ workflowId, triggerKind: "manual" });
      const bad: unknown[] = [
        { key: "", fingerprint: "f" },
        { key: "k", fingerprint: "" },
        { key: "k".repeat(1025), fingerprint: "f" },
        { key: 1, fingerprint: "f" },
        "k",
      ];
      for (const requestKey of bad) {
        const error = await errorOf(() =>
          store.createRun({
            workflowId,
            triggerKind: "manual",
            requestKey: requestKey as { key: string; fingerprint: string },
          }),
        );
        expect(error.code).toBe("VALIDATION");
        expect(error.message).toMatch(/requestKey/);
      }
      for (const extra of [{ parentRunId: parent.id }, { idempotencyKey: "child-key" }]) {
        const error = await errorOf(() =>
          store.createRun({
            workflowId,
            triggerKind: "manual",
            requestKey: { key: "k", fingerprint: "f" },
            ...extra,
          }),
        );
        expect(error.code).toBe("VALIDATION");
      }
      const unknown = await errorOf(() =>
        store.createRun({
          workflowId: "01NOSUCHWORKFLOW0000000000",
          triggerKind: "manual",
          requestKey: { key: "k", fingerprint: "f" },
        }),
      );
      expect(unknown.code).toBe("NOT_FOUND");
      expect((await store.listRuns()).map((run) => run.id)).toEqual([parent.id]);
    });
  });
}
