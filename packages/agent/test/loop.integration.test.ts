/**
 * The agent() loop against a real local HTTP provider speaking the OpenAI wire format: event
 * order, tools, runaway, schema mode, skills, memory.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createFakeAgentHost,
  openAiText,
  openAiToolCalls,
  resolvedFor,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "../src/testing/index.ts";
import type { ToolDef } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

let provider: FakeProvider;
let workspace: { dir: string; cleanup(): void };

beforeEach(async () => {
  provider = await startFakeOpenAiProvider();
  workspace = tempDir();
});
afterEach(async () => {
  await provider.close();
  workspace.cleanup();
});

function fake(extra: { skillsDir?: string } = {}) {
  return createFakeAgentHost({
    workspaceDir: workspace.dir,
    resolve: resolvedFor(provider, { model: "gpt-4o-mini" }),
    ...extra,
  });
}

const double: ToolDef = {
  name: "double",
  description: "Doubles n.",
  inputSchema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
  execute: (input) => Promise.resolve((input as { n: number }).n * 2),
};

const body = (i: number) =>
  provider.requests[i]!.body as {
    messages: { role: string; content: unknown }[];
    tools?: unknown[];
  };

describe("agent() loop", () => {
  it("plain inference: resolves to the text with exactly six events under one turnId", async () => {
    provider.enqueue(openAiText("hello world", { input: 10, output: 5 }));
    const host = fake();
    await expect(host.agent("say hello")).resolves.toBe("hello world");
    expect(host.kinds()).toEqual([
      "turn_started",
      "text_start",
      "text_delta",
      "text_end",
      "model_call",
      "turn_ended",
    ]);
    const turnIds = new Set(host.events.map((e) => e.turnId));
    expect(turnIds.size).toBe(1);
    expect([...turnIds][0]).toMatch(/^turn-[0-9a-f-]{36}$/);
    expect(host.events.at(-2)!.body).toEqual({
      kind: "model_call",
      model: "gpt-4o-mini",
      provider: "fake",
      startedAt: expect.any(Number),
      endedAt: expect.any(Number),
      usage: { inputTokens: 10, outputTokens: 5 },
    });
    expect(host.events.at(-1)!.body).toEqual({
      kind: "turn_ended",
      agentId: "agent-1",
      reason: "complete",
      usage: { inputTokens: 10, outputTokens: 5 },
    });
    expect(host.events[2]!.body).toEqual({
      kind: "text_delta",
      blockId: "text-1",
      text: "hello world",
    });
    expect(host.usage).toEqual([
      { modelRef: "gpt-4o-mini", usage: { inputTokens: 10, outputTokens: 5 } },
    ]);
  });

  it("writes one model_call per request of the turn, with its own times and usage", async () => {
    provider.enqueue(
      openAiToolCalls([{ id: "call-1", name: "double", arguments: { n: 2 } }], {
        usage: { input: 30, output: 7, cached: 12 },
      }),
      openAiText("4", { input: 40, output: 6, reasoning: 3 }),
    );
    const host = fake();
    const before = Date.now();
    await expect(host.agent("double 2", { tools: [double] })).resolves.toBe("4");
    const after = Date.now();
    expect(host.events.at(-1)!.body.usage).toEqual({ inputTokens: 70, outputTokens: 13 });
    const calls = host.events
      .filter((e) => e.body.kind === "model_call")
      .map((e) => e.body as unknown as { startedAt: number; endedAt: number });
    expect(calls).toEqual([
      {
        kind: "model_call",
        model: "gpt-4o-mini",
        provider: "fake",
        startedAt: expect.any(Number),
        endedAt: expect.any(Number),
        usage: { inputTokens: 30, outputTokens: 7, cacheReadTokens: 12 },
      },
      {
        kind: "model_call",
        model: "gpt-4o-mini",
        provider: "fake",
        startedAt: expect.any(Number),
        endedAt: expect.any(Number),
        usage: { inputTokens: 40, outputTokens: 6, reasoningTokens: 3 },
      },
    ]);
    // The first request's record comes before its tool call runs.
    expect(host.kinds().indexOf("model_call")).toBeLessThan(
      host.kinds().indexOf("tool_call_start"),
    );
    const [first, second] = calls;
    // The second request starts after the first ended and the tool ran in between.
    expect(first!.startedAt).toBeGreaterThanOrEqual(before);
    expect(first!.endedAt).toBeGreaterThanOrEqual(first!.startedAt);
    expect(second!.startedAt).toBeGreaterThanOrEqual(first!.endedAt);
    expect(second!.endedAt).toBeLessThanOrEqual(after);
  });

  it("agentName appears iff name was set; the second call is agent-2", async () => {
    const host = fake();
    await host.agent("one", { name: "writer" });
    await host.agent("two", { name: "" });
    const ends = host.events.filter(
      (e) => e.body.kind === "turn_ended" || e.body.kind === "turn_started",
    );
    expect(ends.map((e) => [e.body.kind, e.body.agentId, e.body.agentName])).toEqual([
      ["turn_started", "agent-1", "writer"],
      ["turn_ended", "agent-1", "writer"],
      ["turn_started", "agent-2", undefined],
      ["turn_ended", "agent-2", undefined],
    ]);
    expect("agentName" in host.events.at(-1)!.body).toBe(false);
  });

  it("runs a program tool and feeds the result back with the call id", async () => {
    provider.enqueue(
      openAiToolCalls([{ id: "call-1", name: "double", arguments: { n: 21 } }]),
      openAiText("the answer is 42"),
    );
    const host = fake();
    await expect(host.agent("double 21", { tools: [double], builtins: "none" })).resolves.toBe(
      "the answer is 42",
    );
    expect(host.kinds()).toEqual([
      "turn_started",
      "model_call",
      "tool_call_start",
      "tool_call_input_complete",
      "tool_call_executing",
      "tool_call_result",
      "text_start",
      "text_delta",
      "text_end",
      "model_call",
      "turn_ended",
    ]);
    const second = body(1);
    expect(second.messages[1]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call-1", type: "function", function: { name: "double", arguments: '{"n":21}' } },
      ],
    });
    expect(second.messages[2]).toEqual({ role: "tool", tool_call_id: "call-1", content: "42" });
    expect(host.usage.map((u) => u.modelRef)).toEqual(["gpt-4o-mini", "gpt-4o-mini"]);
    expect(host.events[5]!.body).toEqual({
      kind: "tool_call_result",
      toolCallId: "call-1",
      result: { humanSummary: "42" },
    });
    expect(body(0).tools).toEqual([
      {
        type: "function",
        function: { name: "double", description: "Doubles n.", parameters: double.inputSchema },
      },
    ]);
  });

  it("reports a throwing tool to the model and keeps going", async () => {
    provider.enqueue(openAiToolCalls([{ id: "call-1", name: "flaky" }]), openAiText("recovered"));
    const host = fake();
    const flaky: ToolDef = {
      name: "flaky",
      description: "",
      inputSchema: {},
      execute: () => Promise.reject(new Error("upstream timed out")),
    };
    await expect(host.agent("go", { tools: [flaky] })).resolves.toBe("recovered");
    const error = host.events.find((e) => e.body.kind === "tool_call_error")!;
    expect(error.body).toEqual({
      kind: "tool_call_error",
      toolCallId: "call-1",
      error: { code: "PROGRAM_ERROR", message: "upstream timed out" },
    });
    expect(provider.requests[1]!.rawBody).toContain("Tool failed: upstream timed out");
  });

  it("keeps the engine code of a tool that throws an EngineError-shaped error", async () => {
    provider.enqueue(openAiToolCalls([{ id: "c1", name: "picky" }]), openAiText("ok"));
    const host = fake();
    const picky: ToolDef = {
      name: "picky",
      description: "",
      inputSchema: {},
      execute: () => Promise.reject(Object.assign(new Error("bad input"), { code: "VALIDATION" })),
    };
    await host.agent("go", { tools: [picky] });
    expect(host.events.find((e) => e.body.kind === "tool_call_error")!.body.error).toEqual({
      code: "VALIDATION",
      message: "bad input",
    });
  });

  it("answers an invented tool name with Unknown tool and no executing event", async () => {
    provider.enqueue(
      openAiToolCalls([{ id: "call-9", name: "imaginary", arguments: {} }]),
      openAiText("fine"),
    );
    const host = fake();
    await expect(host.agent("go", { tools: [double] })).resolves.toBe("fine");
    expect(host.kinds()).toEqual([
      "turn_started",
      "model_call",
      "tool_call_start",
      "tool_call_input_complete",
      "tool_call_error",
      "text_start",
      "text_delta",
      "text_end",
      "model_call",
      "turn_ended",
    ]);
    expect(host.events[4]!.body.error).toEqual({
      code: "VALIDATION",
      message: 'Unknown tool "imaginary".',
    });
    expect(provider.requests[1]!.rawBody).toContain('Unknown tool \\"imaginary\\".');
  });

  it("returns malformed tool arguments to the model as a tool-level VALIDATION error", async () => {
    provider.enqueue(
      openAiToolCalls([
        { id: "c1", name: "double", arguments: "{not json" },
        { id: "c2", name: "double", arguments: "[1,2]" },
        { id: "c3", name: "double", arguments: "   " },
      ]),
      openAiText("done"),
    );
    const seen: unknown[] = [];
    const host = fake();
    const spy: ToolDef = {
      ...double,
      execute: (input) => (seen.push(input), Promise.resolve("ran")),
    };
    await expect(host.agent("go", { tools: [spy] })).resolves.toBe("done");
    expect(host.kinds().slice(2, 10)).toEqual([
      "tool_call_start",
      "tool_call_error",
      "tool_call_start",
      "tool_call_error",
      "tool_call_start",
      "tool_call_input_complete",
      "tool_call_executing",
      "tool_call_result",
    ]);
    expect((host.events[3]!.body.error as { code: string; message: string }).message).toContain(
      "not a JSON object",
    );
    expect(seen).toEqual([{}]);
    const followUp = body(1)
      .messages.filter((m) => m.role === "tool")
      .map((m) => m.content);
    expect(followUp[0]).toContain("Tool failed:");
    expect(followUp[1]).toContain("not a JSON object");
    expect(followUp[2]).toBe("ran");
  });

  it("maxIterations: 2 with a model that always calls a tool: the third request has no tools and the leaf returns its text", async () => {
    provider.setSteady(
      openAiToolCalls([{ id: "c", name: "double", arguments: { n: 1 } }], {
        content: "stopping here",
      }),
    );
    let runs = 0;
    const counted: ToolDef = { ...double, execute: (input) => (runs++, double.execute(input)) };
    const host = fake();
    await expect(
      host.agent("loop", { tools: [counted], maxIterations: 2, builtins: "none" }),
    ).resolves.toBe("stopping here");
    expect(provider.requests).toHaveLength(3);
    expect(body(0).tools).toHaveLength(1);
    expect(body(1).tools).toHaveLength(1);
    expect(body(2)).not.toHaveProperty("tools");
    // The tool calls of the answer past the cap are never executed.
    expect(runs).toBe(2);
    expect(host.events.filter((e) => e.body.kind === "tool_call_result")).toHaveLength(2);
    expect(host.events.at(-1)!.body).toMatchObject({ kind: "turn_ended", reason: "complete" });
    // The tool results of the second turn are in the last request's history.
    expect(body(2).messages.filter((m) => m.role === "tool")).toHaveLength(2);
  });

  it("without maxIterations, 500 tool turns are offered and request 501 is sent with no tools", async () => {
    provider.setSteady(
      openAiToolCalls([{ id: "c", name: "double", arguments: { n: 1 } }], { content: "enough" }),
    );
    const host = fake();
    await expect(host.agent("loop", { tools: [double], builtins: "none" })).resolves.toBe("enough");
    expect(provider.requests).toHaveLength(501);
    expect(body(499).tools).toHaveLength(1);
    expect(body(500)).not.toHaveProperty("tools");
    expect(host.events.filter((e) => e.body.kind === "tool_call_result")).toHaveLength(500);
  });

  it("maxIterations: 1 gives one tool turn, then a tool-free request", async () => {
    provider.enqueue(
      openAiToolCalls([{ id: "c", name: "double", arguments: { n: 4 } }]),
      openAiText("8"),
    );
    const host = fake();
    await expect(
      host.agent("go", { tools: [double], maxIterations: 1, builtins: "none" }),
    ).resolves.toBe("8");
    expect(body(0).tools).toHaveLength(1);
    expect(body(1)).not.toHaveProperty("tools");
  });

  it("ignores a maxIterations that is not a positive integer (the default cap applies)", async () => {
    for (const maxIterations of [0, -3, 1.5, Number.NaN]) {
      provider.enqueue(
        openAiToolCalls([{ id: "c", name: "double", arguments: { n: 1 } }]),
        openAiToolCalls([{ id: "d", name: "double", arguments: { n: 2 } }]),
        openAiText("done"),
      );
      const before = provider.requests.length;
      const host = fake();
      await expect(
        host.agent("go", { tools: [double], maxIterations, builtins: "none" }),
      ).resolves.toBe("done");
      const sent = provider.requests.slice(before).map((r) => r.body as { tools?: unknown[] });
      expect(sent.map((b) => b.tools?.length)).toEqual([1, 1, 1]);
    }
  });

  it("runs parallel tool calls sequentially and returns both results in order", async () => {
    const order: string[] = [];
    const slow: ToolDef = {
      name: "slow",
      description: "",
      inputSchema: {},
      execute: async () => {
        order.push("slow:start");
        await new Promise((r) => setTimeout(r, 20));
        order.push("slow:end");
        return "slow done";
      },
    };
    const fast: ToolDef = {
      name: "fast",
      description: "",
      inputSchema: {},
      execute: () => (order.push("fast"), Promise.resolve("fast done")),
    };
    provider.enqueue(
      openAiToolCalls([
        { id: "a", name: "slow" },
        { id: "b", name: "fast" },
      ]),
      openAiText("both"),
    );
    const host = fake();
    await host.agent("go", { tools: [slow, fast] });
    expect(order).toEqual(["slow:start", "slow:end", "fast"]);
    const ids = host.events
      .filter((e) => e.body.kind.startsWith("tool_call"))
      .map((e) => `${e.body.kind}:${String(e.body.toolCallId)}`);
    expect(ids.indexOf("tool_call_result:a")).toBeLessThan(ids.indexOf("tool_call_start:b"));
    expect(body(1).messages.slice(2)).toEqual([
      { role: "tool", tool_call_id: "a", content: "slow done" },
      { role: "tool", tool_call_id: "b", content: "fast done" },
    ]);
  });

  it("rejects duplicate tool names before any provider request", async () => {
    const host = fake();
    const cases = [
      { tools: [double, double] },
      { tools: [{ ...double, name: "memory_read" }], memory: "mem" },
    ];
    for (const opts of cases) {
      const err = await host.agent("x", opts).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "VALIDATION" });
      expect((err as Error).message).toContain("Duplicate tool name");
    }
    expect(provider.requests).toHaveLength(0);
    expect(host.events).toHaveLength(0);
  });

  it("rejects strings in tools with no turn events: a built-in name points at builtins, any other is UNSUPPORTED", async () => {
    const host = fake();
    const builtin = await host.agent("x", { tools: ["bash"] }).catch((e: unknown) => e);
    expect(builtin).toMatchObject({ code: "VALIDATION" });
    expect((builtin as Error).message).toContain('"bash"');
    expect((builtin as Error).message).toContain("in `tools`");
    const other = await host.agent("x", { tools: ["made_up"] }).catch((e: unknown) => e);
    expect(other).toMatchObject({ code: "UNSUPPORTED" });
    expect((other as Error).message).toContain("made_up");
    expect((other as Error).message).toContain("not available on this engine");
    expect(provider.requests).toHaveLength(0);
    expect(host.events).toHaveLength(0);
  });

  it("rejects an empty tool name and a ToolDef without execute with VALIDATION", async () => {
    const host = fake();
    await expect(host.agent("x", { tools: [{ ...double, name: "" }] })).rejects.toMatchObject({
      code: "VALIDATION",
    });
    await expect(
      host.agent("x", { tools: [{ name: "t", description: "" } as unknown as ToolDef] }),
    ).rejects.toMatchObject({ code: "VALIDATION" });
    expect(provider.requests).toHaveLength(0);
  });

  it("defaults a ToolDef's missing description and inputSchema", async () => {
    const host = fake();
    await host.agent("x", {
      tools: [{ name: "bare", execute: () => Promise.resolve(null) }],
      builtins: "none",
    });
    expect(body(0).tools).toEqual([
      {
        type: "function",
        function: { name: "bare", description: "", parameters: { type: "object" } },
      },
    ]);
  });
});

describe("resolution", () => {
  it("rejects with the host's resolution error, after memoryUsed, with no turn events", async () => {
    const host = createFakeAgentHost({
      workspaceDir: workspace.dir,
      resolve: () => {
        throw Object.assign(new Error("no provider"), { code: "MODEL_UNRESOLVED" });
      },
    });
    const err = await host
      .agent("x", { memory: "mem", model: "m1", provider: "p1" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "MODEL_UNRESOLVED", message: "no provider" });
    expect(host.memoryUsed).toEqual(["mem"]);
    expect(host.resolveCalls).toEqual([{ model: "m1", provider: "p1" }]);
    expect(host.events).toHaveLength(0);
  });

  it("rejects empty model/provider strings with VALIDATION before resolving", async () => {
    const host = fake();
    await expect(host.agent("x", { model: "" })).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(host.agent("x", { provider: "" })).rejects.toMatchObject({ code: "VALIDATION" });
    expect(host.resolveCalls).toEqual([]);
  });

  it("rejects a malformed ResolvedModel from the host with INTERNAL", async () => {
    const host = createFakeAgentHost({
      workspaceDir: workspace.dir,
      resolve: () => ({ provider: "", model: "m" }) as never,
    });
    await expect(host.agent("x")).rejects.toMatchObject({ code: "INTERNAL" });
  });
});

describe("schema mode", () => {
  const schema = {
    type: "object",
    properties: { groups: { type: "array", items: { type: "number" } } },
    required: ["groups"],
  };

  it("sends the instruction and parses a fenced answer", async () => {
    provider.enqueue(openAiText('```json\n{"groups":[1,2]}\n```'));
    const host = fake();
    await expect(host.agent("group them", { schema })).resolves.toEqual({ groups: [1, 2] });
    const first = body(0).messages[0]!.content as string;
    expect(first).toContain("JSON Schema");
    expect(first).toContain(JSON.stringify(schema));
    expect(first.startsWith("group them\n\n")).toBe(true);
  });

  it("rejects prose with not valid JSON after a complete turn_ended", async () => {
    provider.enqueue(openAiText("Sure! Here are the groups."));
    const host = fake();
    const err = await host.agent("x", { schema }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "VALIDATION" });
    expect((err as Error).message).toContain("not valid JSON");
    expect((err as { hint: string }).hint).toContain('"Sure! Here are the groups."');
    expect(host.events.at(-1)!.body).toMatchObject({ kind: "turn_ended", reason: "complete" });
  });

  it("rejects a well-formed answer that misses a required property", async () => {
    provider.enqueue(openAiText('{"other":true}'));
    const host = fake();
    const err = await host.agent("x", { schema }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "VALIDATION" });
    expect((err as Error).message).toContain("does not match the schema");
  });

  it("names the failing instance path and follows local $defs refs", async () => {
    provider.enqueue(openAiText('{"items":[{"n":1},{"n":"two"}]}'));
    const host = fake();
    const withRef = {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: { items: { type: "array", items: { $ref: "#/$defs/item" } } },
      $defs: { item: { type: "object", properties: { n: { type: "number" } } } },
    };
    const err = await host.agent("x", { schema: withRef }).catch((e: unknown) => e);
    expect((err as Error).message).toContain("does not match the schema");
    expect((err as Error).message).toContain("/items/1/n");
  });

  it("resolves to any JSON value, not only objects", async () => {
    provider.enqueue(openAiText("[1,2,3]"));
    await expect(fake().agent("x", { schema: { type: "array" } })).resolves.toEqual([1, 2, 3]);
  });
});

describe("skills", () => {
  it("puts the skill block before the prompt", async () => {
    const skills = join(workspace.dir, "skills");
    mkdirSync(skills);
    writeFileSync(join(skills, "reviewer.md"), "Review carefully.");
    const host = fake({ skillsDir: skills });
    await host.agent("review this", { skills: ["reviewer"] });
    expect(body(0).messages[0]!.content).toBe(
      '<skill name="reviewer">\nReview carefully.\n</skill>\n\nreview this',
    );
  });

  it("rejects an undeployed skill and a bad name before any request", async () => {
    const host = fake({ skillsDir: workspace.dir });
    const ghost = await host.agent("x", { skills: ["ghost"] }).catch((e: unknown) => e);
    expect(ghost).toMatchObject({ code: "VALIDATION" });
    expect((ghost as Error).message).toContain("skills/ghost.md");
    await expect(host.agent("x", { skills: ["../etc/passwd"] })).rejects.toMatchObject({
      code: "VALIDATION",
    });
    await expect(fake().agent("x", { skills: ["any"] })).rejects.toMatchObject({
      code: "VALIDATION",
    });
    expect(provider.requests).toHaveLength(0);
  });
});

describe("memory", () => {
  it("reports the dir once, offers the tools, lists an empty memory and writes files", async () => {
    provider.enqueue(
      openAiToolCalls([
        { id: "w1", name: "memory_write", arguments: { path: "notes.md", content: "remember me" } },
      ]),
      openAiText("saved"),
    );
    const host = fake();
    await host.agent("remember", { memory: "mem/agent-a", builtins: "none" });
    expect(host.memoryUsed).toEqual(["mem/agent-a"]);
    expect((body(0).tools as { function: { name: string } }[]).map((t) => t.function.name)).toEqual(
      ["memory_list", "memory_read", "memory_write"],
    );
    expect(body(0).messages[0]!.content).toContain("(memory is empty)");
    expect(readFileSync(join(workspace.dir, "mem/agent-a/notes.md"), "utf8")).toBe("remember me");
    expect(body(1).messages[2]).toEqual({
      role: "tool",
      tool_call_id: "w1",
      content: "wrote notes.md (11 chars)",
    });
  });

  it("loads the index and listing into the first message and reads files", async () => {
    const mem = join(workspace.dir, "mem");
    mkdirSync(join(mem, "sub"), { recursive: true });
    writeFileSync(join(mem, "index.md"), "Catalog: one note so far.");
    writeFileSync(join(mem, "old-note.md"), "previous run wrote this");
    writeFileSync(join(mem, "sub", "deep.txt"), "x");
    provider.enqueue(
      openAiToolCalls([
        { id: "r1", name: "memory_read", arguments: { path: "old-note.md" } },
        { id: "r2", name: "memory_read", arguments: { path: "missing.md" } },
        { id: "l1", name: "memory_list", arguments: {} },
      ]),
      openAiText("ok"),
    );
    const host = fake();
    await host.agent("recall", { memory: "mem" });
    const first = body(0).messages[0]!.content as string;
    expect(first).toBe(
      [
        '<memory dir="mem">',
        "Files:",
        "index.md (25 bytes)\nold-note.md (23 bytes)\nsub/deep.txt (1 bytes)",
        "index.md:",
        "Catalog: one note so far.",
        "Use memory_list, memory_read and memory_write to consult and update this memory; it persists across runs.",
        "</memory>",
      ].join("\n") + "\n\nrecall",
    );
    const results = body(1)
      .messages.filter((m) => m.role === "tool")
      .map((m) => m.content);
    expect(results).toEqual([
      "previous run wrote this",
      "(no such memory file: missing.md)",
      "index.md (25 bytes)\nold-note.md (23 bytes)\nsub/deep.txt (1 bytes)",
    ]);
  });

  it("rejects paths escaping the memory dir, lexically and through a symlink", async () => {
    const outside = join(workspace.dir, "outside");
    mkdirSync(outside);
    mkdirSync(join(workspace.dir, "mem"));
    symlinkSync(outside, join(workspace.dir, "mem", "link"));
    provider.enqueue(
      openAiToolCalls([
        { id: "e1", name: "memory_write", arguments: { path: "../../escape.txt", content: "x" } },
        { id: "e2", name: "memory_write", arguments: { path: "link/evil.txt", content: "x" } },
        { id: "e3", name: "memory_read", arguments: { path: "" } },
      ]),
      openAiText("ok"),
    );
    const host = fake();
    await host.agent("escape", { memory: "mem" });
    const errors = host.events
      .filter((e) => e.body.kind === "tool_call_error")
      .map((e) => e.body.error as { code: string; message: string });
    expect(errors).toHaveLength(3);
    expect(errors[0]!.message).toContain("escapes the memory directory");
    expect(errors[1]!.message).toContain("escapes the memory directory");
    expect(errors.every((e) => e.code === "VALIDATION")).toBe(true);
    expect(existsSync(join(workspace.dir, "..", "escape.txt"))).toBe(false);
    expect(existsSync(join(outside, "evil.txt"))).toBe(false);
  });

  it("rejects memory paths outside the workspace before any model call", async () => {
    const host = fake();
    for (const memory of ["../up", "/absolute", "a/../b", "a\\b", ".", "", "a/./b"]) {
      const err = await host.agent("x", { memory }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "VALIDATION" });
      expect((err as Error).message).toContain("memory");
      expect((err as Error).message).toContain("workspace-relative directory");
    }
    expect(provider.requests).toHaveLength(0);
    expect(host.memoryUsed).toEqual([]);
    expect(host.resolveCalls).toEqual([]);
  });
});
