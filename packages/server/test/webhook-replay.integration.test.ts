/**
 * Replay-proof webhooks over real HTTP. What would break: a captured signed delivery replayed to
 * start run after run, a stale capture accepted long after it was sent, strict mode accepting a
 * body-only signature, or Boardwalk-compatible senders (no timestamp) refused on webhooks that
 * never opted in. After every case the server still answers /healthz and only accepted
 * deliveries created runs.
 */
import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createPromenadeServer } from "../src/index.ts";
import type { EngineApi } from "../src/index.ts";
import { http, startHarness } from "./helpers.ts";
import type { Harness, RawResponse } from "./helpers.ts";

const SECRET = "replay-test-secret-0123456789";
const ENV = {
  PROMENADE_WEBHOOK_SECRET__STRICT_HOOK: SECRET,
  PROMENADE_WEBHOOK_SECRET__PLAIN_HOOK: SECRET,
};
let h: Harness;
afterEach(async () => {
  await h.close();
});

async function harness(): Promise<Harness> {
  h = await startHarness({ env: () => ENV });
  h.engine.addWorkflow(
    { slug: "strict-hook", triggers: [{ kind: "webhook", auth: "signature" }] },
    { webhooks: { strict: true, toleranceSeconds: 300 } },
  );
  h.engine.addWorkflow({ slug: "plain-hook", triggers: [{ kind: "webhook", auth: "signature" }] });
  return h;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A signed delivery as a sender builds it: HMAC over `<timestamp>.<body>`, or the body alone. */
function delivery(
  body: string,
  options: { timestamp?: number; id?: string; idHeader?: string } = {},
): { body: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const signed = options.timestamp === undefined ? body : `${String(options.timestamp)}.${body}`;
  headers["x-promenade-signature"] =
    `sha256=${createHmac("sha256", SECRET).update(signed).digest("hex")}`;
  if (options.timestamp !== undefined) {
    headers["x-promenade-timestamp"] = String(options.timestamp);
  }
  if (options.id !== undefined) headers[options.idHeader ?? "x-promenade-delivery"] = options.id;
  return { body, headers };
}

function send(
  slug: string,
  request: { body: string; headers: Record<string, string> },
): Promise<RawResponse> {
  return http(h, "POST", `/hooks/${slug}/0`, request);
}

async function healthyWithRuns(runs: number): Promise<void> {
  expect((await http(h, "GET", "/healthz")).status).toBe(200);
  expect(h.engine.peekRuns()).toHaveLength(runs);
}

describe("strict webhooks", () => {
  it("accept a timestamped delivery once; a replay inside the window gets 409", async () => {
    await harness();
    const captured = delivery('{"event":"push"}', { timestamp: nowSeconds(), id: "d-1" });
    const first = await send("strict-hook", captured);
    expect(first.status).toBe(202);
    await healthyWithRuns(1);

    const replayed = await send("strict-hook", captured);
    expect(replayed.status).toBe(409);
    expect(replayed.json.error).toEqual({
      code: "CONFLICT",
      message: "This webhook delivery was already received.",
      hint: "Each delivery is accepted once. A new event needs a new delivery id and a fresh timestamp.",
    });
    await healthyWithRuns(1);

    // Re-signed with a fresh timestamp but the same delivery id: the same delivery.
    const resent = delivery('{"event":"push"}', {
      timestamp: nowSeconds() + 1,
      id: "d-1",
      idHeader: "x-github-delivery",
    });
    expect((await send("strict-hook", resent)).status).toBe(409);
    await healthyWithRuns(1);

    // A new event (a different body, as a new event always has) under a new delivery id.
    const next = delivery('{"event":"push","n":2}', { timestamp: nowSeconds(), id: "d-2" });
    expect((await send("strict-hook", next)).status).toBe(202);
    await healthyWithRuns(2);
    expect((await http(h, "GET", "/metrics")).text).toMatch(
      /promenade_webhook_requests_total\{outcome="replayed"\} 2/,
    );
  });

  it("refuse a captured delivery replayed outside the window with 401", async () => {
    await harness();
    const stale = delivery('{"event":"push"}', { timestamp: nowSeconds() - 301 });
    const refused = await send("strict-hook", stale);
    expect(refused.status).toBe(401);
    expect(refused.json.error).toEqual({
      code: "UNAUTHORIZED",
      message: "Webhook timestamp is outside the 300-second tolerance window.",
      hint: "Sign each delivery with the current time in x-promenade-timestamp (Unix seconds) and keep the sender's clock in sync.",
    });
    const future = delivery('{"event":"push"}', { timestamp: nowSeconds() + 301 });
    expect((await send("strict-hook", future)).status).toBe(401);
    await healthyWithRuns(0);
  });

  it("refuse a body-only signature and a signature that does not cover the timestamp", async () => {
    await harness();
    expect((await send("strict-hook", delivery('{"event":"push"}'))).status).toBe(401);
    const bodyOnly = delivery('{"event":"push"}');
    bodyOnly.headers["x-promenade-timestamp"] = String(nowSeconds());
    const refused = await send("strict-hook", bodyOnly);
    expect(refused.status).toBe(401);
    expect(refused.json.error.message).toBe("Invalid webhook credentials.");
    await healthyWithRuns(0);
  });

  it("accept the retry of a delivery whose run could not be started", async () => {
    h = await startHarness({ env: () => ENV });
    const fake = h.engine;
    fake.addWorkflow(
      { slug: "strict-hook", triggers: [{ kind: "webhook", auth: "signature" }] },
      { webhooks: { strict: true } },
    );
    let failNext = true;
    const flaky: EngineApi = {
      ...fake,
      startRun: (slug, options) => {
        if (failNext) {
          failNext = false;
          throw new Error("database is locked");
        }
        return fake.startRun(slug, options);
      },
    };
    const server = createPromenadeServer(flaky, { env: () => ENV, log: () => undefined });
    const { port } = await server.listen(0, "127.0.0.1");
    try {
      const captured = delivery('{"event":"push"}', { timestamp: nowSeconds(), id: "d-9" });
      const target = { ...h, port };
      expect((await http(target, "POST", "/hooks/strict-hook/0", captured)).status).toBe(500);
      expect((await http(target, "POST", "/hooks/strict-hook/0", captured)).status).toBe(202);
      expect((await http(target, "POST", "/hooks/strict-hook/0", captured)).status).toBe(409);
      expect(fake.peekRuns()).toHaveLength(1);
    } finally {
      await server.close({ graceMs: 200 });
    }
  });
});

describe("webhooks that are not strict", () => {
  it("keep accepting Boardwalk-compatible deliveries (no timestamp), replays included", async () => {
    await harness();
    const boardwalk = delivery('{"event":"push"}');
    expect((await send("plain-hook", boardwalk)).status).toBe(202);
    expect((await send("plain-hook", boardwalk)).status).toBe(202);
    await healthyWithRuns(2);
  });

  it("still check a timestamp when the sender signs one", async () => {
    await harness();
    const stamped = delivery('{"event":"push"}', { timestamp: nowSeconds() });
    expect((await send("plain-hook", stamped)).status).toBe(202);
    expect((await send("plain-hook", stamped)).status).toBe(409);
    const stale = delivery('{"event":"push"}', { timestamp: nowSeconds() - 301 });
    expect((await send("plain-hook", stale)).status).toBe(401);
    await healthyWithRuns(1);
  });
});
