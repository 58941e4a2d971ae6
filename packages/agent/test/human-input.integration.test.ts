/**
 * The opt-in `human_input` tool against a real local HTTP provider (OpenAI wire format): the
 * model asks a person mid-loop, the loop waits without another model request, and the answer
 * comes back as the tool result. What would break without these: a model that keeps going
 * before the person answers, a gate opened for a malformed form, or a tool offered to calls
 * that did not ask for it.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EngineError } from "@promenade/workflow/errors";
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

interface Pending {
  request: { key: string; prompt: string; input: unknown };
  answer(value: unknown): void;
  fail(error: unknown): void;
}

/** A fake host whose gates wait until the test answers them. */
function withGates() {
  const pending: Pending[] = [];
  const host = createFakeAgentHost({
    workspaceDir: workspace.dir,
    resolve: resolvedFor(provider, { model: "gpt-4o-mini" }),
    humanInput: (request) =>
      new Promise((resolve, reject) => {
        pending.push({ request, answer: resolve, fail: reject });
      }),
  });
  return { host, pending };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean): Promise<void> {
  const end = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await delay(5);
  }
}

const toolNames = (i: number): string[] =>
  ((provider.requests[i]?.body as { tools?: { function: { name: string } }[] }).tools ?? []).map(
    (tool) => tool.function.name,
  );

describe("the human_input tool", () => {
  it("parks the loop on a gate keyed by the tool call id and continues with the answer", async () => {
    provider.enqueue(
      openAiToolCalls([
        {
          id: "c-7",
          name: "human_input",
          arguments: { prompt: "Pick one", input: { kind: "choice", options: ["x", "y"] } },
        },
      ]),
    );
    provider.enqueue(openAiText("picked x"));
    const { host, pending } = withGates();
    const result = host.agent("decide", { humanInput: true });
    await until(() => pending.length === 1);
    expect(pending[0]?.request).toEqual({
      key: "c-7",
      prompt: "Pick one",
      input: { kind: "choice", options: ["x", "y"] },
    });
    expect(toolNames(0)).toContain("human_input");
    // No further model request while the gate is pending.
    await delay(200);
    expect(provider.requests).toHaveLength(1);
    pending[0]?.answer({ value: "x", isOther: false });
    await expect(result).resolves.toBe("picked x");
    expect(provider.requests).toHaveLength(2);
    const messages = (provider.requests[1]?.body as { messages: unknown[] }).messages;
    expect(JSON.stringify(messages.at(-1))).toContain(
      JSON.stringify(JSON.stringify({ value: "x", isOther: false })).slice(1, -1),
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
    const result0 = host.events.find((e) => e.body.kind === "tool_call_result");
    expect(result0?.body).toEqual({
      kind: "tool_call_result",
      toolCallId: "c-7",
      result: { humanSummary: "human responded" },
    });
    expect(new Set(host.events.map((e) => e.turnId)).size).toBe(1);
  });

  it("is not offered without the option", async () => {
    provider.enqueue(openAiText("done"));
    const { host } = withGates();
    await host.agent("plain");
    expect(JSON.stringify(provider.requests[0]?.body)).not.toContain("human_input");
  });

  it("fails a malformed form back to the model with VALIDATION and opens no gate", async () => {
    provider.enqueue(
      openAiToolCalls([
        { id: "c-1", name: "human_input", arguments: { prompt: 3, input: { kind: "date" } } },
      ]),
    );
    provider.enqueue(openAiText("gave up"));
    const { host, pending } = withGates();
    await expect(host.agent("ask", { humanInput: true })).resolves.toBe("gave up");
    expect(pending).toHaveLength(0);
    const error = host.events.find((e) => e.body.kind === "tool_call_error");
    expect(error?.body).toMatchObject({ toolCallId: "c-1", error: { code: "VALIDATION" } });
    expect(JSON.stringify(provider.requests[1]?.body)).toContain("input.kind must be one of");
  });

  it("asks with the default prompt and a text form when the model omits them", async () => {
    provider.enqueue(openAiToolCalls([{ id: "c-2", name: "human_input", arguments: {} }]));
    provider.enqueue(openAiText("ok"));
    const { host, pending } = withGates();
    const result = host.agent("ask", { humanInput: true });
    await until(() => pending.length === 1);
    expect(pending[0]?.request).toEqual({
      key: "c-2",
      prompt: "Input needed",
      input: { kind: "text" },
    });
    pending[0]?.answer({ value: "fine" });
    await expect(result).resolves.toBe("ok");
  });

  it("opens every gate of a turn together, runs the other tools once, and continues when all are answered", async () => {
    let runs = 0;
    const count: ToolDef = {
      name: "count",
      description: "Counts calls.",
      inputSchema: { type: "object" },
      execute: () => Promise.resolve(++runs),
    };
    provider.enqueue(
      openAiToolCalls([
        { id: "a", name: "human_input", arguments: { prompt: "First?" } },
        { id: "b", name: "count", arguments: {} },
        { id: "c", name: "human_input", arguments: { prompt: "Second?" } },
      ]),
    );
    provider.enqueue(openAiText("both answered"));
    const { host, pending } = withGates();
    const result = host.agent("ask twice", { humanInput: true, tools: [count] });
    await until(() => pending.length === 2);
    expect(pending.map((p) => p.request.key)).toEqual(["a", "c"]);
    expect(runs).toBe(1);
    pending[1]?.answer({ value: "two" });
    await delay(100);
    expect(provider.requests).toHaveLength(1);
    pending[0]?.answer({ value: "one" });
    await expect(result).resolves.toBe("both answered");
    expect(runs).toBe(1);
    const sent = (
      provider.requests[1]?.body as { messages: { role: string; tool_call_id?: string }[] }
    ).messages;
    expect(sent.filter((m) => m.role === "tool").map((m) => m.tool_call_id)).toEqual([
      "a",
      "b",
      "c",
    ]);
  });

  it("ends the agent() call when the gate fails (a cancelled run)", async () => {
    provider.enqueue(openAiToolCalls([{ id: "c-3", name: "human_input", arguments: {} }]));
    const { host, pending } = withGates();
    const result = host.agent("ask", { humanInput: true });
    await until(() => pending.length === 1);
    pending[0]?.fail(new EngineError("CANCELLED", "The run was cancelled."));
    await expect(result).rejects.toMatchObject({ code: "CANCELLED" });
    expect(provider.requests).toHaveLength(1);
  });

  it("refuses the option on a host with no gate, and a non-boolean option", async () => {
    const host = createFakeAgentHost({
      workspaceDir: workspace.dir,
      resolve: resolvedFor(provider),
    });
    await expect(host.agent("ask", { humanInput: true })).rejects.toMatchObject({
      code: "UNSUPPORTED",
    });
    await expect(
      host.agent("ask", { humanInput: "yes" as unknown as boolean }),
    ).rejects.toMatchObject({ code: "VALIDATION" });
    expect(provider.requests).toHaveLength(0);
  });
});
