/**
 * The client against a real stdio MCP server built with the official SDK, run as a child
 * process: handshake, paging, tool results and errors, crash, hang + cancellation, noise on
 * stdout, oversized frames, staged shutdown and orphan prevention.
 */
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { StdioTransport, connectMcp, flattenToolContent, type McpClient } from "../src/index.ts";
import { eventually, failure, fixturePath, isAlive, stdioFixture } from "./helpers.ts";

const open: McpClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

async function connected(
  env: Record<string, string> = {},
  options: ConstructorParameters<typeof McpClient>[1] = {},
) {
  const fixture = stdioFixture(env);
  const client = await connectMcp(fixture.transport, options);
  open.push(client);
  return { client, ...fixture };
}

describe("stdio transport against an SDK server", () => {
  it("initializes, records server info and calls echo", async () => {
    const { client, stderr } = await connected();
    expect(client.protocolVersion).toBe("2025-06-18");
    expect(client.serverInfo).toEqual({ name: "fixture-stdio", version: "1.2.3" });
    expect(client.instructions).toBe("fixture instructions");
    expect(client.serverCapabilities).toHaveProperty("tools");
    const result = await client.callTool("echo", { text: "ahoy" });
    expect(result).toEqual({ content: [{ type: "text", text: "echo: ahoy" }], isError: false });
    await eventually(() => stderr().includes("fixture ready"), "the fixture's stderr line");
  });

  it("passes env to the server", async () => {
    const { client } = await connected({ ECHO_PREFIX: "custom-prefix" });
    const result = await client.callTool("echo", { text: "hi" });
    expect(flattenToolContent(result)).toBe("custom-prefix: hi");
  });

  it("inherits all, safe or none of the parent environment", async () => {
    // A variable of this test process only: "all" passes it on, "safe" and "none" do not.
    process.env["PROMENADE_MCP_TEST_PARENT"] = "from-parent";
    try {
      const read = async (inheritEnv: "all" | "safe" | "none", name: string) => {
        const fixture = stdioFixture({ EXTRA: "overlay" }, { inheritEnv });
        const client = await connectMcp(fixture.transport);
        open.push(client);
        return flattenToolContent(await client.callTool("getenv", { name }));
      };
      expect(await read("all", "PROMENADE_MCP_TEST_PARENT")).toBe("from-parent");
      expect(await read("safe", "PROMENADE_MCP_TEST_PARENT")).toBe("(unset)");
      expect(await read("safe", "PATH")).toBe(process.env["PATH"]);
      expect(await read("none", "PATH")).toBe("(unset)");
      expect(await read("none", "EXTRA")).toBe("overlay");
    } finally {
      delete process.env["PROMENADE_MCP_TEST_PARENT"];
    }
  });

  it("negotiates an older version the server echoes, and refuses one it does not speak", async () => {
    const { client } = await connected({}, { protocolVersion: "2025-03-26" });
    expect(client.protocolVersion).toBe("2025-03-26");

    const fixture = stdioFixture({ ANSWER_VERSION: "2099-01-01" });
    const error = await failure(connectMcp(fixture.transport));
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("2099-01-01");
    expect(error.message).toContain("does not speak");
    expect(error.hint).toContain("2025-06-18");
    // connectMcp closed the transport after the failed handshake.
    await eventually(
      () => fixture.transport.pid === undefined || !isAlive(fixture.transport.pid),
      "the refused server to be stopped",
    );
  });

  it("lists tools across several pages and normalizes them", async () => {
    const { client } = await connected({ PAGE_SIZE: "3", EXTRA_TOOLS: "5" });
    const first = await client.listTools();
    expect(first.tools).toHaveLength(3);
    expect(first.nextCursor).toBe("3");
    const all = await client.listAllTools();
    expect(all.map((tool) => tool.name)).toEqual([
      "echo",
      "fail",
      "crash",
      "hang",
      "noise",
      "flood",
      "mixed",
      "ping_client",
      "sample",
      "pid",
      "getenv",
      ...Array.from({ length: 5 }, (_, i) => `extra_${i}`),
    ]);
    const crash = all.find((tool) => tool.name === "crash");
    expect(crash?.description).toBe("");
    const extra = all.find((tool) => tool.name === "extra_0");
    expect(extra?.inputSchema).toEqual({ type: "object" });
  });

  it("fails PROTOCOL when paging goes past maxToolPages", async () => {
    const { client } = await connected({ PAGE_SIZE: "1" }, { maxToolPages: 4 });
    const error = await failure(client.listAllTools());
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("paginated past 4 pages");
  });

  it("surfaces tool errors and flattens mixed content", async () => {
    const { client } = await connected();
    const failed = await client.callTool("fail");
    expect(failed.isError).toBe(true);
    expect(flattenToolContent(failed)).toBe("it broke");
    const mixed = await client.callTool("mixed");
    expect(flattenToolContent(mixed)).toBe("line one\n[image]\nline two");
  });

  it("answers server ping with {} and refuses sampling with -32601", async () => {
    const { client } = await connected();
    expect(flattenToolContent(await client.callTool("ping_client"))).toBe("client answered ping");
    expect(flattenToolContent(await client.callTool("sample"))).toBe("sampling refused: -32601");
    await client.ping();
  });

  it("maps a JSON-RPC error response to RPC_ERROR with method, message and code", async () => {
    const { client } = await connected();
    const error = await failure(client.request("resources/list"));
    expect(error.code).toBe("RPC_ERROR");
    expect(error.rpcCode).toBe(-32601);
    expect(error.message).toContain('"resources/list" failed');
    expect(error.message).toContain("(code -32601)");
    expect(error.message).toContain('"fixture"');
  });

  it("ignores non-JSON lines and malformed frames without disturbing the pending call", async () => {
    const { client } = await connected();
    const [noisy, echoed] = await Promise.all([
      client.callTool("noise"),
      client.callTool("echo", { text: "still here" }),
    ]);
    expect(flattenToolContent(noisy)).toBe("after noise");
    expect(flattenToolContent(echoed)).toBe("echo: still here");
  });

  it("fails the connection on an oversized frame instead of buffering it", async () => {
    const fixture = stdioFixture({}, { maxFrameBytes: 64 * 1024 });
    const client = await connectMcp(fixture.transport);
    open.push(client);
    const error = await failure(client.callTool("flood", { bytes: 200 * 1024 }));
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("larger than 65536 bytes");
    const later = await failure(client.callTool("echo", { text: "x" }));
    expect(later.code).toBe("PROTOCOL");
    const pid = fixture.transport.pid!;
    await eventually(() => !isAlive(pid), `server pid ${pid} to exit`);
  });

  it("times out a never-answered call and the server observes notifications/cancelled", async () => {
    const { client, stderr } = await connected();
    const error = await failure(client.callTool("hang", {}, { timeoutMs: 200 }));
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toContain('"tools/call" timed out after 0.2s');
    await eventually(
      () => /cancelled \d+ timeout/.test(stderr()),
      "the server to log the cancellation",
    );
    // The connection is still usable afterwards.
    expect(flattenToolContent(await client.callTool("echo", { text: "ok" }))).toBe("echo: ok");
  });

  it("aborts a call through its signal and tells the server why", async () => {
    const { client, stderr } = await connected();
    const controller = new AbortController();
    const pending = failure(client.callTool("hang", {}, { signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    const error = await pending;
    expect(error.code).toBe("ABORTED");
    await eventually(
      () => /cancelled \d+ aborted/.test(stderr()),
      "the server to log the cancellation",
    );
  });

  it("rejects the pending call when the server crashes mid-call", async () => {
    const { client } = await connected();
    const error = await failure(client.callTool("crash"));
    expect(error.code).toBe("PROCESS_EXITED");
    expect(error.message).toContain("exited unexpectedly");
    expect(error.message).toContain("code 3");
    const later = await failure(client.callTool("echo", { text: "x" }));
    expect(later.code).toBe("PROCESS_EXITED");
  });

  it("fails SPAWN_FAILED for a missing command", async () => {
    const transport = new StdioTransport({ command: "promenade-no-such-mcp-server" });
    const error = await failure(connectMcp(transport));
    expect(error.code).toBe("SPAWN_FAILED");
    expect(error.message).toContain('failed to spawn "promenade-no-such-mcp-server"');
    expect(error.message).toContain("ENOENT");
    expect(error.hint).toContain("PATH");
  });

  it("close() ends the process, rejects pending and later calls", async () => {
    const { client, transport } = await connected();
    const pid = transport.pid!;
    const pending = failure(client.callTool("hang"));
    await client.close();
    await client.close();
    expect((await pending).code).toBe("CLOSED");
    const later = await failure(client.callTool("echo", { text: "x" }));
    expect(later.code).toBe("CLOSED");
    expect(later.message).toContain("connection is closed");
    expect(isAlive(pid)).toBe(false);
  });

  it("escalates to SIGTERM when the server ignores stdin EOF", async () => {
    const { transport, client } = await connected({ IGNORE_STDIN_EOF: "1" });
    const pid = transport.pid!;
    await client.close();
    await eventually(() => !isAlive(pid), `server pid ${pid} to exit`);
  });

  it("escalates to SIGKILL when the server also ignores SIGTERM", async () => {
    const { transport, client } = await connected({ IGNORE_STDIN_EOF: "1", IGNORE_SIGTERM: "1" });
    const pid = transport.pid!;
    await client.close();
    await eventually(() => !isAlive(pid), `server pid ${pid} to exit`);
  });

  it("kills still-running servers when the host process exits", async () => {
    const host = spawn(
      process.execPath,
      [
        "--conditions=@promenade/source",
        fixturePath("exiting-host.ts"),
        fixturePath("stdio-server.ts"),
      ],
      // A hung host is killed, and the missing pid line below then fails the test clearly.
      { stdio: ["ignore", "pipe", "inherit"], timeout: 30_000 },
    );
    let output = "";
    host.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await new Promise((resolve) => host.on("exit", resolve));
    const pid = Number(/server-pid (\d+)/.exec(output)?.[1]);
    expect(pid).toBeGreaterThan(0);
    await eventually(() => !isAlive(pid), `server pid ${pid} to exit`);
  });
});
