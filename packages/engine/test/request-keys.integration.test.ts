/**
 * A client's retry key (`requestKey`, a server's `Idempotency-Key`) and a webhook delivery
 * through the engine, on a real SQLite file: `createRunOnce` tells a created run from one an
 * earlier request created, the found run is the same one (started once), a different request
 * with the key is `CONFLICT`, a delivery already received is `CONFLICT` also for an engine
 * reopened on the same data dir, and bad keys are `VALIDATION` before anything is written. What
 * would break: a server unable to answer a client's retry with the first run, a retry starting
 * a second one, or a restart forgetting the deliveries it accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../src/index.ts";
import { makeEngine, manualMeta, program, tempDir } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let engine: Engine;

beforeAll(() => {
  dir = tempDir();
  ({ engine } = makeEngine(dir.path));
  engine.deployWorkflow({ program: program(manualMeta("echo"), "output(input);") });
});

afterAll(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

async function errorOf(fn: () => Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a rejection");
}

describe("createRunOnce with a request key or a webhook delivery", () => {
  it("creates the run once and answers a retry with it, as it is now", async () => {
    const requestKey = { key: "order-1", fingerprint: "body-hash-1" };
    const first = await engine.createRunOnce("echo", { input: { n: 1 }, requestKey });
    expect(first.created).toBe(true);
    const done = await engine.waitForRun(first.run.id);
    expect(done.output).toEqual({ n: 1 });
    const retry = await engine.createRunOnce("echo", { input: { n: 1 }, requestKey });
    expect(retry).toEqual({ run: done, created: false });
    // createRun with the same key answers the same run.
    expect((await engine.createRun("echo", { input: { n: 1 }, requestKey })).id).toBe(done.id);
    expect(engine.store.listRuns({ workflowId: done.workflowId }).length).toBe(1);
  });

  it("refuses the key for a different request with CONFLICT", async () => {
    const requestKey = { key: "order-2", fingerprint: "body-hash-a" };
    const { run } = await engine.createRunOnce("echo", { input: { n: 2 }, requestKey });
    const error = await errorOf(() =>
      engine.createRunOnce("echo", {
        input: { n: 3 },
        requestKey: { key: "order-2", fingerprint: "body-hash-b" },
      }),
    );
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain(run.id);
    await engine.waitForRun(run.id);
  });

  it("refuses a delivery already received, also from an engine reopened on the data dir", async () => {
    const delivery = {
      hookIndex: 0,
      keys: ["signature-hash", "delivery-id-hash"],
      deliveryId: "d-1",
      expiresAt: Date.now() + 300_000,
    };
    const first = await engine.createRunOnce("echo", { input: { n: 4 }, delivery });
    expect(first.created).toBe(true);
    await engine.waitForRun(first.run.id);
    const message = `Webhook delivery "d-1" was already received at ${new Date(first.run.createdAt).toISOString()} (run ${first.run.id}).`;
    expect(await errorOf(() => engine.createRunOnce("echo", { delivery }))).toMatchObject({
      code: "CONFLICT",
      message,
    });
    await engine.closeGracefully({ childGraceMs: 500 });
    ({ engine } = makeEngine(dir.path));
    expect(await errorOf(() => engine.createRunOnce("echo", { delivery }))).toMatchObject({
      code: "CONFLICT",
      message,
    });
    expect(
      (await errorOf(() => engine.createRunOnce("echo", { delivery, idempotencyKey: "k" }))).code,
    ).toBe("VALIDATION");
  });

  it("checks the key before writing anything", async () => {
    const before = engine.store.listRuns().length;
    for (const options of [
      { requestKey: { key: "", fingerprint: "f" } },
      { requestKey: { key: "k", fingerprint: "" } },
      { requestKey: { key: "k", fingerprint: "f" }, idempotencyKey: "k" },
    ]) {
      expect((await errorOf(() => engine.createRunOnce("echo", options))).code).toBe("VALIDATION");
    }
    expect(engine.store.listRuns().length).toBe(before);
  });
});
