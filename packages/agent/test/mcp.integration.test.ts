/**
 * MCP servers inside the loop against real servers built
 * with the official MCP SDK: a stdio child process and a streamable-HTTP server on 127.0.0.1.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createFakeAgentHost,
  openAiText,
  openAiToolCalls,
  resolvedFor,
  startFakeOpenAiProvider,
  startFakeProvider,
  type FakeProvider,
} from "../src/testing/index.ts";
import type { McpServerRef, ToolDef } from "../src/index.ts";
import { startHttpMcpServer, type HttpMcpServer } from "./fixtures/mcp-server.ts";
import { MCP_FIXTURE, tempDir } from "./helpers.ts";

let provider: FakeProvider;
let workspace: { dir: string; cleanup(): void };
let http: HttpMcpServer | undefined;

beforeEach(async () => {
  provider = await startFakeOpenAiProvider();
  workspace = tempDir();
});
afterEach(async () => {
  await provider.close();
  await http?.close();
  http = undefined;
  workspace.cleanup();
});

const stdioDb = (env: Record<string, string> = {}): McpServerRef => ({
  name: "db",
  transport: "stdio",
  command: process.execPath,
  args: [MCP_FIXTURE],
  env,
});

function fake(p: FakeProvider = provider, mcpTokens?: Record<string, string | null>) {
  return createFakeAgentHost({
    workspaceDir: workspace.dir,
    resolve: resolvedFor(p),
    sleep: () => Promise.resolve(),
    ...(mcpTokens === undefined ? {} : { mcpTokens }),
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("MCP tools in the loop", () => {
  it("advertises stdio tools as <server>__<tool>, calls them and surfaces isError", async () => {
    provider.enqueue(
      openAiToolCalls([
        { id: "c1", name: "db__lookup", arguments: { key: "answer" } },
        { id: "c2", name: "db__broken", arguments: {} },
      ]),
      openAiText("done"),
    );
    const host = fake();
    await expect(
      host.agent("look it up", { mcp: [stdioDb({ CANARY: "forty-two" })], builtins: "none" }),
    ).resolves.toBe("done");
    const tools = (
      provider.requests[0]!.body as { tools: { function: { name: string; description: string } }[] }
    ).tools;
    expect(tools.map((t) => t.function.name)).toEqual(["db__lookup", "db__echo", "db__broken"]);
    expect(tools[0]!.function.description).toBe("Look up a key in the fixture database.");
    const results = (
      provider.requests[1]!.body as { messages: { role: string; content: string }[] }
    ).messages.filter((m) => m.role === "tool");
    expect(results.map((r) => r.content)).toEqual([
      "value of answer: forty-two",
      "Tool failed: database is down",
    ]);
    const error = host.events.find((e) => e.body.kind === "tool_call_error")!;
    expect(error.body.error).toEqual({ code: "PROVIDER_ERROR", message: "database is down" });
  });

  it("keeps going when an MCP call itself fails (bad arguments)", async () => {
    provider.enqueue(
      openAiToolCalls([{ id: "c1", name: "db__echo", arguments: { wrong: 1 } }]),
      openAiText("handled"),
    );
    const host = fake();
    await expect(host.agent("echo", { mcp: [stdioDb()] })).resolves.toBe("handled");
    const error = host.events.find((e) => e.body.kind === "tool_call_error")!;
    expect((error.body.error as { code: string }).code).toBe("PROVIDER_ERROR");
    expect(provider.requests[1]!.rawBody).toContain("Tool failed:");
  });

  it("uses streamable HTTP, reaches tools/call and DELETEs the session once after success", async () => {
    http = await startHttpMcpServer("http-value");
    provider.enqueue(
      openAiToolCalls([{ id: "c1", name: "remote__lookup", arguments: { key: "k" } }]),
      openAiText("ok"),
    );
    const host = fake();
    await host.agent("go", { mcp: [{ name: "remote", transport: "http", url: http.url }] });
    expect(http.toolCalls).toEqual(["lookup"]);
    expect(provider.requests[1]!.rawBody).toContain("value of k: http-value");
    expect(http.deletes).toBe(1);
  });

  it("DELETEs the HTTP session once after a provider 400 too", async () => {
    http = await startHttpMcpServer();
    const failing = await startFakeProvider({
      basePath: "/v1",
      steady: { status: 400, text: "bad request" },
    });
    try {
      const host = fake(failing);
      await expect(
        host.agent("go", { mcp: [{ name: "remote", transport: "http", url: http.url }] }),
      ).rejects.toMatchObject({ code: "PROVIDER_ERROR" });
      expect(http.deletes).toBe(1);
    } finally {
      await failing.close();
    }
  });

  it("fetches an OAuth bearer through the host broker after a 401 and registers it as a secret", async () => {
    http = await startHttpMcpServer(undefined, "bearer-good-token-1");
    const leak: ToolDef = {
      name: "leak",
      description: "",
      inputSchema: {},
      execute: () => Promise.resolve("token bearer-good-token-1"),
    };
    provider.enqueue(openAiToolCalls([{ id: "c1", name: "leak" }]), openAiText("ok"));
    const host = fake(provider, { [http.url]: "bearer-good-token-1" });
    await host.agent("go", {
      tools: [leak],
      mcp: [{ name: "locked", transport: "http", url: http.url }],
    });
    expect(host.mcpTokenCalls[0]).toEqual({ serverUrl: http.url, invalidateToken: undefined });
    expect(provider.requests[1]!.rawBody).toContain("[redacted:mcp:locked]");
    expect(provider.requests[1]!.rawBody).not.toContain("bearer-good-token-1");
  });

  it("fails before any model request when the broker has no token", async () => {
    http = await startHttpMcpServer(undefined, "bearer-good-token-1");
    const host = fake(provider, {});
    const err = await host
      .agent("go", { mcp: [{ name: "locked", transport: "http", url: http.url }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "PROVIDER_ERROR" });
    expect((err as Error).message).toContain('"locked"');
    expect((err as Error).message).toContain("requires OAuth authorization");
    expect((err as { hint: string }).hint).toBe("fake: not authorized");
    expect(provider.requests).toHaveLength(0);
    expect(host.events).toHaveLength(0);
  });

  it("fails PROVIDER_ERROR naming an unreachable server before any provider request", async () => {
    const host = fake();
    const err = await host
      .agent("go", { mcp: [{ name: "gone", transport: "http", url: "http://127.0.0.1:1/mcp" }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "PROVIDER_ERROR" });
    expect((err as Error).message).toContain("gone");
    expect(provider.requests).toHaveLength(0);
    expect(host.events).toHaveLength(0);
  });

  it("excludeTools hides a stdio server tool from the request's tool list", async () => {
    provider.enqueue(openAiText("fine"));
    const host = fake();
    await expect(
      host.agent("go", { mcp: [{ ...stdioDb(), excludeTools: ["echo"] }], builtins: "none" }),
    ).resolves.toBe("fine");
    const tools = (provider.requests[0]!.body as { tools: { function: { name: string } }[] }).tools;
    expect(tools.map((t) => t.function.name)).toEqual(["db__lookup", "db__broken"]);
    expect(provider.requests[0]!.rawBody).not.toContain("db__echo");
  });

  it("excludeTools refuses a call to the hidden tool with a tool error and never reaches the server", async () => {
    http = await startHttpMcpServer("http-value");
    provider.enqueue(
      openAiToolCalls([
        { id: "c1", name: "remote__echo", arguments: { text: "hi" } },
        { id: "c2", name: "remote__lookup", arguments: { key: "k" } },
      ]),
      openAiText("ok"),
    );
    const host = fake();
    await expect(
      host.agent("go", {
        mcp: [{ name: "remote", transport: "http", url: http.url, excludeTools: ["echo"] }],
        builtins: "none",
      }),
    ).resolves.toBe("ok");
    const offered = (provider.requests[0]!.body as { tools: { function: { name: string } }[] })
      .tools;
    expect(offered.map((t) => t.function.name)).toEqual(["remote__lookup", "remote__broken"]);
    expect(http.toolCalls).toEqual(["lookup"]);
    const error = host.events.find((e) => e.body.kind === "tool_call_error")!;
    expect(error.body).toMatchObject({
      toolCallId: "c1",
      error: { code: "VALIDATION", message: 'Unknown tool "remote__echo".' },
    });
    const results = (
      provider.requests[1]!.body as { messages: { role: string; content: string }[] }
    ).messages.filter((m) => m.role === "tool");
    expect(results.map((r) => r.content)).toEqual([
      'Unknown tool "remote__echo".',
      "value of k: http-value",
    ]);
  });

  it("rejects malformed refs, duplicate and bad names with VALIDATION mentioning MCP", async () => {
    const host = fake();
    const bad: unknown[] = [
      [{ name: "web", transport: "http", url: "not-a-url" }],
      [{ name: "bird", transport: "carrier-pigeon" }],
      [stdioDb(), stdioDb()],
      [{ name: "bad name!", transport: "stdio", command: "x" }],
      [{ name: "x", transport: "stdio", command: "" }],
      [{ name: "x", transport: "stdio", command: "y", extra: true }],
      [{ name: "x", transport: "stdio", command: "y", excludeTools: "echo" }],
      [{ name: "x", transport: "http", url: "http://127.0.0.1:1/mcp", excludeTools: [1] }],
    ];
    for (const mcp of bad) {
      const err = await host.agent("go", { mcp: mcp as McpServerRef[] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "VALIDATION" });
      expect((err as Error).message).toContain("MCP");
    }
    expect(provider.requests).toHaveLength(0);
  });

  it("rejects a ToolDef clashing with a namespaced MCP tool before any provider request", async () => {
    const host = fake();
    const clash: ToolDef = {
      name: "db__lookup",
      description: "",
      inputSchema: {},
      execute: () => Promise.resolve(""),
    };
    const err = await host
      .agent("go", { tools: [clash], mcp: [stdioDb()] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "VALIDATION" });
    expect((err as Error).message).toContain("Duplicate tool name");
    expect((err as Error).message).toContain("db__lookup");
    expect(provider.requests).toHaveLength(0);
  });

  it("terminates the first (stdio) server when the second fails to connect", async () => {
    const pidFile = join(workspace.dir, "pid");
    const host = fake();
    const err = await host
      .agent("go", {
        mcp: [
          stdioDb({ PID_FILE: pidFile }),
          { name: "gone", transport: "http", url: "http://127.0.0.1:1/mcp" },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "PROVIDER_ERROR" });
    const pid = Number(readFileSync(pidFile, "utf8"));
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  });
});
