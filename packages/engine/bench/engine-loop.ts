/**
 * Agent-loop overhead through the real engine: the same 200-turn tool-calling conversation as
 * `@promenade/agent`'s `bench/loop-overhead.ts` (8 agent() calls × 25 model turns, two parallel
 * tool calls per tool turn), run as one workflow run — run process, IPC to the supervisor, event
 * stamping and SQLite persistence included. Measured from the provider's side: per turn, the gap
 * between one request being answered and the next request arriving on a zero-latency local HTTP
 * fake, so loopback HTTP is counted as engine time (an over-estimate). The run's first request
 * (process start) is excluded. Runs from source (the run process too).
 *
 *   node --conditions=@promenade/source bench/engine-loop.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import {
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
  type FakeReply,
  type RecordedRequest,
} from "@promenade/agent/testing";
import { Engine } from "../src/index.ts";

const childEntry = fileURLToPath(new URL("../src/child.ts", import.meta.url));

const TURNS_PER_CALL = 25;
const CALLS = 8;

const arrivals: number[] = [];
const answered: number[] = [];
function reply(request: RecordedRequest): FakeReply {
  arrivals.push(performance.now());
  const messages = (request.body as { messages: { role: string }[] }).messages;
  const rounds = messages.filter((m) => m.role === "assistant").length;
  const out =
    rounds < TURNS_PER_CALL - 1
      ? openAiToolCalls(
          [
            { id: `a${rounds}`, name: "lookup", arguments: { key: `k${rounds}` } },
            { id: `b${rounds}`, name: "add", arguments: { a: rounds, b: 2 } },
          ],
          {
            content: `Turn ${rounds}: checking two things.`,
            usage: { input: 200 + rounds * 40, output: 30 },
          },
        )
      : openAiText("All done: the answer is 42.", { input: 1200, output: 20 });
  answered.push(performance.now());
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const program = `
import { agent, output, secrets } from "@promenade/workflow";
export const meta = { slug: "bench-loop", triggers: [{ kind: "manual" }], permissions: { secrets: [{ name: "DB_PASSWORD" }] } };
const pw = await secrets.get("DB_PASSWORD");
const tools = [
  { name: "lookup", description: "Looks a key up.", inputSchema: { type: "object", properties: { key: { type: "string" } } },
    execute: async ({ key }) => ({ key, value: "some value ".repeat(8), pwLength: pw.length }) },
  { name: "add", description: "Adds a and b.", inputSchema: { type: "object" }, execute: async ({ a, b }) => a + b },
];
const answers = [];
for (let call = 0; call < ${CALLS}; call++) {
  answers.push(await agent("Task " + call + ": look things up and add numbers.", { tools, name: "bench-" + call }));
}
output(answers.length);
`;

async function once(label: string): Promise<void> {
  arrivals.length = 0;
  answered.length = 0;
  const provider = await startFakeOpenAiProvider({ steady: reply });
  const dataDir = mkdtempSync(join(tmpdir(), "agent-engine-bench-"));
  const engine = new Engine({
    dataDir,
    childEntryPath: childEntry,
    processEnv: { ...process.env, NODE_OPTIONS: "--conditions=@promenade/source" },
    env: { DB_PASSWORD: "pw-9f8e7d6c5b4a", FAKE_KEY: "sk-fake-0123456789" },
    log: () => undefined,
    inference: {
      default_provider: "fake",
      default_model: "claude-sonnet-4-5",
      providers: { fake: { base_url: provider.baseUrl, api_key_env: "FAKE_KEY" } },
    },
  });
  try {
    engine.deployWorkflow({ program });
    const begin = performance.now();
    const run = await engine.waitForRun(engine.startRun("bench-loop").id);
    const wall = performance.now() - begin;
    if (run.status !== "completed")
      throw new Error(`run ${run.status}: ${JSON.stringify(run.error)}`);
    const gaps: number[] = [];
    for (let i = 1; i < arrivals.length; i++) gaps.push(arrivals[i]! - answered[i - 1]!);
    const sorted = [...gaps].sort((a, b) => a - b);
    const events = engine.store.listEvents(run.id).length;
    console.log(
      `${label}: ${arrivals.length} turns, ${events} events persisted, tokens ${run.tokensIn}/${run.tokensOut}; ` +
        `engine-side per turn p50 ${percentile(sorted, 50).toFixed(3)} ms, p90 ${percentile(sorted, 90).toFixed(3)} ms, ` +
        `p99 ${percentile(sorted, 99).toFixed(3)} ms, max ${sorted.at(-1)!.toFixed(3)} ms, ` +
        `mean ${(gaps.reduce((a, b) => a + b, 0) / gaps.length).toFixed(3)} ms; run wall ${wall.toFixed(0)} ms`,
    );
  } finally {
    await engine.closeGracefully({ childGraceMs: 500 });
    await provider.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await once("engine warm-up (discarded)");
for (let i = 1; i <= 3; i++) await once(`engine run #${i}`);
