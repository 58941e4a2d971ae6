/**
 * Connection lifecycle and the smaller routes: dead sockets are
 * reaped, a stalled socket is closed 4008, upgrades are checked before switching protocols,
 * draining answers 503, deploy bodies have their own limit, and MCP authorization reports the
 * URL to open and the stored grant without ever returning a token.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WsClient, http, startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

const gauge = async (name: string): Promise<number> => {
  const m = await http(h, "GET", "/metrics");
  return Number(new RegExp(`^${name} (\\d+)$`, "m").exec(m.text)?.[1] ?? "NaN");
};

describe("WebSocket lifecycle", () => {
  it("terminates a connection that stops answering pings", async () => {
    // 1 s heartbeats: the live client shares this process with the server, so a shorter period
    // lets a CPU stall on a loaded 2-core CI machine reap the healthy socket too.
    h = await startHarness({ wsHeartbeatMs: 1000 });
    const live = new WsClient(h);
    const dead = new WsClient(h);
    await live.opened();
    await dead.opened();
    expect(await gauge("promenade_ws_connections")).toBe(2);
    dead.ws.pause(); // no pongs from now on
    // Reaped after two missed heartbeats (~2 s); poll so a loaded machine does not flake.
    const deadline = Date.now() + 60_000;
    while ((await gauge("promenade_ws_connections")) !== 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await gauge("promenade_ws_connections")).toBe(1);
    live.send({ type: "ping", nonce: "still-here" });
    expect((await live.next((f) => f.type === "pong")).nonce).toBe("still-here");
    live.close();
  });

  it("judges no connection on a heartbeat that comes late because the server itself stalled", async () => {
    h = await startHarness({ wsHeartbeatMs: 1000 });
    const live = new WsClient(h);
    await live.opened();
    live.send({ type: "ping", nonce: "before" });
    expect((await live.next((f) => f.type === "pong")).nonce).toBe("before");
    // The server shares this process: right after the client answers a heartbeat ping, block
    // the process for 2.5 periods, so that pong is still unread when the late heartbeat fires.
    const stalled = new Promise<void>((resolve) => {
      live.ws.once("ping", () => {
        const until = Date.now() + 2500;
        while (Date.now() < until) {
          // busy: no timers, no socket input
        }
        resolve();
      });
    });
    await stalled;
    // Two more on-time heartbeats pass with the client answering.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await gauge("promenade_ws_connections")).toBe(1);
    live.send({ type: "ping", nonce: "after" });
    expect(await live.next((f) => f.type === "pong" && f.nonce === "after")).toMatchObject({
      nonce: "after",
    });
    live.close();
  });

  it("closes a socket that stays above high water with 4008", async () => {
    h = await startHarness({ wsSlowConsumerMs: 300 });
    h.engine.addWorkflow({ slug: "flood" });
    const run = await h.engine.startRun("flood", { triggerKind: "manual" });
    h.engine.setStatus(run.id, "running");
    const slow = new WsClient(h);
    await slow.opened();
    slow.send({ type: "subscribe", sub: "s", runId: run.id, verbose: true });
    await slow.next((f) => f.type === "caught_up");
    slow.ws.pause();
    const chunk = "y".repeat(32 * 1024);
    for (let i = 0; i < 400; i++) {
      h.engine.emit(run.id, { kind: "program_output", stream: "stdout", text: chunk });
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2));
    }
    // Above high water for > 300 ms → close 4008; resume well before the 5 s terminate.
    await new Promise((r) => setTimeout(r, 2000));
    slow.ws.resume();
    expect(await slow.waitClose()).toBe(4008);
  });

  it("checks upgrades before switching protocols", async () => {
    h = await startHarness();
    const upgrade = {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    };
    expect((await http(h, "GET", "/api/nope", { headers: upgrade })).status).toBe(404);
    const proto = await http(h, "GET", "/api/ws", {
      headers: { ...upgrade, "sec-websocket-protocol": "chat" },
    });
    expect(proto.status).toBe(400);
    expect(proto.json.error.message).toBe("Unsupported WebSocket subprotocol.");
    const plain = new WsClient(h);
    await plain.opened();
    expect(plain.ws.protocol).toBe("");
    plain.close();
  });
});

describe("draining", () => {
  it("closes every open socket with 1001 while draining", async () => {
    h = await startHarness();
    const ws = new WsClient(h);
    await ws.opened();
    const closing = h.server.close({ graceMs: 300 });
    expect(await ws.waitClose()).toBe(1001);
    await closing;
  });
});

describe("deploy limits", () => {
  it("allows 10 MiB deploy bodies and refuses larger ones with 413", async () => {
    h = await startHarness();
    const big = await http(h, "POST", "/api/workflows", { body: "x".repeat(10_485_761) });
    expect(big.status).toBe(413);
    expect(big.json.error.message).toBe("Request body exceeds the 10485760-byte limit.");
    const padded = JSON.stringify({
      program: `export const meta = {"slug":"padded","triggers":[{"kind":"manual"}]};\n//${"p".repeat(2_000_000)}`,
    });
    expect((await http(h, "POST", "/api/workflows", { body: padded })).status).toBe(201);
  });
});

describe("MCP authorization", () => {
  it("shows the authorization URL, then reports the stored grant", async () => {
    let finish: () => void = () => {};
    h = await startHarness({
      authorizeMcpServer: (_url, options) => {
        options.onAuthorizationUrl("https://auth.example/authorize?client_id=abc&state=xyz");
        return new Promise<void>((resolve) => (finish = resolve));
      },
    });
    const started = await http(h, "POST", "/api/mcp/authorizations", {
      body: '{"url":"https://mcp.example/mcp"}',
    });
    expect(started.status).toBe(202);
    expect(started.json.authorization).toMatchObject({
      serverUrl: "https://mcp.example/mcp",
      status: "awaiting_user",
      authorizationUrl: "https://auth.example/authorize?client_id=abc&state=xyz",
    });
    finish();
    await new Promise((r) => setTimeout(r, 20));
    const done = await http(h, "GET", `/api/mcp/authorizations/${started.json.authorization.id}`);
    expect(done.json.authorization.status).toBe("authorized");
    expect(
      (await http(h, "POST", "/api/mcp/authorizations", { body: '{"url":"ftp://x"}' })).status,
    ).toBe(400);
    expect((await http(h, "GET", "/api/mcp/authorizations/nope")).status).toBe(404);
  });

  it("reports failures with the engine's code and 400 UNSUPPORTED without an authorizer", async () => {
    h = await startHarness({
      authorizeMcpServer: () => {
        const err = Object.assign(new Error("Authorization timed out."), {
          code: "PROVIDER_ERROR",
        });
        return Promise.reject(err);
      },
    });
    const failed = await http(h, "POST", "/api/mcp/authorizations", {
      body: '{"url":"https://mcp.example/mcp"}',
    });
    expect(failed.json.authorization.status).toBe("failed");
    expect(failed.json.authorization.error.code).toBe("INTERNAL");
    await h.close();
    h = await startHarness();
    const none = await http(h, "POST", "/api/mcp/authorizations", {
      body: '{"url":"https://mcp.example/mcp"}',
    });
    expect(none.status).toBe(400);
    expect(none.json.error.code).toBe("UNSUPPORTED");
  });
});
