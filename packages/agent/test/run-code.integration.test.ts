/**
 * The `run_code` built-in in the agent loop, against a real local HTTP provider: a snippet runs
 * in a worker with the leaf's other tools on `tools` and `call`, only its logs and return value
 * reach the model (capped, redacted), a timeout stops the worker, and the tool is offered with
 * `"all"` or by name but never with `"read-only"` or `"none"`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redactor } from "@promenade/workflow/redact";
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
    resolve: resolvedFor(provider),
    ...extra,
  });
}

type Body = {
  messages: { role: string; content: string | null; tool_call_id?: string }[];
  tools?: { function: { name: string } }[];
};
const body = (i: number) => provider.requests[i]!.body as Body;
const toolNames = (i: number) => (body(i).tools ?? []).map((t) => t.function.name);
const toolReply = (i: number, id: string) =>
  body(i).messages.find((m) => m.role === "tool" && m.tool_call_id === id)?.content;

/** One `run_code` call with `code`, then a final answer. */
function snippet(code: string, extra: Record<string, unknown> = {}): void {
  provider.enqueue(
    openAiToolCalls([{ id: "c1", name: "run_code", arguments: { code, ...extra } }]),
    openAiText("done"),
  );
}

describe("run_code", () => {
  it("calls the leaf's other tools through tools.<name> and call(), and returns logs and value", async () => {
    writeFileSync(join(workspace.dir, "in.txt"), "from the workspace");
    const double: ToolDef = {
      name: "double",
      description: "doubles n",
      inputSchema: { type: "object", properties: { n: { type: "number" } } },
      execute: (input) => Promise.resolve({ doubled: (input as { n: number }).n * 2 }),
    };
    snippet(
      [
        'const text = await tools.read({ path: "in.txt" });',
        'console.log("read:", text);',
        'await call("write", { path: "out.txt", content: text.toUpperCase() });',
        "const twice = JSON.parse(await tools.double({ n: 21 }));",
        'const missing = await call("nope", {}).catch((error) => error.message);',
        "console.log(missing);",
        "return { twice, keys: Object.keys(process.env).length };",
      ].join("\n"),
    );
    await expect(fake().agent("go", { tools: [double] })).resolves.toBe("done");
    expect(toolNames(0)).toContain("run_code");
    const reply = toolReply(1, "c1")!;
    expect(reply).toContain("read: from the workspace");
    expect(reply).toContain('Unknown tool "nope"');
    expect(reply).toContain('[return value]\n{"twice":{"doubled":42},"keys":0}');
    expect(readFileSync(join(workspace.dir, "out.txt"), "utf8")).toBe("FROM THE WORKSPACE");
  });

  it("a thrown error is a tool error carrying the logs so far; the loop goes on", async () => {
    snippet('console.log("before"); throw new RangeError("bad range");');
    const host = fake();
    await expect(host.agent("go")).resolves.toBe("done");
    const reply = toolReply(1, "c1")!;
    expect(reply).toMatch(/^Tool failed: RangeError: bad range\nbefore$/);
    expect(host.kinds()).toContain("tool_call_error");
  });

  it("a timeout terminates the worker", async () => {
    snippet("for (;;) {}", { timeoutMs: 300 });
    await expect(fake().agent("go")).resolves.toBe("done");
    expect(toolReply(1, "c1")).toContain("timed out after 300 ms");
  });

  it("caps what reaches the model at 60,000 characters and redacts it", async () => {
    const redactor = new Redactor();
    redactor.add("CODE_TOKEN", "tok-code-secret-777");
    snippet('console.log("tok-code-secret-777"); console.log("x".repeat(70000)); return 1;');
    await expect(fake({ redactor }).agent("go")).resolves.toBe("done");
    const reply = toolReply(1, "c1")!;
    expect(reply).not.toContain("tok-code-secret-777");
    expect(reply).toContain("[redacted:CODE_TOKEN]");
    expect(reply).toContain("[output clipped at 60000 characters]");
    expect(reply.length).toBeLessThan(60_100);
  });

  it('is offered with "all" and by name, never with "read-only" or "none"', async () => {
    provider.enqueue(openAiText("a"), openAiText("b"), openAiText("c"));
    const host = fake();
    await host.agent("x", { builtins: "read-only" });
    await host.agent("y", { builtins: "none" });
    await host.agent("z", { builtins: ["run_code", "read"] });
    expect(provider.requests[0]!.rawBody).not.toContain("run_code");
    expect(body(1).tools).toBeUndefined();
    expect(toolNames(2)).toEqual(["read", "run_code"]);
  });
});
