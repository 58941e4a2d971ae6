/**
 * The agent's built-in tools and `subagent` through a real engine and run process, with a fake
 * OpenAI-compatible provider on a local HTTP port: on by default, confined to the run workspace,
 * a subagent drawing the next agent id of the run process, and the operator's ceiling.
 */
import { openAiText, openAiToolCalls, startFakeOpenAiProvider } from "@promenade/agent/testing";
import type { FakeProvider } from "@promenade/agent/testing";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine } from "../src/index.ts";
import { deployManual, localInference, makeEngine, runToEnd, tempDir } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let engine: Engine | undefined;
let provider: FakeProvider;

beforeEach(async () => {
  dir = tempDir();
  provider = await startFakeOpenAiProvider();
});

afterEach(async () => {
  await engine?.closeGracefully({ childGraceMs: 500 });
  engine = undefined;
  await provider.close();
  dir.cleanup();
});

function open(builtins?: "all" | "read-only" | "none", webSearchUrl?: string): Engine {
  ({ engine } = makeEngine(dir.path, {
    inference: localInference(provider.baseUrl),
    ...(builtins === undefined ? {} : { builtins }),
    ...(webSearchUrl === undefined ? {} : { webSearchUrl }),
  }));
  return engine;
}

/** A local search backend: answers `GET /search?q=&limit=` and records each query. */
async function startSearchBackend(): Promise<{
  url: string;
  queries: URLSearchParams[];
  close(): Promise<void>;
}> {
  const queries: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    queries.push(url.searchParams);
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({
        results: [
          { title: "Promenade docs", url: "https://example.test/docs", snippet: "How to run" },
          { title: "No snippet", url: "https://example.test/bare" },
          { nope: true },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/search?key=backend-key`,
    queries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

type Body = {
  messages: { role: string; content: string | null; tool_call_id?: string }[];
  tools?: { function: { name: string } }[];
};
const body = (i: number) => provider.requests[i]!.body as Body;
const toolNames = (i: number) => (body(i).tools ?? []).map((t) => t.function.name);

const WRITE_THEN_ASK = [
  'const { writeFileSync } = await import("node:fs");',
  'writeFileSync("notes.txt", "written by the program");',
  'output(await agent("summarize notes.txt"));',
].join("\n");

describe("built-in tools through the engine", () => {
  it("are offered by default; read sees the program's file; a subagent is agent-2 without subagent", async () => {
    const e = open();
    provider.enqueue(
      openAiToolCalls([
        { id: "r1", name: "read", arguments: { path: "notes.txt" } },
        { id: "x1", name: "read", arguments: { path: "../../etc/passwd" } },
      ]),
      openAiToolCalls([
        { id: "s1", name: "subagent", arguments: { prompt: "help", name: "aide" } },
      ]),
      openAiText("child answer"),
      openAiText("all done"),
    );
    deployManual(e, ["agent", "output"], "builtins", WRITE_THEN_ASK);
    const done = await runToEnd(e, "builtins");
    expect(done.status).toBe("completed");
    expect(done.output).toBe("all done");
    expect(toolNames(0)).toEqual(expect.arrayContaining(["read", "write", "bash", "subagent"]));
    const results = body(1).messages.filter((m) => m.role === "tool");
    expect(results.map((m) => m.content)).toEqual([
      "written by the program",
      expect.stringContaining("outside the working directory"),
    ]);
    expect(toolNames(2)).toContain("read");
    expect(provider.requests[2]!.rawBody).not.toContain('"subagent"');
    expect(body(3).messages.find((m) => m.tool_call_id === "s1")?.content).toBe("child answer");
    const events = e.store.listEvents(done.id).map((row) => row.event);
    expect(events.filter((ev) => ev.kind === "turn_ended")).toEqual([
      expect.objectContaining({ agentId: "agent-2", agentName: "aide", reason: "complete" }),
      expect.objectContaining({ agentId: "agent-1", reason: "complete" }),
    ]);
    // The child's model call counts toward the run's usage like the parent's.
    expect(events.filter((ev) => ev.kind === "model_call")).toHaveLength(4);
  });

  it('the operator ceiling "none" removes every built-in; an explicit name outside it fails UNSUPPORTED', async () => {
    const e = open("none");
    provider.enqueue(openAiText("no tools here"));
    deployManual(e, ["agent", "output"], "plain", 'output(await agent("hi"));');
    const plain = await runToEnd(e, "plain");
    expect(plain.status).toBe("completed");
    expect(body(0).tools).toBeUndefined();
    deployManual(
      e,
      ["agent", "output"],
      "explicit",
      'output(await agent("hi", { builtins: ["bash"] }));',
    );
    const refused = await runToEnd(e, "explicit");
    expect(refused.status).toBe("failed");
    expect(refused.error).toMatchObject({ code: "UNSUPPORTED" });
    expect(refused.error?.message).toContain('"bash"');
    expect(provider.requests).toHaveLength(1);
  });

  it('the operator ceiling "read-only" leaves no "write" or "bash" in the request', async () => {
    const e = open("read-only");
    provider.enqueue(openAiText("looked"));
    deployManual(e, ["agent", "output"], "ro", 'output(await agent("look"));');
    expect((await runToEnd(e, "ro")).status).toBe("completed");
    expect(provider.requests[0]!.rawBody).toContain('"read"');
    expect(provider.requests[0]!.rawBody).not.toContain('"write"');
    expect(provider.requests[0]!.rawBody).not.toContain('"bash"');
  });

  it("artifacts writes through the run's artifact store and reads the artifact back", async () => {
    const e = open();
    provider.enqueue(
      openAiToolCalls([
        {
          id: "w1",
          name: "artifacts",
          arguments: { action: "write", name: "plan.md", content: "# Plan\nstep one" },
        },
      ]),
      openAiToolCalls([
        { id: "r1", name: "artifacts", arguments: { action: "read", name: "plan.md" } },
        { id: "r2", name: "artifacts", arguments: { action: "read", name: "missing.md" } },
        {
          id: "w2",
          name: "artifacts",
          arguments: { action: "write", name: "../x", content: "no" },
        },
      ]),
      openAiText("saved and read"),
    );
    deployManual(e, ["agent", "output"], "keeper", 'output(await agent("keep a plan"));');
    const done = await runToEnd(e, "keeper");
    expect(done.status).toBe("completed");
    expect(done.output).toBe("saved and read");
    expect(toolNames(0)).toContain("artifacts");
    expect(body(1).messages.find((m) => m.tool_call_id === "w1")?.content).toContain(
      'Saved artifact "plan.md"',
    );
    const results = body(2)
      .messages.filter((m) => m.role === "tool")
      .slice(1);
    expect(results.map((m) => [m.tool_call_id, m.content])).toEqual([
      ["r1", "# Plan\nstep one"],
      ["r2", expect.stringContaining('No artifact named "missing.md"')],
      ["w2", expect.stringContaining("must be a plain file name")],
    ]);
    const artifacts = e.store.listArtifacts(done.id);
    expect(artifacts).toEqual([
      expect.objectContaining({ name: "plan.md", contentType: "text/plain", size: 15 }),
    ]);
  });

  it("bash streams its output live as tool_output_delta events, stored before the result", async () => {
    const e = open();
    provider.enqueue(
      openAiToolCalls([
        {
          id: "b1",
          name: "bash",
          arguments: {
            command: "echo first; while [ ! -e go ]; do sleep 0.02; done; echo second",
          },
        },
      ]),
      openAiText("streamed"),
    );
    deployManual(e, ["agent", "output"], "streamer", 'output(await agent("run it"));');
    const { id } = e.startRun("streamer");
    const deltas = () =>
      e.store
        .listEvents(id, { channels: ["agent"] })
        .flatMap((row) => (row.event.kind === "tool_output_delta" ? [row.event] : []));
    // The second burst is printed only once the first one is stored.
    const end = Date.now() + 20_000;
    while (!deltas().some((delta) => delta.text.includes("first"))) {
      if (Date.now() > end) throw new Error("the first burst was never stored");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    writeFileSync(join(dir.path, "runs", id, "workspace", "go"), "");
    const done = await e.waitForRun(id);
    expect(done.output).toBe("streamed");
    const all = deltas();
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.map((delta) => [delta.toolCallId, delta.stream])).toEqual(
      all.map(() => ["b1", "stdout"]),
    );
    expect(all.map((delta) => delta.text).join("")).toBe("first\nsecond\n");
    const kinds = e.store.listEvents(id).map((row) => row.event.kind);
    expect(kinds.lastIndexOf("tool_output_delta")).toBeLessThan(kinds.indexOf("tool_call_result"));
  });

  it("web_search is advertised only with a backend, also under read-only, and queries it from the engine", async () => {
    const backend = await startSearchBackend();
    try {
      const plain = open();
      provider.enqueue(openAiText("no search"));
      deployManual(plain, ["agent", "output"], "plain", 'output(await agent("hi"));');
      expect((await runToEnd(plain, "plain")).status).toBe("completed");
      expect(provider.requests[0]!.rawBody).not.toContain("web_search");
      await plain.closeGracefully({ childGraceMs: 500 });

      const e = open("read-only", backend.url);
      provider.enqueue(
        openAiToolCalls([
          { id: "q1", name: "web_search", arguments: { query: "promenade engine", limit: 3 } },
        ]),
        openAiText("found"),
      );
      deployManual(e, ["agent", "output"], "search", 'output(await agent("look it up"));');
      const done = await runToEnd(e, "search");
      expect(done.output).toBe("found");
      expect(toolNames(1)).toContain("web_search");
      expect(backend.queries.map((q) => [q.get("q"), q.get("limit"), q.get("key")])).toEqual([
        ["promenade engine", "3", "backend-key"],
      ]);
      expect(body(2).messages.find((m) => m.tool_call_id === "q1")?.content).toBe(
        [
          "1. Promenade docs",
          "   https://example.test/docs",
          "   How to run",
          "2. No snippet",
          "   https://example.test/bare",
        ].join("\n"),
      );
      // The backend URL (and its key) stays in the engine process.
      expect(provider.requests.map((r) => r.rawBody).join("")).not.toContain("backend-key");
    } finally {
      await backend.close();
    }
  });

  it("rejects an unknown builtins ceiling at construction", () => {
    expect(() => open("some" as "all")).toThrow(/builtins/);
  });
});
