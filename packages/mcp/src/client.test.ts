/**
 * The JSON-RPC layer and McpClient against a real SDK `Server` over the SDK's in-memory
 * transport (no processes, no sockets). `SdkPipe` adapts the SDK transport to `McpTransport`
 * and records our outbound frames; `inject` feeds raw frames as if the server had sent them.
 */
import { readFileSync } from "node:fs";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type JSONRPCMessage,
} from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { McpClient, flattenToolContent } from "./client.ts";
import type { McpTransport } from "./ports.ts";
import type { JsonRpcMessage } from "./types.ts";
import { failure } from "../test/helpers.ts";

class SdkPipe implements McpTransport {
  readonly label = "memory";
  readonly sent: JsonRpcMessage[] = [];
  readonly #sdk: InMemoryTransport;
  #receivers: ((message: unknown) => void)[] = [];
  closed = false;

  constructor(sdk: InMemoryTransport) {
    this.#sdk = sdk;
    sdk.onmessage = (message) => this.inject(message);
    void sdk.start();
  }

  inject(frame: unknown): void {
    for (const receiver of this.#receivers) receiver(frame);
  }

  send(message: JsonRpcMessage): Promise<void> {
    this.sent.push(message);
    return this.#sdk.send(message as JSONRPCMessage);
  }

  onMessage(cb: (message: unknown) => void): void {
    this.#receivers.push(cb);
  }

  onClose(): void {}

  async close(): Promise<void> {
    this.closed = true;
    await this.#sdk.close();
  }
}

interface Fixture {
  server: Server;
  pipe: SdkPipe;
  client: McpClient;
  cancelled: unknown[];
  release: () => void;
}

async function fixture(
  options: ConstructorParameters<typeof McpClient>[1] = {},
  tools: { name: string; [key: string]: unknown }[] = [{ name: "echo" }],
  pageSize = 0,
): Promise<Fixture> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = new Server(
    { name: "memory-server", version: "0.1.0" },
    { capabilities: { tools: {} } },
  );
  const cancelled: unknown[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  server.setRequestHandler(ListToolsRequestSchema, (request) => {
    if (pageSize <= 0) return { tools };
    const start = Number(request.params?.cursor ?? "0");
    return {
      tools: tools.slice(start, start + pageSize),
      nextCursor: start + pageSize < tools.length ? String(start + pageSize) : undefined,
    };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const args = request.params.arguments ?? {};
    if (request.params.name === "slow") {
      await released;
      return { content: [{ type: "text", text: "slow done" }] };
    }
    if (request.params.name === "hang") {
      return await new Promise((_, reject) => {
        // The cancellation may already have arrived before this handler ran.
        const onAbort = (): void => {
          cancelled.push(extra.signal.reason);
          reject(new Error("cancelled"));
        };
        if (extra.signal.aborted) onAbort();
        else extra.signal.addEventListener("abort", onAbort);
      });
    }
    return { content: [{ type: "text", text: `echo: ${JSON.stringify(args)}` }] };
  });
  await server.connect(serverSide);
  const pipe = new SdkPipe(clientSide);
  const client = new McpClient(pipe, options);
  await client.connect();
  return { server, pipe, client, cancelled, release };
}

describe("McpClient over the SDK's in-memory transport", () => {
  it("sends initialize as request 1 with empty capabilities, then initialized without an id", async () => {
    const { pipe, server, client } = await fixture();
    const version = (
      JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
        version: string;
      }
    ).version;
    expect(pipe.sent[0]).toEqual({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "promenade", version },
      },
    });
    expect(pipe.sent[1]).toEqual({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(server.getClientVersion()).toEqual({ name: "promenade", version });
    await client.ping();
    expect(pipe.sent[2]).toEqual({ jsonrpc: "2.0", id: 2, method: "ping" });
  });

  it("resolves responses answered out of order to the right callers", async () => {
    const { client, release } = await fixture();
    const slow = client.callTool("slow");
    const fast = await client.callTool("echo", { n: 1 });
    expect(flattenToolContent(fast)).toBe('echo: {"n":1}');
    release();
    expect(flattenToolContent(await slow)).toBe("slow done");
  });

  it("drops malformed frames without disturbing pending requests", async () => {
    const { client, pipe, release } = await fixture();
    const slow = client.callTool("slow");
    const pendingId = (pipe.sent.at(-1) as { id: number }).id;
    for (const frame of [
      null,
      "text",
      42,
      [],
      { jsonrpc: "1.0", id: pendingId, result: { content: [] } },
      { jsonrpc: "2.0", id: String(pendingId), result: { content: [] } },
      { jsonrpc: "2.0", id: 999, result: {} },
      { jsonrpc: "2.0", id: pendingId, error: { code: "x", message: 1 } },
      { jsonrpc: "2.0", id: { nested: true }, result: {} },
      { jsonrpc: "2.0", method: 7 },
    ]) {
      pipe.inject(frame);
    }
    release();
    expect(flattenToolContent(await slow)).toBe("slow done");
  });

  it("answers a server ping with {} and other server requests with -32601", async () => {
    const { pipe } = await fixture();
    pipe.inject({ jsonrpc: "2.0", id: "srv-1", method: "ping" });
    pipe.inject({ jsonrpc: "2.0", id: 5, method: "sampling/createMessage", params: {} });
    expect(pipe.sent).toContainEqual({ jsonrpc: "2.0", id: "srv-1", result: {} });
    const refusal = pipe.sent.find((frame) => "id" in frame && frame.id === 5);
    expect(refusal).toMatchObject({ jsonrpc: "2.0", id: 5, error: { code: -32601 } });
  });

  it("passes server notifications to handlers until unsubscribed", async () => {
    const { client, server } = await fixture();
    const seen: unknown[] = [];
    const off = client.onNotification("notifications/tools/list_changed", (params) => {
      seen.push(params ?? null);
    });
    await server.sendToolListChanged();
    await client.ping();
    off();
    await server.sendToolListChanged();
    await client.ping();
    expect(seen).toHaveLength(1);
  });

  it("times out with TIMEOUT and sends notifications/cancelled with reason timeout", async () => {
    const { client, cancelled, pipe } = await fixture({ requestTimeoutMs: 30 });
    const error = await failure(client.callTool("hang"));
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toContain('"tools/call" timed out after 0.03s');
    expect(error.message).toContain('MCP server "memory"');
    const call = pipe.sent.find((frame) => "method" in frame && frame.method === "tools/call") as {
      id: number;
    };
    expect(pipe.sent).toContainEqual({
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: call.id, reason: "timeout" },
    });
    await client.ping();
    expect(cancelled).toEqual(["timeout"]);
  });

