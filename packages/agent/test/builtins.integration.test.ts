/**
 * Built-in tools, `subagent`, folder skills and AGENTS.md in the agent loop, against a real
 * local HTTP provider speaking the OpenAI wire format.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createFakeAgentHost,
  openAiText,
  openAiToolCalls,
  resolvedFor,
  startFakeOpenAiProvider,
  type FakeAgentHostOptions,
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

function fake(extra: Partial<FakeAgentHostOptions> = {}) {
  return createFakeAgentHost({
    workspaceDir: workspace.dir,
    resolve: resolvedFor(provider, { model: "gpt-4o-mini" }),
    ...extra,
  });
}

type Body = {
  messages: { role: string; content: string | null; tool_call_id?: string }[];
  tools?: { function: { name: string } }[];
};
const body = (i: number) => provider.requests[i]!.body as Body;
const toolNames = (i: number) => (body(i).tools ?? []).map((t) => t.function.name);
const firstMessage = (i: number) => body(i).messages[0]!.content!;
const toolReply = (i: number, id: string) =>
  body(i).messages.find((m) => m.role === "tool" && m.tool_call_id === id)?.content;

describe("built-in tools in the loop", () => {
  it("are on by default: a plain agent() offers read, write, bash and subagent", async () => {
    provider.enqueue(openAiText("hi"));
    await fake().agent("hello");
    expect(toolNames(0)).toEqual([
      "read",
      "write",
      "edit",
      "ls",
      "grep",
      "glob",
      "bash",
      "apply_patch",
      "diagnostics",
      "clock",
      "todo",
      "webfetch",
      "http",
      "subagent",
      "run_code",
    ]);
  });

  it("read of a program-written file reaches the next request; write lands on disk", async () => {
    writeFileSync(join(workspace.dir, "notes.txt"), "the program wrote this");
    provider.enqueue(
      openAiToolCalls([
        { id: "r1", name: "read", arguments: { path: "notes.txt" } },
        { id: "w1", name: "write", arguments: { path: "lib.ts", content: "export {};\n" } },
      ]),
      openAiText("done"),
    );
    const host = fake();
    await expect(host.agent("go")).resolves.toBe("done");
    expect(toolReply(1, "r1")).toBe("the program wrote this");
    expect(toolReply(1, "w1")).toBe("Wrote lib.ts (11 bytes).");
    expect(readFileSync(join(workspace.dir, "lib.ts"), "utf8")).toBe("export {};\n");
    expect(host.events.map((e) => e.body)).toContainEqual({
      kind: "tool_call_result",
      toolCallId: "r1",
      result: { humanSummary: "the program wrote this" },
    });
  });

  it("file tools refuse ../x and outside absolute paths with a tool error, not a run failure", async () => {
    provider.enqueue(
      openAiToolCalls([
        { id: "a", name: "read", arguments: { path: "../x" } },
        { id: "b", name: "write", arguments: { path: "/tmp/promenade-escape.txt", content: "x" } },
      ]),
      openAiText("refused"),
    );
    const host = fake();
    await expect(host.agent("go")).resolves.toBe("refused");
    expect(toolReply(1, "a")).toMatch(
      /^Tool failed: Path "\.\.\/x" is outside the working directory/,
    );
    expect(toolReply(1, "b")).toMatch(/outside the working directory/);
    const errors = host.events.filter((e) => e.body.kind === "tool_call_error");
    expect(errors.map((e) => (e.body.error as { code: string }).code)).toEqual([
      "VALIDATION",
      "VALIDATION",
    ]);
  });

  it('"read-only" advertises no "write" or "bash" string at all', async () => {
    provider.enqueue(openAiText("ok"));
    await fake().agent("look", { builtins: "read-only" });
    const raw = provider.requests[0]!.rawBody;
    expect(raw).toContain('"read"');
    expect(raw).not.toContain('"write"');
    expect(raw).not.toContain('"bash"');
    expect(raw).not.toContain('"subagent"');
    expect(raw).not.toContain('"run_code"');
    expect(toolNames(0)).toEqual([
      "read",
      "ls",
      "grep",
      "glob",
      "diagnostics",
      "clock",
      "todo",
      "webfetch",
    ]);
  });

  it("an array picks exactly those; none offers nothing", async () => {
    provider.enqueue(openAiText("a"), openAiText("b"));
    const host = fake();
    await host.agent("x", { builtins: ["bash", "read"] });
    await host.agent("y", { builtins: "none" });
    expect(toolNames(0)).toEqual(["read", "bash"]);
    expect(body(1).tools).toBeUndefined();
  });

  it("rejects unknown names (UNSUPPORTED) and malformed values (VALIDATION) before any request", async () => {
    const host = fake();
    const unknown = await host.agent("x", { builtins: ["no_such_tool"] }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: "UNSUPPORTED" });
    expect((unknown as Error).message).toContain("no_such_tool");
    expect((unknown as Error).message).toContain("not available on this engine");
    const bare = await host
      .agent("x", { builtins: "bash" as unknown as "all" })
      .catch((e: unknown) => e);
    expect(bare).toMatchObject({ code: "VALIDATION" });
    expect((bare as Error).message).toContain("builtins");
    expect((bare as { hint?: string }).hint).toContain('builtins: ["bash"]');
    await expect(
      host.agent("x", { builtins: { read: true } as unknown as "all" }),
    ).rejects.toMatchObject({ code: "VALIDATION" });
    const clash: ToolDef = { name: "read", execute: () => Promise.resolve("mine") };
    const dup = await host.agent("x", { tools: [clash] }).catch((e: unknown) => e);
    expect(dup).toMatchObject({ code: "VALIDATION" });
    expect((dup as Error).message).toContain("Duplicate tool name");
    expect(provider.requests).toHaveLength(0);
    expect(host.events).toHaveLength(0);
  });

  it("the operator ceiling narrows the selection and refuses explicit names outside it", async () => {
    provider.enqueue(openAiText("a"), openAiText("b"));
    await fake({ builtinsCeiling: "none" }).agent("x");
    expect(body(0).tools).toBeUndefined();
    await fake({ builtinsCeiling: "read-only" }).agent("y");
    expect(toolNames(1)).not.toContain("write");
    expect(toolNames(1)).toContain("read");
    const err = await fake({ builtinsCeiling: "read-only" })
      .agent("z", { builtins: ["bash"] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "UNSUPPORTED" });
    expect((err as Error).message).toContain('"bash"');
  });

  it("cwd makes read resolve below it; a cwd outside the workspace fails before any request", async () => {
    mkdirSync(join(workspace.dir, "repo"));
    writeFileSync(join(workspace.dir, "repo", "a.txt"), "inside repo");
    writeFileSync(join(workspace.dir, "a.txt"), "at the root");
    provider.enqueue(
      openAiToolCalls([{ id: "r", name: "read", arguments: { path: "a.txt" } }]),
      openAiText("ok"),
    );
    const host = fake();
    await host.agent("go", { cwd: "repo" });
    expect(toolReply(1, "r")).toBe("inside repo");
    for (const cwd of ["../x", "missing", "a.txt"]) {
      const err = await host.agent("go", { cwd }).catch((e: unknown) => e);
      expect(err, cwd).toMatchObject({ code: "VALIDATION" });
      expect((err as Error).message).toContain("cwd");
    }
    expect(provider.requests).toHaveLength(2);
  });
});

describe("subagent", () => {
  it("runs a child leaf: offered read but never subagent; its answer reaches the parent", async () => {
    provider.enqueue(
      openAiToolCalls([{ id: "s1", name: "subagent", arguments: { prompt: "dig", name: "aide" } }]),
      openAiText("child found it"),
      openAiText("parent done"),
    );
    const host = fake();
    await expect(host.agent("delegate")).resolves.toBe("parent done");
    expect(toolNames(0)).toContain("subagent");
    expect(firstMessage(1)).toBe("dig");
    expect(toolNames(1)).toContain("read");
    expect(provider.requests[1]!.rawBody).not.toContain('"subagent"');
    expect(toolReply(2, "s1")).toBe("child found it");
    const ended = host.events.filter((e) => e.body.kind === "turn_ended").map((e) => e.body);
    expect(ended).toContainEqual(
      expect.objectContaining({ agentId: "agent-2", agentName: "aide", reason: "complete" }),
    );
    expect(host.events.filter((e) => e.body.kind === "turn_started").map((e) => e.body)).toEqual([
      { kind: "turn_started", agentId: "agent-1" },
      { kind: "turn_started", agentId: "agent-2", agentName: "aide" },
    ]);
    // The child's model call is recorded like any other (the run's budgets count it).
    expect(host.usage).toHaveLength(3);
  });

  it("grants a subset, refuses tools outside the parent's set, and never grants human_input", async () => {
    const double: ToolDef = {
      name: "double",
      inputSchema: { type: "object" },
      execute: (input) => Promise.resolve((input as { n: number }).n * 2),
    };
    provider.enqueue(
      openAiToolCalls([
        { id: "bad", name: "subagent", arguments: { prompt: "x", tools: ["bash", "memory_read"] } },
        { id: "ok", name: "subagent", arguments: { prompt: "y", tools: ["double", "read"] } },
      ]),
      openAiText("child answer"),
      openAiText("done"),
    );
    const host = fake({ humanInput: () => Promise.resolve({ value: "never" }) });
    await host.agent("go", { builtins: ["read", "subagent"], tools: [double], humanInput: true });
    expect(toolNames(0)).toEqual(["double", "human_input", "read", "subagent"]);
    expect(toolNames(1)).toEqual(["double", "read"]);
    expect(toolReply(2, "bad")).toMatch(
      /Cannot grant "bash", "memory_read".*grantable tools: read, double/,
    );
    expect(toolReply(2, "ok")).toBe("child answer");
  });

  it("runs several subagent calls of one turn concurrently", async () => {
    let inFlight = 0;
    let peak = 0;
    const slow: ToolDef = {
      name: "slow",
      execute: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((done) => setTimeout(done, 200));
        inFlight--;
        return "slept";
      },
    };
    provider.enqueue(
      openAiToolCalls([
        { id: "s1", name: "subagent", arguments: { prompt: "one" } },
        { id: "s2", name: "subagent", arguments: { prompt: "two" } },
      ]),
      openAiToolCalls([{ id: "c1", name: "slow" }]),
      openAiToolCalls([{ id: "c2", name: "slow" }]),
      openAiText("a"),
      openAiText("b"),
      openAiText("done"),
    );
    await fake().agent("go", { builtins: ["subagent"], tools: [slow] });
    expect(peak).toBe(2);
    expect(toolReply(5, "s1")).toMatch(/^[ab]$/);
    expect(toolReply(5, "s2")).toMatch(/^[ab]$/);
  });
});

describe("folder skills and AGENTS.md", () => {
  function deploySkills(): string {
    const skillsDir = join(workspace.dir, "..", `${workspace.dir.split("/").pop()}-skills`);
    mkdirSync(join(skillsDir, "triage", "refs"), { recursive: true });
    writeFileSync(
      join(skillsDir, "triage", "SKILL.md"),
      "---\nname: triage\ndescription: How to triage a bug\n---\n# Triage\nStep one: reproduce it.\n",
    );
    writeFileSync(join(skillsDir, "triage", "refs", "labels.md"), "bug, feature, question");
    writeFileSync(join(skillsDir, "style.md"), "Write short sentences.");
    return skillsDir;
  }

  it("lists a folder skill by description, loads its body through the skill tool", async () => {
    const skillsDir = deploySkills();
    provider.enqueue(
      openAiToolCalls([{ id: "k1", name: "skill", arguments: { name: "triage" } }]),
      openAiToolCalls([
        { id: "k2", name: "skill", arguments: { name: "triage", file: "refs/labels.md" } },
        { id: "k3", name: "skill", arguments: { name: "triage", file: "../style.md" } },
      ]),
      openAiText("triaged"),
    );
    await fake({ skillsDir }).agent("triage this", {
      skills: ["style", "triage"],
      builtins: "none",
    });
    const first = firstMessage(0);
    expect(first).toContain("- triage: How to triage a bug");
    expect(first).not.toContain("Step one: reproduce it.");
    expect(first).toContain('<skill name="style">\nWrite short sentences.\n</skill>');
    expect(first.indexOf("<skill name=")).toBeLessThan(first.indexOf("- triage:"));
    expect(toolNames(0)).toEqual(["skill"]);
    expect(provider.requests[2]!.rawBody).toContain("Step one: reproduce it.");
    expect(toolReply(1, "k1")).toBe(
      '<skill name="triage">\n# Triage\nStep one: reproduce it.\n\n</skill>\n\nResource files of this skill (load one with file):\n- refs/labels.md',
    );
    expect(toolReply(2, "k2")).toBe("bug, feature, question");
    expect(toolReply(2, "k3")).toMatch(/outside the working directory/);
    const missing = await fake({ skillsDir })
      .agent("x", { skills: ["nowhere"] })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "VALIDATION" });
    expect((missing as Error).message).toContain("nowhere");
  });

  it("loads workflow then workspace AGENTS.md files, nested ones by path, skipping ignored dirs", async () => {
    writeFileSync(join(workspace.dir, "AGENTS.md"), "Top rules.");
    mkdirSync(join(workspace.dir, "pkg", "node_modules"), { recursive: true });
    mkdirSync(join(workspace.dir, ".hidden"));
    writeFileSync(join(workspace.dir, "pkg", "AGENTS.md"), "Package rules.");
    writeFileSync(join(workspace.dir, "pkg", "node_modules", "AGENTS.md"), "ignored");
    writeFileSync(join(workspace.dir, ".hidden", "AGENTS.md"), "ignored too");
    provider.enqueue(openAiText("a"), openAiText("b"));
    await fake({ agentsMd: "Bundled rules." }).agent("work", { builtins: "none" });
    expect(firstMessage(0)).toBe(
      [
        '<AGENTS.md source="workflow" path="AGENTS.md">\nBundled rules.\n</AGENTS.md>',
        '<AGENTS.md source="workspace" path="AGENTS.md">\nTop rules.\n</AGENTS.md>',
        '<AGENTS.md source="workspace" path="pkg/AGENTS.md">\nPackage rules.\n</AGENTS.md>',
        "work",
      ].join("\n\n"),
    );
    expect(provider.requests[0]!.rawBody).toContain('AGENTS.md source=\\"workspace\\"');
    await fake().agent("work", { cwd: "pkg", builtins: "none" });
    expect(firstMessage(1)).toBe(
      '<AGENTS.md source="workspace" path="AGENTS.md">\nPackage rules.\n</AGENTS.md>\n\nwork',
    );
  });

  it("adds no AGENTS.md text at all when there is no file, with every built-in offered", async () => {
    provider.enqueue(openAiText("a"));
    await fake().agent("work");
    expect(provider.requests[0]!.rawBody).not.toContain("AGENTS.md");
  });

  it("clips a large file with a note", async () => {
    writeFileSync(join(workspace.dir, "AGENTS.md"), "y".repeat(40_000));
    provider.enqueue(openAiText("a"));
    await fake().agent("work", { builtins: "none" });
    const first = firstMessage(0);
    expect(first).toContain("y".repeat(32 * 1024));
    expect(first).not.toContain("y".repeat(32 * 1024 + 1));
    expect(first).toContain("[truncated");
  });
});
