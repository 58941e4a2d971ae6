/**
 * A long tool-calling conversation over real HTTP: 50 agent() turns in one run process, each
 * with several model iterations carrying three parallel tool calls, against a provider that
 * computes its replies from the request it receives (so it checks every tool result arrived).
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import {
  createFakeAgentHost,
  openAiText,
  openAiToolCalls,
  resolvedFor,
  startFakeOpenAiProvider,
  type FakeProvider,
  type RecordedRequest,
} from "../src/testing/index.ts";
import type { ToolDef } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

let provider: FakeProvider;
let workspace: { dir: string; cleanup(): void };
beforeEach(async () => {
  workspace = tempDir();
  provider = await startFakeOpenAiProvider();
});
afterEach(async () => {
  await provider.close();
  workspace.cleanup();
});

const TURNS = 50;

interface WireMessage {
  role: string;
  content: string | null;
  tool_call_id?: string;
}

/** Iterations per turn: turn t makes (t % 4) tool rounds, then answers with the running sum. */
function reply(request: RecordedRequest) {
  const messages = (request.body as { messages: WireMessage[] }).messages;
  const turn = Number(/turn (\d+)/.exec(messages[0]!.content!)![1]);
  const rounds = messages.filter((m) => m.role === "assistant").length;
  if (rounds < turn % 4) {
    const calls = ["add", "mul", "add"].map((name, i) => ({
      id: `t${turn}-r${rounds}-${i}`,
      name,
      arguments: { a: turn, b: i + rounds },
    }));
    return openAiToolCalls(calls, { usage: { input: 100 + turn, output: 10 } });
  }
  const sum = messages
    .filter((m) => m.role === "tool")
    .reduce((acc, m) => acc + Number(m.content), 0);
  return openAiText(`turn ${turn} sum ${sum}`, { input: 50, output: 5 });
}

it("completes 50 tool-calling turns with parallel calls, events and usage per turn", async () => {
  provider.setSteady(reply);
  const host = createFakeAgentHost({
    workspaceDir: workspace.dir,
    resolve: resolvedFor(provider, { model: "llama3.3" }),
  });
  const tools: ToolDef[] = [
    {
      name: "add",
      description: "a+b",
      inputSchema: { type: "object" },
      execute: (i) =>
        Promise.resolve((i as { a: number; b: number }).a + (i as { a: number; b: number }).b),
    },
    {
      name: "mul",
      description: "a*b",
      inputSchema: { type: "object" },
      execute: (i) =>
        Promise.resolve((i as { a: number; b: number }).a * (i as { a: number; b: number }).b),
    },
  ];
  for (let turn = 1; turn <= TURNS; turn++) {
    let expected = 0;
    for (let round = 0; round < turn % 4; round++)
      expected += turn + round + turn * (1 + round) + turn + (2 + round);
    await expect(host.agent(`turn ${turn}`, { tools, name: `t${turn}` })).resolves.toBe(
      `turn ${turn} sum ${expected}`,
    );
  }
  const turnIds = [...new Set(host.events.map((e) => e.turnId))];
  expect(turnIds).toHaveLength(TURNS);
  let expectedRequests = 0;
  for (const [index, turnId] of turnIds.entries()) {
    const turn = index + 1;
    const rounds = turn % 4;
    expectedRequests += rounds + 1;
    const kinds = host.kinds(turnId);
    expect(kinds[0]).toBe("turn_started");
    expect(kinds.at(-1)).toBe("turn_ended");
    expect(kinds.filter((k) => k === "tool_call_result")).toHaveLength(rounds * 3);
    const ended = host.events.filter((e) => e.turnId === turnId).at(-1)!.body;
    expect(ended).toMatchObject({
      agentId: `agent-${turn}`,
      agentName: `t${turn}`,
      reason: "complete",
      usage: { inputTokens: rounds * (100 + turn) + 50, outputTokens: rounds * 10 + 5 },
    });
  }
  expect(provider.requests).toHaveLength(expectedRequests);
  expect(host.usage).toHaveLength(expectedRequests);
  const reported = host.usage.reduce(
    (acc, u) => acc + (u.usage.inputTokens ?? 0) + (u.usage.outputTokens ?? 0),
    0,
  );
  const summed = host.events
    .filter((e) => e.body.kind === "turn_ended")
    .reduce(
      (acc, e) =>
        acc +
        (e.body.usage as { inputTokens: number; outputTokens: number }).inputTokens +
        (e.body.usage as { outputTokens: number }).outputTokens,
      0,
    );
  expect(reported).toBe(summed);
});
