/**
 * The client against a real streamable-HTTP MCP server built with the official SDK, in both
 * JSON and SSE response modes: headers, sessions (replay, DELETE on close, expiry), paging, tool
 * errors, timeout + cancellation, a crash mid-call, and endpoints that are not MCP servers.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  StreamableHttpTransport,
  connectMcp,
  flattenToolContent,
  type McpClient,
} from "../src/index.ts";
import { eventually, failure } from "./helpers.ts";
import {
  startMcpHttpServer,
  type McpHttpServer,
  type McpHttpServerOptions,
} from "./mcp-http-server.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: McpHttpServerOptions): Promise<McpHttpServer> {
  const started = await startMcpHttpServer(options);
  cleanups.push(() => started.close());
  return started;
}

async function client(
  url: string,
  transportOptions: Partial<ConstructorParameters<typeof StreamableHttpTransport>[0]> = {},
  clientOptions: Parameters<typeof connectMcp>[1] = {},
): Promise<{ client: McpClient; transport: StreamableHttpTransport }> {
  const transport = new StreamableHttpTransport({ url, label: "web", ...transportOptions });
  const connected = await connectMcp(transport, clientOptions);
  cleanups.push(() => connected.close());
  return { client: connected, transport };
}

/** A plain HTTP server answering every request with the given status, type and body. */
async function plainServer(status: number, contentType: string, body: string): Promise<string> {
  const http: HttpServer = createServer((_req, res) => {
    res.writeHead(status, { "content-type": contentType }).end(body);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
}

describe.each([
  { mode: "SSE", json: false },
  { mode: "JSON", json: true },
])("streamable HTTP ($mode responses) against an SDK server", ({ json }) => {
  it("initializes, lists across pages, calls tools and sends the protocol headers", async () => {
    const mcp = await server({ json, pageSize: 2, extraTools: 3 });
    const { client: c, transport } = await client(mcp.url, {}, { protocolVersion: "2025-03-26" });
    expect(c.protocolVersion).toBe("2025-03-26");
    expect(c.serverInfo).toEqual({ name: "fixture-http", version: "2.0.0" });
    expect(transport.sessionId).toMatch(/[0-9a-f-]{36}/);

    const tools = await c.listAllTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      "echo",
      "fail",
      "hang",
      "crash",
      "whoami",
      "extra_0",
      "extra_1",
      "extra_2",
    ]);
    const result = await c.callTool("echo", { text: "ahoy" });
    expect(flattenToolContent(result)).toBe("echo: ahoy");

    const posts = mcp.requests.filter((request) => request.method === "POST");
    for (const post of posts) {
      expect(post.headers["accept"]).toBe("application/json, text/event-stream");
      expect(post.headers["content-type"]).toBe("application/json");
    }
    const [initialize, ...later] = posts;
    expect(initialize?.headers["mcp-protocol-version"]).toBeUndefined();
    expect(initialize?.headers["mcp-session-id"]).toBeUndefined();
    for (const post of later) {
      expect(post.headers["mcp-protocol-version"]).toBe("2025-03-26");
      expect(post.headers["mcp-session-id"]).toBe(transport.sessionId);
    }
    const initialized = later[0]?.body as Record<string, unknown>;
    expect(initialized).toEqual({ jsonrpc: "2.0", method: "notifications/initialized" });
  });

  it("keeps 25 concurrent calls apart", async () => {
    const mcp = await server({ json });
    const { client: c } = await client(mcp.url);
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => c.callTool("echo", { text: `n${i}` })),
    );
    expect(results.map(flattenToolContent)).toEqual(
      Array.from({ length: 25 }, (_, i) => `echo: n${i}`),
    );
  });

  it("surfaces tool errors as isError and JSON-RPC errors as RPC_ERROR", async () => {
    const mcp = await server({ json });
    const { client: c } = await client(mcp.url);
    const failed = await c.callTool("fail");
    expect(failed.isError).toBe(true);
    expect(flattenToolContent(failed)).toBe("it broke");
    const error = await failure(c.request("prompts/list"));
    expect(error.code).toBe("RPC_ERROR");
    expect(error.rpcCode).toBe(-32601);
  });

  it("times out a never-answered call and the server sees notifications/cancelled", async () => {
    const mcp = await server({ json });
    // Each frame is its own POST, so on a loaded machine the cancellation could overtake the
    // call it cancels; hold it until the server has started the call, as a real race never would.
    const ordered: typeof fetch = async (input, init) => {
      if (typeof init?.body === "string" && init.body.includes("notifications/cancelled")) {
        await eventually(
          () => mcp.toolCalls.some((call) => call.name === "hang"),
          "the server to start the call",
        );
      }
      return fetch(input, init);
    };
    const { client: c } = await client(mcp.url, { fetch: ordered });
    const error = await failure(c.callTool("hang", {}, { timeoutMs: 200 }));
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toContain('"tools/call" timed out after 0.2s');
    await eventually(
      () => mcp.cancellations.some((entry) => entry.reason === "timeout"),
      "the server to see notifications/cancelled",
    );
    expect(flattenToolContent(await c.callTool("echo", { text: "after" }))).toBe("echo: after");
  });

  it("fails the call when the server drops the connection mid-call", async () => {
    const mcp = await server({ json });
    const { client: c } = await client(mcp.url);
    const error = await failure(c.callTool("crash"));
    expect(["UNREACHABLE", "PROTOCOL"]).toContain(error.code);
    expect(error.message).toContain('"web"');
  });

  it("DELETEs the session exactly once on close and refuses later calls", async () => {
    const mcp = await server({ json });
    const { client: c, transport } = await client(mcp.url);
    const sessionId = transport.sessionId;
    await c.close();
    await c.close();
    const deletes = mcp.requests.filter((request) => request.method === "DELETE");
    expect(deletes).toHaveLength(1);
    expect(deletes[0]?.headers["mcp-session-id"]).toBe(sessionId);
    expect(deletes[0]?.headers["mcp-protocol-version"]).toBe("2025-06-18");
    expect(transport.sessionId).toBeNull();
    expect((await failure(c.ping())).code).toBe("CLOSED");
  });

  it("re-initializes once and retries the call when the server says the session expired", async () => {
    const mcp = await server({ json });
    const { client: c, transport } = await client(mcp.url);
    const first = transport.sessionId;
    await mcp.expireSessions();
    mcp.requests.length = 0;
    expect(flattenToolContent(await c.callTool("echo", { text: "again" }))).toBe("echo: again");
    const methods = mcp.requests.map(
      (request) => (request.body as { method?: string } | undefined)?.method ?? request.method,
    );
    expect(methods).toEqual([
      "tools/call",
      "initialize",
      "notifications/initialized",
      "tools/call",
    ]);
    expect(mcp.requests[0]!.headers["mcp-session-id"]).toBe(first);
    expect(mcp.requests[1]!.headers["mcp-session-id"]).toBeUndefined();
    expect(transport.sessionId).not.toBe(first);
    expect(mcp.requests[3]!.headers["mcp-session-id"]).toBe(transport.sessionId);
    expect(mcp.toolCalls.map((call) => call.name)).toEqual(["echo"]);
    // Concurrent calls hitting one expiry share one new session.
    await mcp.expireSessions();
    mcp.requests.length = 0;
    const both = await Promise.all([
      c.callTool("echo", { text: "a" }),
      c.callTool("echo", { text: "b" }),
    ]);
    expect(both.map(flattenToolContent)).toEqual(["echo: a", "echo: b"]);
    expect(
      mcp.requests.filter(
        (r) => (r.body as { method?: string } | undefined)?.method === "initialize",
      ),
    ).toHaveLength(1);
  });

  it("re-initializes only once: a session that expires again surfaces the 404 with a hint", async () => {
    let initializes = 0;
    const http: HttpServer = createServer((req, res) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        const frame = JSON.parse(raw) as { id?: number; method: string };
        if (frame.method === "initialize") {
          initializes++;
          res.writeHead(200, {
            "content-type": "application/json",
            "mcp-session-id": `s-${initializes}`,
          });
          res.end(
            JSON.stringify({
              jsonrpc: "2.0",
              id: frame.id,
              result: { protocolVersion: "2025-06-18", capabilities: {} },
            }),
          );
        } else if (frame.id === undefined) {
          res.writeHead(202).end();
        } else {
          res.writeHead(404, { "content-type": "text/plain" }).end("Session not found");
        }
      });
    });
    await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
    cleanups.push(() => new Promise<void>((done) => http.close(() => done())));
    const { client: c } = await client(
      `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    );
    const error = await failure(c.callTool("echo", { text: "x" }));
    expect(initializes).toBe(2);
    expect(error.code).toBe("HTTP_STATUS");
    expect(error.status).toBe(404);
    expect(error.message).toContain("Session not found");
    expect(error.hint).toContain("session");
  });
});

describe("streamable HTTP edge cases", () => {
  it("sends no DELETE for a stateless server", async () => {
    const mcp = await server({ stateful: false, json: true });
    const { client: c, transport } = await client(mcp.url);
    expect(transport.sessionId).toBeNull();
    expect(flattenToolContent(await c.callTool("echo", { text: "s" }))).toBe("echo: s");
    await c.close();
    expect(mcp.requests.filter((request) => request.method === "DELETE")).toHaveLength(0);
  });

  it("keeps program headers from overriding protocol-owned ones", async () => {
    const mcp = await server({});
    const { client: c } = await client(mcp.url, {
      headers: {
        Accept: "text/html",
        "Content-Type": "text/plain",
        "MCP-Session-Id": "forged",
        "Mcp-Protocol-Version": "1999-01-01",
        "X-Team": "blue",
      },
    });
    expect(flattenToolContent(await c.callTool("echo", { text: "h" }))).toBe("echo: h");
    const last = mcp.requests.at(-1)!;
    expect(last.headers["accept"]).toBe("application/json, text/event-stream");
    expect(last.headers["content-type"]).toBe("application/json");
    expect(last.headers["mcp-session-id"]).not.toBe("forged");
    expect(last.headers["mcp-protocol-version"]).toBe("2025-06-18");
    expect(last.headers["x-team"]).toBe("blue");
  });

  it("fails UNREACHABLE naming the server and URL when nothing listens", async () => {
    const mcp = await server({});
    const url = mcp.url;
    await mcp.close();
    const error = await failure(connectMcp(new StreamableHttpTransport({ url, label: "gone" })));
    expect(error.code).toBe("UNREACHABLE");
    expect(error.message).toContain('"gone"');
    expect(error.message).toContain(url);
    expect(error.message).toContain("unreachable");
  });

  it("fails clearly when the URL serves an HTML page", async () => {
    const url = await plainServer(
      200,
      "text/html; charset=utf-8",
      "<!doctype html><h1>Welcome</h1>",
    );
    const error = await failure(connectMcp(new StreamableHttpTransport({ url })));
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("text/html");
    expect(error.message).toContain("<h1>Welcome</h1>");
    expect(error.hint).toContain("MCP endpoint");
  });

  it("fails HTTP_STATUS with the start of the body for an error page", async () => {
    const url = await plainServer(502, "text/html", `<html>${"bad gateway ".repeat(100)}</html>`);
    const error = await failure(connectMcp(new StreamableHttpTransport({ url })));
    expect(error.code).toBe("HTTP_STATUS");
    expect(error.status).toBe(502);
    expect(error.message).toContain("answered 502");
    expect(error.message.length).toBeLessThan(420);
  });

  it("fails PROTOCOL for a JSON answer that is not a JSON-RPC response", async () => {
    const url = await plainServer(200, "application/json", '{"status":"ok"}');
    const error = await failure(connectMcp(new StreamableHttpTransport({ url })));
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("without a JSON-RPC response");
  });

  it("fails PROTOCOL for invalid JSON", async () => {
    const url = await plainServer(200, "application/json", '{"jsonrpc":"2.0",');
    const error = await failure(connectMcp(new StreamableHttpTransport({ url })));
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("invalid JSON");
  });

  it("parses WHATWG event streams: CRLF, comments, multi-line data, dispatch at end of stream", async () => {
    const result = {
      protocolVersion: "2025-06-18",
      capabilities: {},
      serverInfo: { name: "odd", version: "1" },
    };
    const stream =
      ": keep-alive comment\r\n" +
      "event: message\r\ndata: [DONE]\r\n\r\n" +
      "data: not json\r\n\r\n" +
      `event: message\r\nid: 7\r\ndata: {"jsonrpc":"2.0",\r\ndata: "id":1,"result":${JSON.stringify(result)}}`;
    const url = await plainServer(200, "text/event-stream", stream);
    const { client: c } = await client(url);
    // Every later POST gets the same stream back; its stale id-1 frame is dropped as settled.
    expect(c.serverInfo).toEqual({ name: "odd", version: "1" });
    await c.notify("notifications/anything");
  });

  it("fails PROTOCOL for an oversized body or SSE event", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { pad: "x".repeat(100_000) } });
    const jsonUrl = await plainServer(200, "application/json", big);
    const jsonError = await failure(
      connectMcp(new StreamableHttpTransport({ url: jsonUrl, maxFrameBytes: 10_000 })),
    );
    expect(jsonError.code).toBe("PROTOCOL");
    expect(jsonError.message).toContain("larger than 10000 bytes");

    const sseUrl = await plainServer(200, "text/event-stream", `event: message\ndata: ${big}\n\n`);
    const sseError = await failure(
      connectMcp(new StreamableHttpTransport({ url: sseUrl, maxFrameBytes: 10_000 })),
    );
    expect(sseError.code).toBe("PROTOCOL");
    expect(sseError.message).toContain("larger than 10000 bytes");
  });

  it("fails UNAUTHORIZED on a 401 without an auth provider", async () => {
    const mcp = await server({
      authorize: (_req, res) => {
        res.writeHead(401, { "www-authenticate": 'Bearer realm="mcp"' }).end();
        return false;
      },
    });
    const error = await failure(connectMcp(new StreamableHttpTransport({ url: mcp.url })));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("401 Unauthorized");
    expect(error.hint).toContain("headers");
  });

  it("rejects a non-http URL with INVALID_URL", () => {
    expect(() => new StreamableHttpTransport({ url: "not-a-url" })).toThrow(
      /invalid MCP server URL/,
    );
    expect(() => new StreamableHttpTransport({ url: "ftp://example.com/mcp" })).toThrow(/not http/);
  });
});
