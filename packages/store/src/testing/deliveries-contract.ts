/**
 * The webhook-delivery part of the store contract suite (registered by `describeStoreContract`):
 * a verified webhook delivery remembered durably with the run it started. What would break
 * without these rules: a captured delivery replayed to start another run (also after a
 * restart), one webhook's deliveries refusing another's, a delivery whose run was never created
 * refused forever, or keys held past their expiry.
 */
import { describe, expect, it } from "vitest";
import type { AsyncStore, PublishedEvent, WebhookDelivery } from "../types.ts";
import type { ManualClock } from "@promenade/workflow/testing";
import { testManifest } from "./fixtures.ts";

/** What the delivery tests need from the suite's setup. */
export interface DeliverySetup {
  setup: () => Promise<{ store: AsyncStore; clock: ManualClock; workflowId: string }>;
  listen: (store: AsyncStore) => PublishedEvent[];
}

const WINDOW_MS = 301_000;
const HINT =
  "Each delivery is accepted once. A new event needs a new delivery id and a fresh timestamp.";

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

function delivery(
  clock: ManualClock,
  keys: string[],
  deliveryId: string | null,
  hookIndex = 0,
): WebhookDelivery {
  return { hookIndex, keys, deliveryId, expiresAt: clock.now() + WINDOW_MS };
}

