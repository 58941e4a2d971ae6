/**
 * Safe retries with `Idempotency-Key` over real HTTP. What would break: a client retrying a
 * `POST …/runs` (or a webhook sender retrying a delivery) whose answer it lost starting a second
 * run, a key reused for a different request silently answered with the wrong run, or keys of
 * two workflows colliding. After every case the server still answers /healthz and only the runs
 * the case legitimately created exist.
 */
import { afterEach, describe, expect, it } from "vitest";
import { http, startHarness } from "./helpers.ts";
import type { Harness, RawResponse } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function harness(): Promise<Harness> {
  h = await startHarness({ env: () => ({ PROMENADE_WEBHOOK_TOKEN__HOOKED: "hook-token-123" }) });
  h.engine.addWorkflow({ slug: "echo", triggers: [{ kind: "manual" }] });
  h.engine.addWorkflow({ slug: "other", triggers: [{ kind: "manual" }] });
  h.engine.addWorkflow({ slug: "hooked", triggers: [{ kind: "webhook", auth: "token" }] });
  return h;
}

function start(slug: string, body: string, key?: string): Promise<RawResponse> {
  return http(h, "POST", `/api/workflows/${slug}/runs`, {
    body,
    headers: {
      "content-type": "application/json",
      ...(key === undefined ? {} : { "idempotency-key": key }),
    },
  });
}

function hook(body: string, key?: string): Promise<RawResponse> {
  return http(h, "POST", "/hooks/hooked/0", {
    body,
    headers: {
      "content-type": "application/json",
      authorization: "Bearer hook-token-123",
      ...(key === undefined ? {} : { "idempotency-key": key }),
    },
  });
}

async function healthyWithRuns(runs: number): Promise<void> {
  expect((await http(h, "GET", "/healthz")).status).toBe(200);
  expect(h.engine.peekRuns().length).toBe(runs);
}

describe("Idempotency-Key on POST /api/workflows/:slug/runs", () => {
  it("answers a retry with the same key and body with the first run (200, same id)", async () => {
    await harness();
    const first = await start("echo", '{"input":{"n":1}}', "key-1");
    expect(first.status).toBe(201);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    const retry = await start("echo", '{"input":{"n":1}}', "key-1");
    expect(retry.status).toBe(200);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect(retry.headers.location).toBe(`/api/runs/${String(first.json.run.id)}`);
    expect(retry.json.run.id).toBe(first.json.run.id);
    expect(retry.json.run.input).toEqual({ n: 1 });
    await healthyWithRuns(1);
  });

  it("refuses the same key with a different body with 409 naming the run", async () => {
    await harness();
    const first = await start("echo", '{"input":{"n":1}}', "key-1");
    const other = await start("echo", '{"input":{"n":2}}', "key-1");
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe("CONFLICT");
    expect(other.json.error.message).toBe(
      `Idempotency key "key-1" was already used for a different request to this workflow (run ${String(first.json.run.id)}).`,
    );
    await healthyWithRuns(1);
  });

  it("scopes keys per workflow, and starts a new run for each request without a key", async () => {
    await harness();
    const a = await start("echo", "{}", "shared");
    const b = await start("other", "{}", "shared");
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.json.run.id).not.toBe(a.json.run.id);
    expect((await start("echo", "{}")).status).toBe(201);
    expect((await start("echo", "{}")).status).toBe(201);
    await healthyWithRuns(4);
  });

  it.each([
    ["empty", ""],
    ["too long", "k".repeat(256)],
    ["not ASCII", "clé-1"],
  ])("refuses an invalid key (%s) with 400 before starting anything", async (_, key) => {
    await harness();
    const res = await http(h, "POST", "/api/workflows/echo/runs", {
      body: "{}",
      headers: { "content-type": "application/json", "idempotency-key": key },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION");
    expect(res.json.error.message).toMatch(/^Idempotency-Key must be 1 to 255 printable ASCII/);
    await healthyWithRuns(0);
  });
});

describe("Idempotency-Key on webhooks", () => {
  it("answers a retried delivery with its first run (200), a different body with 409", async () => {
    await harness();
    const first = await hook('{"event":"push"}', "delivery-1");
    expect(first.status).toBe(202);
    const retry = await hook('{"event":"push"}', "delivery-1");
    expect(retry.status).toBe(200);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect(retry.json.run.id).toBe(first.json.run.id);
    const other = await hook('{"event":"tag"}', "delivery-1");
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe("CONFLICT");
    await healthyWithRuns(1);
  });

  it("tells a webhook delivery from a run-API request with the same key and bytes", async () => {
    await harness();
    h.engine.addWorkflow({
      slug: "hooked",
      triggers: [{ kind: "manual" }, { kind: "webhook", auth: "token" }],
    });
    const viaApi = await start("hooked", "{}", "same");
    expect(viaApi.status).toBe(201);
    const viaHook = await http(h, "POST", "/hooks/hooked/1", {
      body: "{}",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer hook-token-123",
        "idempotency-key": "same",
      },
    });
    expect(viaHook.status).toBe(409);
    await healthyWithRuns(1);
  });
});