  it("rejects an already-aborted signal without sending anything", async () => {
    const { client, pipe } = await fixture();
    const before = pipe.sent.length;
    const error = await failure(client.callTool("echo", {}, { signal: AbortSignal.abort() }));
    expect(error.code).toBe("ABORTED");
    expect(pipe.sent).toHaveLength(before);
  });

  it("close() rejects pending and later requests and is idempotent", async () => {
    const { client, pipe } = await fixture();
    const pending = failure(client.callTool("slow"));
    await Promise.all([client.close(), client.close()]);
    expect(pipe.closed).toBe(true);
    expect((await pending).code).toBe("CLOSED");
    const later = await failure(client.listTools());
    expect(later.code).toBe("CLOSED");
    expect(later.message).toContain("connection is closed");
    expect((await failure(client.notify("notifications/x"))).code).toBe("CLOSED");
  });

  it("follows cursors, keeps extra tool fields and fails past the page limit", async () => {
    const tools = Array.from({ length: 7 }, (_, i) => ({
      name: `t${i}`,
      title: `Tool ${i}`,
      annotations: { readOnlyHint: true },
    }));
    const { client, pipe } = await fixture({ maxToolPages: 10 }, tools, 2);
    const all = await client.listAllTools();
    expect(all).toHaveLength(7);
    expect(all[0]).toEqual({
      name: "t0",
      title: "Tool 0",
      annotations: { readOnlyHint: true },
      description: "",
      inputSchema: { type: "object" },
    });
    const listCalls = pipe.sent.filter(
      (frame) => "method" in frame && frame.method === "tools/list",
    );
    expect(listCalls.map((frame) => (frame as { params: unknown }).params)).toEqual([
      {},
      { cursor: "2" },
      { cursor: "4" },
      { cursor: "6" },
    ]);

    const many = Array.from({ length: 101 }, (_, i) => ({ name: `p${i}` }));
    const limited = await fixture({}, many, 1);
    const error = await failure(limited.client.listAllTools());
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("paginated past 100 pages");
  });

  it("fails PROTOCOL for a malformed tools/list entry", async () => {
    const { client } = await fixture({}, [{ name: "" }]);
    const error = await failure(client.listTools());
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("malformed tools/list");
  });

  it("fails PROTOCOL for a malformed tools/call result", async () => {
    // The SDK server validates its own results, so the malformed answer is injected for the
    // pending call; the server's real answer arrives later and is dropped as already settled.
    const { client, pipe, release } = await fixture();
    const pending = failure(client.callTool("slow"));
    const id = (pipe.sent.at(-1) as { id: number }).id;
    pipe.inject({ jsonrpc: "2.0", id, result: { content: "not a list" } });
    release();
    const error = await pending;
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("malformed tools/call");
  });

  it("refuses to offer a protocol version it does not speak", async () => {
    const [clientSide] = InMemoryTransport.createLinkedPair();
    const client = new McpClient(new SdkPipe(clientSide), { protocolVersion: "2030-01-01" });
    const error = await failure(client.connect());
    expect(error.code).toBe("PROTOCOL");
    expect(error.hint).toContain("2025-11-25");
  });
});

describe("flattenToolContent", () => {
  it("joins text and names other content types", () => {
    expect(
      flattenToolContent({
        content: [
          { type: "text", text: "line one" },
          { type: "image", data: "x" },
          { type: "resource_link", uri: "file:///x" },
          { type: "text" },
          { type: "text", text: "line two" },
        ],
        isError: false,
      }),
    ).toBe("line one\n[image]\n[resource_link]\n[text]\nline two");
    expect(flattenToolContent({ content: [], isError: false })).toBe("");
  });
});