/** Registers the webhook-delivery contract tests. */
export function describeDeliveryContract({ setup, listen }: DeliverySetup): void {
  describe("webhook deliveries", () => {
    it("remembers a delivery with its run; any of its keys again is CONFLICT naming the delivery, when and its run", async () => {
      const { store, clock, workflowId } = await setup();
      const seen = listen(store);
      const receivedAt = new Date(clock.now()).toISOString();
      const first = await store.createRun({
        workflowId,
        triggerKind: "webhook",
        input: { event: "push" },
        delivery: delivery(clock, ["sig-a", "id-1"], "d-1"),
      });
      expect(first.created).toBe(true);
      clock.advance(1000);
      // The same delivery id under a fresh signature, then the same signature without an id.
      for (const repeat of [
        delivery(clock, ["sig-b", "id-1"], "d-1"),
        delivery(clock, ["sig-a"], null),
      ]) {
        const error = await errorOf(() =>
          store.createRun({ workflowId, triggerKind: "webhook", delivery: repeat }),
        );
        expect(error).toMatchObject({
          code: "CONFLICT",
          message: `Webhook delivery "d-1" was already received at ${receivedAt} (run ${first.run.id}).`,
          hint: HINT,
        });
      }
      expect((await store.listRuns()).map((run) => run.id)).toEqual([first.run.id]);
      expect(seen.map((row) => row.runId)).toEqual([first.run.id]);
    });

    it("names a delivery without an id by when it came and its run", async () => {
      const { store, clock, workflowId } = await setup();
      const first = await store.createRun({
        workflowId,
        triggerKind: "webhook",
        delivery: delivery(clock, ["sig-a"], null),
      });
      const error = await errorOf(() =>
        store.createRun({
          workflowId,
          triggerKind: "webhook",
          delivery: delivery(clock, ["sig-a"], null),
        }),
      );
      expect(error.message).toBe(
        `This webhook delivery was already received at ${new Date(clock.now()).toISOString()} (run ${first.run.id}).`,
      );
    });

    it("scopes keys per workflow and per webhook", async () => {
      const { store, clock, workflowId } = await setup();
      const other = await store.upsertWorkflow({
        slug: "other",
        manifest: testManifest("other"),
        program: "export {}",
      });
      const keys = ["sig-a", "id-1"];
      for (const [id, hookIndex] of [
        [workflowId, 0],
        [workflowId, 1],
        [other.id, 0],
      ] as const) {
        const result = await store.createRun({
          workflowId: id,
          triggerKind: "webhook",
          delivery: delivery(clock, keys, "d-1", hookIndex),
        });
        expect(result.created).toBe(true);
      }
      expect((await store.listRuns()).length).toBe(3);
    });

    it("forgets the keys at their expiry, then remembers the new delivery", async () => {
      const { store, clock, workflowId } = await setup();
      const first = await store.createRun({
        workflowId,
        triggerKind: "webhook",
        delivery: delivery(clock, ["sig-a"], "d-1"),
      });
      clock.advance(WINDOW_MS - 1);
      expect(
        (
          await errorOf(() =>
            store.createRun({
              workflowId,
              triggerKind: "webhook",
              delivery: delivery(clock, ["sig-a"], "d-1"),
            }),
          )
        ).code,
      ).toBe("CONFLICT");
      clock.advance(1);
      const later = await store.createRun({
        workflowId,
        triggerKind: "webhook",
        delivery: delivery(clock, ["sig-a"], "d-2"),
      });
      expect(later.created).toBe(true);
      const error = await errorOf(() =>
        store.createRun({
          workflowId,
          triggerKind: "webhook",
          delivery: delivery(clock, ["sig-a"], null),
        }),
      );
      expect(error.message).toContain(`Webhook delivery "d-2"`);
      expect(error.message).toContain(`(run ${later.run.id})`);
      expect(later.run.id).not.toBe(first.run.id);
    });

    it("refuses a repeated delivery before its request key could answer the first run", async () => {
      const { store, clock, workflowId } = await setup();
      const requestKey = { key: "retry-1", fingerprint: "body-a" };
      const first = await store.createRun({
        workflowId,
        triggerKind: "webhook",
        requestKey,
        delivery: delivery(clock, ["sig-a", "id-1"], "d-1"),
      });
      expect(first.created).toBe(true);
      const repeat = await errorOf(() =>
        store.createRun({
          workflowId,
          triggerKind: "webhook",
          requestKey,
          delivery: delivery(clock, ["sig-a", "id-1"], "d-1"),
        }),
      );
      expect(repeat.code).toBe("CONFLICT");
      expect(repeat.message).toMatch(/^Webhook delivery "d-1" was already received/);
      // A new delivery of the same request (same key and fingerprint) gets the first run.
      const resent = await store.createRun({
        workflowId,
        triggerKind: "webhook",
        requestKey,
        delivery: delivery(clock, ["sig-b", "id-2"], "d-2"),
      });
      expect(resent).toEqual({ run: first.run, created: false });
      expect((await store.listRuns()).length).toBe(1);
    });

    it("does not remember a delivery whose run was not created", async () => {
      const { store, clock, workflowId } = await setup();
      const bound = await store.createRun({
        workflowId,
        triggerKind: "manual",
        requestKey: { key: "taken", fingerprint: "body-a" },
      });
      const keys = ["sig-a", "id-1"];
      const refused = await errorOf(() =>
        store.createRun({
          workflowId,
          triggerKind: "webhook",
          requestKey: { key: "taken", fingerprint: "body-b" },
          delivery: delivery(clock, keys, "d-1"),
        }),
      );
      expect(refused.message).toMatch(/^Idempotency key "taken"/);
      const retried = await store.createRun({
        workflowId,
        triggerKind: "webhook",
        delivery: delivery(clock, keys, "d-1"),
      });
      expect(retried.created).toBe(true);
      expect((await store.listRuns()).map((run) => run.id).sort()).toEqual(
        [bound.run.id, retried.run.id].sort(),
      );
    });

    it("creates one run for concurrent deliveries sharing a key", async () => {
      const { store, clock, workflowId } = await setup();
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, async (_, i) =>
          store.createRun({
            workflowId,
            triggerKind: "webhook",
            delivery: delivery(clock, [`sig-${String(i)}`, "id-shared"], "d-shared"),
          }),
        ),
      );
      const created = results.filter((result) => result.status === "fulfilled");
      expect(created.length).toBe(1);
      for (const result of results) {
        if (result.status === "rejected") {
          expect((result.reason as { code?: string }).code).toBe("CONFLICT");
        }
      }
      expect((await store.listRuns()).length).toBe(1);
    });

    it("checks the delivery before writing anything", async () => {
      const { store, clock, workflowId } = await setup();
      const { run: parent } = await store.createRun({ workflowId, triggerKind: "manual" });
      const good = delivery(clock, ["k"], "d-1");
      const bad: unknown[] = [
        "d-1",
        { ...good, keys: [] },
        { ...good, keys: ["k", ""] },
        { ...good, keys: ["k".repeat(1025)] },
        { ...good, keys: Array.from({ length: 9 }, (_, i) => `k${String(i)}`) },
        { ...good, hookIndex: -1 },
        { ...good, expiresAt: "soon" },
        { ...good, deliveryId: "" },
      ];
      for (const value of bad) {
        const error = await errorOf(() =>
          store.createRun({
            workflowId,
            triggerKind: "webhook",
            delivery: value as WebhookDelivery,
          }),
        );
        expect(error.code).toBe("VALIDATION");
        expect(error.message).toMatch(/delivery/);
      }
      for (const extra of [{ parentRunId: parent.id }, { idempotencyKey: "child-key" }]) {
        const error = await errorOf(() =>
          store.createRun({ workflowId, triggerKind: "webhook", delivery: good, ...extra }),
        );
        expect(error.code).toBe("VALIDATION");
      }
      const unknown = await errorOf(() =>
        store.createRun({
          workflowId: "01NOSUCHWORKFLOW0000000000",
          triggerKind: "webhook",
          delivery: good,
        }),
      );
      expect(unknown.code).toBe("NOT_FOUND");
      expect((await store.listRuns()).map((run) => run.id)).toEqual([parent.id]);
    });
  });
}
