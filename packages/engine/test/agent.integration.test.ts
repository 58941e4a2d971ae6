/**
 * The agent loop plugged in by the engine (turn ids on events, usage tallies, cost and token
 * budgets, memory across runs, deployed skills), with a fake OpenAI-compatible provider on a local
 * HTTP port speaking the real wire format. What breaks if these fail: `agent()` unavailable, usage
 * not tallied or budgets not enforced, memory or skills not reaching the model.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openAiText, openAiToolCalls, startFakeOpenAiProvider } from "@promenade/agent/testing";
import type { FakeProvider } from "@promenade/agent/testing";
import { channelOf } from "@promenade/workflow";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine, RunRow } from "../src/index.ts";
import { deployManual, localInference, makeEngine, runToEnd, tempDir } from "./helpers.ts";
import type { ManualDeployArgs } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let engine: Engine;
let provider: FakeProvider;

beforeEach(async () => {
  dir = tempDir();
  provider = await startFakeOpenAiProvider();
  ({ engine } = makeEngine(dir.path, {
    inference: localInference(provider.baseUrl),
  }));
});

afterEach(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  await provider.close();
  dir.cleanup();
});

const NAMES = ["agent", "output", "sleep", "input"];

const deploy = (...args: ManualDeployArgs): void => deployManual(engine, NAMES, ...args);
const run = (slug: string): Promise<RunRow> => runToEnd(engine, slug);

describe("agent() through the engine", () => {
  it("one tool call: agent frames share a turn id, non-agent frames use the run id", async () => {
    provider.enqueue(
      openAiToolCalls([{ id: "call-1", name: "lookup", arguments: { q: "x" } }]),
      openAiText("the answer is 42", { input: 120, output: 30 }),
    );
    deploy(
      "tooled",
      [
        'const answer = await agent("use the tool", {',
        '  tools: [{ name: "lookup", description: "look it up", inputSchema: { type: "object" }, execute: async () => "42" }],',
        "});",
        "output(answer);",
      ].join("\n"),
    );
    const done = await run("tooled");
    expect(done.status).toBe("completed");
    expect(done.output).toBe("the answer is 42");
    const events = engine.store.listEvents(done.id).map((row) => row.event);
    const agentFrames = events.filter((event) => channelOf(event) === "agent");
    expect(agentFrames.length).toBeGreaterThan(2);
    const turnIds = new Set(agentFrames.map((event) => event.turnId));
    expect(turnIds.size).toBe(1);
    expect(turnIds.has(done.id)).toBe(false);
    const started = events.find((event) => event.kind === "turn_started");
    const ended = events.find((event) => event.kind === "turn_ended");
    expect(started).toMatchObject({ agentId: "agent-1" });
    expect(ended).toMatchObject({ agentId: "agent-1" });
    expect(events.some((event) => event.kind === "tool_call_result")).toBe(true);
    for (const event of events) {
      expect(event.runId).toBe(done.id);
      if (channelOf(event) !== "agent") expect(event.turnId).toBe(done.id);
    }
    // Check 29: usage is tallied and priced.
    expect(done.tokensIn).toBeGreaterThanOrEqual(120);
    expect(done.tokensOut).toBeGreaterThanOrEqual(30);
    expect(done.usdMicros).toBeGreaterThan(0);
  });

  it("tallies usage exactly: 120 in / 30 out", async () => {
    provider.enqueue(openAiText("done", { input: 120, output: 30 }));
    deploy("tally", 'output(await agent("hi"));');
    const done = await run("tally");
    expect(done.status).toBe("completed");
    expect(done.tokensIn).toBe(120);
    expect(done.tokensOut).toBe(30);
    expect(done.usdMicros).toBeGreaterThan(0);
  });

  it("max_usd is enforced from usage reports while the program sleeps", async () => {
    provider.enqueue(openAiText("expensive", { input: 10_000_000, output: 0 }));
    deploy("pricey", 'await agent("hi");\nawait sleep(30_000);', { budget: { max_usd: 0.01 } });
    const done = await run("pricey");
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("BUDGET_EXCEEDED");
    expect(done.error?.message).toContain("max_usd");
  });

  it("max_tokens is enforced and the tallies stay on the row", async () => {
    provider.enqueue(openAiText("wordy", { input: 600, output: 600 }));
    deploy("wordy", 'await agent("hi");\nawait sleep(30_000);', { budget: { max_tokens: 1000 } });
    const done = await run("wordy");
    expect(done.error?.code).toBe("BUDGET_EXCEEDED");
    expect(done.error?.message).toContain("max_tokens");
    expect(done.tokensIn).toBe(600);
    expect(done.tokensOut).toBe(600);
  });

  it("memory written in run 1 is in run 2's workspace and first request", async () => {
    provider.enqueue(
      openAiToolCalls([
        {
          id: "w1",
          name: "memory_write",
          arguments: { path: "learned.md", content: "the sky is blue" },
        },
      ]),
      openAiText("remembered"),
      openAiText("recalled"),
    );
    deploy(
      "rememberer",
      [
        'import { existsSync } from "node:fs";',
        'const before = existsSync("mem/notes/learned.md");',
        'const reply = await agent("remember things", { memory: "mem/notes" });',
        "output({ before, reply });",
      ].join("\n"),
    );
    const first = await run("rememberer");
    expect(first.status).toBe("completed");
    expect(first.output).toMatchObject({ before: false });
    const second = await run("rememberer");
    expect(second.output).toMatchObject({ before: true });
    expect(
      existsSync(join(dir.path, "runs", second.id, "workspace", "mem", "notes", "learned.md")),
    ).toBe(true);
    const thirdRequest = provider.requests[2];
    expect(thirdRequest?.rawBody).toContain("learned.md");
  });

  it("a deployed skill's markdown reaches the model", async () => {
    provider.enqueue(openAiText("styled"));
    deploy(
      "skilled",
      'output(await agent("write", { skills: ["house-style"] }));',
      {},
      {
        "house-style": "# House style\nAlways answer in haiku.",
      },
    );
    const done = await run("skilled");
    expect(done.status).toBe("completed");
    expect(provider.requests[0]?.rawBody).toContain("Always answer in haiku.");
  });

  it("a provider failure fails the run with PROVIDER_ERROR", async () => {
    provider.setSteady({ status: 400, json: { error: { message: "bad request" } } });
    deploy("broken-provider", 'await agent("hi");');
    const done = await run("broken-provider");
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("PROVIDER_ERROR");
  });
});
