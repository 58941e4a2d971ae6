/* eslint-disable @typescript-eslint/no-unsafe-argument -- tests read untyped JSON wire frames and bodies */
/**
 * Auth, browser protections and webhooks.
 * If these break, a cross-site page can start runs, a webhook opens without its secret, or a
 * credential leaks into a response or a log line.
 */
import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { WsClient, http, startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

const TOKEN = "canary-api-token-0123456789abcdefghij";
const HOOK_TOKEN = "canary-hook-token-9f8e7d6c5b4a";
const HOOK_SECRET = "canary-hook-secret-1a2b3c4d";
let h: Harness;
afterEach(async () => {
  await h.close();
});

function withHooks(env: Record<string, string>, options = {}): Promise<Harness> {
  return startHarness({ env: () => env, ...options }).then((harness) => {
    h = harness;
    h.engine.addWorkflow({
      slug: "token-hook",
      triggers: [{ kind: "webhook", auth: "token" }, { kind: "manual" }],
    });
    h.engine.addWorkflow({
      slug: "signed-hook",
      triggers: [{ kind: "webhook", auth: "signature" }],
    });
    return h;
  });
}

describe("API token", () => {
  it("guards /api and /metrics, not the UI, health or hooks; 401 precedes 404", async () => {
    h = await startHarness({ apiToken: TOKEN });
    const none = await http(h, "GET", "/api/workflows");
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe("UNAUTHORIZED");
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(
      (await http(h, "GET", "/api/workflows", { headers: { authorization: "Bearer wrong" } }))
        .status,
    ).toBe(401);
    expect(
      (await http(h, "GET", "/api/workflows", { headers: { authorization: `bearer ${TOKEN}` } }))
        .status,
    ).toBe(200);
    expect((await http(h, "GET", "/")).status).toBe(200);
    expect((await http(h, "GET", "/ui/app.js")).status).toBe(200);
    expect((await http(h, "GET", "/healthz")).status).toBe(200);
    expect((await http(h, "GET", "/metrics")).status).toBe(401);
    expect((await http(h, "GET", "/api/nope")).status).toBe(401);
  });

  it("refuses to listen on a non-loopback host without a token", async () => {
    h = await startHarness();
    const { createPromenadeServer } = await import("../src/index.ts");
    const s = createPromenadeServer(h.engine, { log: () => {} });
    await expect(s.listen(0, "0.0.0.0")).rejects.toThrow(/PROMENADE_API_TOKEN/);
  });

  it("WebSocket upgrade: header and browser subprotocol tokens work; none or query string → 401", async () => {
    h = await startHarness({ apiToken: TOKEN });
    const bad = new WsClient(h);
    const err = await new Promise<string>((resolve) =>
      bad.ws.on("unexpected-response", (_req, res) => resolve(String(res.statusCode))),
    );
    expect(err).toBe("401");
    const header = new WsClient(h, { headers: { authorization: `Bearer ${TOKEN}` } });
    await header.opened();
    const browser = new WsClient(h, {
      protocols: [
        "promenade.events.v1",
        `promenade.bearer.${Buffer.from(TOKEN).toString("base64url")}`,
      ],
    });
    await browser.opened();
    expect(browser.ws.protocol).toBe("promenade.events.v1");
    expect((await browser.next((f) => f.type === "hello")).protocol).toBe("promenade.events.v1");
    header.close();
    browser.close();
    const query = await http(h, "GET", `/api/ws?access_token=${TOKEN}`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    expect(query.status).toBe(401);
  });
});

describe("browser protections", () => {
  it("refuses cross-origin POSTs (no run created) and accepts same-origin", async () => {
    h = await startHarness();
    h.engine.addWorkflow({ slug: "echo" });
    const evil = await http(h, "POST", "/api/workflows/echo/runs", {
      headers: { origin: "http://evil.example" },
    });
    expect(evil.status).toBe(403);
    expect(evil.json.error.code).toBe("FORBIDDEN_ORIGIN");
    expect(await h.engine.listRuns({ limit: 10 })).toHaveLength(0);
    const same = await http(h, "POST", "/api/workflows/echo/runs", { headers: { origin: h.base } });
    expect(same.status).toBe(201);
    const ws = new WsClient(h, { headers: { origin: "http://evil.example" } });
    const status = await new Promise<number>((resolve) =>
      ws.ws.on("unexpected-response", (_q, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(403);
  });

  it("guards Host while no token is set (DNS rebinding) and never emits CORS headers", async () => {
    h = await startHarness();
    const evil = await http(h, "GET", "/api/workflows", {
      headers: { host: `evil.example:${h.port}` },
    });
    expect(evil.status).toBe(403);
    expect(evil.json.error.code).toBe("FORBIDDEN_HOST");
    expect(
      (await http(h, "GET", "/api/workflows", { headers: { host: `localhost:${h.port}` } })).status,
    ).toBe(200);
    for (const r of [
      evil,
      await http(h, "OPTIONS", "/api/workflows", { headers: { origin: "http://evil.example" } }),
    ]) {
      expect(Object.keys(r.headers).some((k) => k.startsWith("access-control-"))).toBe(false);
    }
  });
});

describe("webhooks", () => {
  it("fails closed with 503 naming the variable", async () => {
    await withHooks({});
    const r = await http(h, "POST", "/hooks/token-hook/0", { body: "{}" });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe("WEBHOOK_UNCONFIGURED");
    expect(r.json.error.hint).toContain("PROMENADE_WEBHOOK_TOKEN__TOKEN_HOOK");
  });

  it("answers one identical 404 for every unresolvable path", async () => {
    await withHooks({ PROMENADE_WEBHOOK_TOKEN__TOKEN_HOOK: HOOK_TOKEN });
    for (const path of [
      "/hooks/token-hook/1",
      "/hooks/token-hook/9",
      "/hooks/token-hook/x",
      "/hooks/ghost/0",
    ]) {
      const r = await http(h, "POST", path, { body: "{}" });
      expect(r.status).toBe(404);
      expect(r.json).toEqual({
        error: { code: "NOT_FOUND", message: `No webhook trigger at ${path}.` },
      });
    }
  });

  it("checks bearer tokens and starts webhook runs with the body as input", async () => {
    await withHooks({ PROMENADE_WEBHOOK_TOKEN__TOKEN_HOOK: HOOK_TOKEN });
    expect((await http(h, "POST", "/hooks/token-hook/0", { body: "{}" })).status).toBe(401);
    const wrong = await http(h, "POST", "/hooks/token-hook/0", {
      body: "{}",
      headers: { authorization: "Bearer wrong" },
    });
    expect(wrong.json.error).toEqual({
      code: "UNAUTHORIZED",
      message: "Invalid webhook credentials.",
    });
    const ok = await http(h, "POST", "/hooks/token-hook/0", {
      body: '{"a":1}',
      headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
    });
    expect(ok.status).toBe(202);
    expect(ok.json.run.status).toBe("queued");
    const run = (await h.engine.getRun(ok.json.run.id))!;
    expect(run.triggerKind).toBe("webhook");
    expect(run.input).toEqual({ a: 1 });
    const empty = await http(h, "POST", "/hooks/token-hook/0", {
      headers: { authorization: `Bearer ${HOOK_TOKEN}` },
    });
    expect((await h.engine.getRun(empty.json.run.id))!.input).toBeNull();
  });

  it("accepts the legacy BOARDWALK_ variable", async () => {
    await withHooks({ BOARDWALK_WEBHOOK_TOKEN__TOKEN_HOOK: HOOK_TOKEN });
    const ok = await http(h, "POST", "/hooks/token-hook/0", {
      headers: { authorization: `Bearer ${HOOK_TOKEN}` },
    });
    expect(ok.status).toBe(202);
  });

  it("verifies HMAC signatures over the exact body", async () => {
    await withHooks({ PROMENADE_WEBHOOK_SECRET__SIGNED_HOOK: HOOK_SECRET });
    const body = '{"event":"push"}';
    const sig = `sha256=${createHmac("sha256", HOOK_SECRET).update(body).digest("hex")}`;
    const other = `sha256=${createHmac("sha256", HOOK_SECRET).update("other").digest("hex")}`;
    expect((await http(h, "POST", "/hooks/signed-hook/0", { body })).status).toBe(401);
    expect(
      (
        await http(h, "POST", "/hooks/signed-hook/0", {
          body,
          headers: { "x-promenade-signature": "sha256=zz" },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await http(h, "POST", "/hooks/signed-hook/0", {
          body,
          headers: { "x-promenade-signature": other },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await http(h, "POST", "/hooks/signed-hook/0", {
          body,
          headers: { "x-promenade-signature": sig },
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await http(h, "POST", "/hooks/signed-hook/0", {
          body,
          headers: { "x-boardwalk-signature": sig.toUpperCase().replace("SHA256", "sha256") },
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await http(h, "POST", "/hooks/signed-hook/0", {
          body,
          headers: { "x-hub-signature-256": sig },
        })
      ).status,
    ).toBe(202);
  });

  it("converts form, text, JSON and binary bodies", async () => {
    await withHooks({ PROMENADE_WEBHOOK_TOKEN__TOKEN_HOOK: HOOK_TOKEN });
    const auth = { authorization: `Bearer ${HOOK_TOKEN}` };
    const post = (body: string | Buffer, type: string) =>
      http(h, "POST", "/hooks/token-hook/0", { body, headers: { ...auth, "content-type": type } });
    const form = await post("a=1&a=2&b=x", "application/x-www-form-urlencoded");
    expect((await h.engine.getRun(form.json.run.id))!.input).toEqual({ a: ["1", "2"], b: "x" });
    const text = await post("hello", "text/plain");
    expect((await h.engine.getRun(text.json.run.id))!.input).toBe("hello");
    const bad = await post("{bad", "application/json");
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("webhook payload is not valid JSON");
    expect((await post(Buffer.from([0xff, 0xfe, 0x00]), "application/octet-stream")).status).toBe(
      415,
    );
    expect((await post("x".repeat(1_048_577), "text/plain")).status).toBe(413);
  });
});

describe("canary: no secret value in any response, frame or log line", () => {
  it("exercises every credential path and finds none of them in the transcript", async () => {
    await withHooks(
      {
        PROMENADE_WEBHOOK_TOKEN__TOKEN_HOOK: HOOK_TOKEN,
        PROMENADE_WEBHOOK_SECRET__SIGNED_HOOK: HOOK_SECRET,
      },
      { apiToken: TOKEN },
    );
    const auth = { authorization: `Bearer ${TOKEN}` };
    await http(h, "GET", "/api/workflows", { headers: auth });
    await http(h, "GET", "/api/workflows", { headers: { authorization: `Bearer ${TOKEN}x` } });
    await http(h, "GET", "/metrics", { headers: auth });
    await http(h, "GET", "/api/workflows/token-hook", { headers: auth });
    const hook = await http(h, "POST", "/hooks/token-hook/0", {
      body: "{}",
      headers: { authorization: `Bearer ${HOOK_TOKEN}` },
    });
    await http(h, "POST", "/hooks/token-hook/0", {
      body: "{}",
      headers: { authorization: `Bearer ${HOOK_TOKEN}0` },
    });
    await http(h, "POST", "/hooks/signed-hook/0", {
      body: HOOK_SECRET,
      headers: { "x-promenade-signature": "sha256=00" },
    });
    await http(h, "GET", `/api/runs/${hook.json.run.id}`, { headers: auth });
    const ws = new WsClient(h, { headers: auth });
    await ws.opened();
    ws.send({ type: "subscribe", sub: "s", runId: hook.json.run.id, verbose: true });
    ws.send({ type: "subscribe_runs", sub: "f" });
    ws.send({ type: "subscribe", sub: TOKEN.slice(0, 30), runId: "x" });
    await ws.next((f) => f.type === "runs_snapshot");
    ws.close();
    const everything = [...h.transcript, ...h.logs].join("\n");
    expect(everything.length).toBeGreaterThan(1000);
    for (const secret of [TOKEN, HOOK_TOKEN, HOOK_SECRET]) expect(everything).not.toContain(secret);
  });
});
