/**
 * The agent loop inside real runs, beyond `agent.integration.test.ts`: exact event order of a
 * tool-calling leaf with the run row's tallies equal to the usage events, a `max_tokens` budget
 * crossed mid-loop, a memory path rejected before any model call, and the canary secret kept out of
 * every provider request, persisted event and run row; streamed reasoning stored as
 * `reasoning_delta` events, never in the output, and `reasoning` / `attachments` on the wire. The
 * provider is a real local HTTP server speaking the OpenAI wire format.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "@promenade/agent/testing";
import type { Engine, RunRow } from "../src/index.ts";
import { deployManual, type ManualDeployArgs, makeEngine, runToEnd, tempDir } from "./helpers.ts";

const CANARY = "canary-5e1f0a9b7c3d";

let dir: ReturnType<typeof tempDir>;
let engine: Engine;
let provider: FakeProvider;

beforeEach(async () => {
  dir = tempDir();
  provider = await startFakeOpenAiProvider();
  ({ engine } = makeEngine(dir.path, {
    env: { FAKE_PROVIDER_KEY: "sk-fake-provider-0001", CANARY },
    inference: {
      default_provider: "fake",
      default_model: "gpt-4o-mini",
      providers: { fake: { base_url: provider.baseUrl, api_key_env: "FAKE_PROVIDER_KEY" } },
    },
  }));
});

afterEach(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  await provider.close();
  dir.cleanup();
});

const AGENT_NAMES = ["agent", "output", "secrets"];

const deploy = (...args: ManualDeployArgs): void => deployManual(engine, AGENT_NAMES, ...args);
const run = (slug: string): Promise<RunRow> => runToEnd(engine, slug);

function events(runId: string) {
  return engine.store
    .listEvents(runId)
    .map((row) => row.event as { kind: string } & Record<string, unknown>);
}

describe("agent() in a run", () => {
  it("completes a tool-calling leaf with turn events; the run row tallies equal the usage events", async () => {
    provider.enqueue(
      openAiToolCalls([{ id: "call-1", name: "double", arguments: { n: 21 } }], {
        usage: { input: 30, output: 7 },
      }),
      openAiText("the answer is 42", { input: 40, output: 6 }),
      openAiText("second leaf", { input: 11, output: 3 }),
    );
    deploy(
      "agentic",
      [
        "const double = { name: 'double', description: 'Doubles n.', inputSchema: { type: 'object' },",
        "  execute: async ({ n }) => n * 2 };",
        "const first = await agent('double 21', { tools: [double], name: 'doubler' });",
        "const second = await agent('again');",
        "output({ first, second });",
      ].join("\n"),
    );
    const row = await run("agentic");
    expect(row.status).toBe("completed");
    expect(row.output).toEqual({ first: "the answer is 42", second: "second leaf" });
    const all = events(row.id);
    const agentKinds = all
      .filter((e) => !["run_status", "program_output", "output"].includes(e.kind))
      .map((e) => e.kind);
    expect(agentKinds).toEqual([
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
      "turn_started",
      "text_start",
      "text_delta",
      "text_end",
      "model_call",
      "turn_ended",
    ]);
    const ended = all.filter((e) => e.kind === "turn_ended");
    expect(ended[0]).toMatchObject({
      agentId: "agent-1",
      agentName: "doubler",
      reason: "complete",
      usage: { inputTokens: 70, outputTokens: 13 },
    });
    expect(ended[1]).toMatchObject({
      agentId: "agent-2",
      reason: "complete",
      usage: { inputTokens: 11, outputTokens: 3 },
    });
    const usage = ended.map((e) => e.usage as { inputTokens: number; outputTokens: number });
    expect(row.tokensIn).toBe(usage.reduce((acc, u) => acc + u.inputTokens, 0));
    expect(row.tokensOut).toBe(usage.reduce((acc, u) => acc + u.outputTokens, 0));
    // gpt-4o-mini: 0.15 / 0.6 $ per Mtok, priced per report and summed.
    const expectedMicros = [
      [30, 7],
      [40, 6],
      [11, 3],
    ].reduce((acc, [i, o]) => acc + Math.round(((i! / 1e6) * 0.15 + (o! / 1e6) * 0.6) * 1e6), 0);
    expect(row.usdMicros).toBe(expectedMicros);
    // The ledger: one priced model_call per request, summing to the row's tallies.
    const ledger = all.filter((e) => e.kind === "model_call") as unknown as {
      usage?: { inputTokens?: number; outputTokens?: number };
      usdMicros?: number;
    }[];
    expect(ledger.map((e) => [e.usage?.inputTokens, e.usage?.outputTokens])).toEqual([
      [30, 7],
      [40, 6],
      [11, 3],
    ]);
    expect(ledger.reduce((acc, e) => acc + (e.usdMicros ?? 0), 0)).toBe(row.usdMicros);
    for (const e of ledger) {
      expect(e).toMatchObject({ rate: { source: "built-in" }, estimated: false });
    }
    expect(provider.requests[0]!.headers.authorization).toBe("Bearer sk-fake-provider-0001");
    expect(provider.requests[1]!.rawBody).toContain('"tool_call_id":"call-1","content":"42"');
  });

  it("fails BUDGET_EXCEEDED within one turn when usage crosses max_tokens mid-loop", async () => {
    provider.setSteady(
      openAiToolCalls([{ id: "c", name: "noop" }], { usage: { input: 500, output: 100 } }),
    );
    deploy(
      "spender",
      [
        // The tool takes a second, far longer than the supervisor needs to act on a report, so
        // the kill lands while the turn that crossed the budget is still running its tools.
        "const noop = { name: 'noop', description: '', inputSchema: { type: 'object' },",
        "  execute: () => new Promise((done) => setTimeout(() => done('ok'), 1000)) };",
        "await agent('spend', { tools: [noop] });",
        "output('unreachable');",
      ].join("\n"),
      { budget: { max_tokens: 1000 } },
    );
    const row = await run("spender");
    expect(row.status).toBe("failed");
    expect(row.error).toMatchObject({ code: "BUDGET_EXCEEDED" });
    expect(row.error?.message).toContain("max_tokens");
    // The second report (1200 > 1000) kills the run during that turn: no third request.
    expect(provider.requests).toHaveLength(2);
    expect(row.tokensIn).toBe(1000);
    expect(row.tokensOut).toBe(200);
  });

  it("rejects a memory path escaping the workspace before any model call", async () => {
    deploy("escaper", "output(await agent('x', { memory: '../outside' }));");
    const row = await run("escaper");
    expect(row.status).toBe("failed");
    expect(row.error).toMatchObject({ code: "VALIDATION" });
    expect(row.error?.message).toContain("memory");
    expect(provider.requests).toHaveLength(0);
  });

  it("keeps the canary secret out of every provider request and every persisted event", async () => {
    provider.enqueue(
      openAiToolCalls([{ id: "c1", name: "reveal", arguments: { echo: CANARY } }], {
        content: `I know ${CANARY}`,
      }),
      openAiText(`The secret is ${CANARY}.`),
    );
    deploy(
      "canary",
      [
        "import { mkdirSync, writeFileSync } from 'node:fs';",
        "const secret = await secrets.get('CANARY');",
        "mkdirSync('mem', { recursive: true });",
        "writeFileSync('mem/index.md', 'index knows ' + secret);",
        "const reveal = { name: 'reveal', description: 'shows ' + secret, inputSchema: { type: 'object' },",
        "  execute: async () => 'tool says ' + secret };",
        "const answer = await agent('the code is ' + secret, { tools: [reveal], skills: ['ops'], memory: 'mem' });",
        "output({ sawIt: answer.includes(secret) });",
        "throw new Error('failing with ' + secret);",
      ].join("\n"),
      { permissions: { secrets: [{ name: "CANARY" }] } },
      { ops: `The runbook mentions ${CANARY}.` },
    );
    const row = await run("canary");
    expect(row.status).toBe("failed");
    expect(row.output).toEqual({ sawIt: true });
    expect(row.error?.message).toBe("failing with [redacted:CANARY]");
    for (const request of provider.requests) expect(request.rawBody).not.toContain(CANARY);
    expect(provider.requests[0]!.rawBody).toContain("the code is [redacted:CANARY]");
    expect(provider.requests[1]!.rawBody).toContain("tool says [redacted:CANARY]");
    expect(provider.requests[0]!.rawBody).toContain("The runbook mentions [redacted:CANARY].");
    expect(provider.requests[0]!.rawBody).toContain("index knows [redacted:CANARY]");
    const persisted = JSON.stringify(engine.store.listEvents(row.id));
    expect(persisted).not.toContain(CANARY);
    expect(persisted).toContain("[redacted:CANARY]");
    expect(JSON.stringify(engine.store.getRun(row.id))).not.toContain(CANARY);
  });
});

describe("reasoning and attachments in a run", () => {
  it("stores streamed reasoning_content as reasoning_delta events, absent from the output", async () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    provider.enqueue({
      sse: [
        chunk({ reasoning_content: "Weighing " }),
        chunk({ reasoning_content: "the options." }),
        chunk({ content: "Pick B." }, "stop"),
        "data: [DONE]\n\n",
      ],
    });
    const png = Buffer.from("png bytes").toString("base64");
    deploy(
      "thinker",
      `output(await agent("Which?", { builtins: "none", reasoning: "high", attachments: [{ mimeType: "image/png", data: "${png}" }] }));`,
    );
    const row = await run("thinker");
    expect(row.status).toBe("completed");
    expect(row.output).toBe("Pick B.");
    const reasoning = events(row.id).filter((event) => event.kind === "reasoning_delta");
    expect(reasoning.map((event) => event.text).join("")).toBe("Weighing the options.");
    const body = provider.requests[0]!.body as {
      reasoning_effort: string;
      messages: { content: unknown[] }[];
    };
    expect(body.reasoning_effort).toBe("high");
    expect(body.messages[0]!.content[1]).toEqual({
      type: "image_url",
      image_url: { url: `data:image/png;base64,${png}` },
    });
  });
});
