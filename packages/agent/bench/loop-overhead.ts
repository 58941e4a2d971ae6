/**
 * Loop overhead benchmark: a 200-turn tool-calling conversation (8 agent() calls × 25 model
 * turns; each tool turn carries two parallel tool calls) against a zero-latency provider.
 * "Turn" = one model request and everything the loop does around it: response parsing, text and
 * tool events, usage report, tool execution, history redaction and the next request's body.
 * Per-turn engine time = gap between one provider response and the next provider request (the
 * provider itself is excluded). Events are persisted as they are emitted into a SQLite file
 * (node:sqlite, WAL, one INSERT per event), standing in for the engine's event store.
 *
 *   node --conditions=@promenade/source bench/loop-overhead.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { performance } from "node:perf_hooks";
import {
  createFakeAgentHost,
  openAiText,
  openAiToolCalls,
  resolvedFor,
  startFakeOpenAiProvider,
  type FakeReply,
} from "../src/testing/index.ts";
import type { AgentHost, ToolDef } from "../src/index.ts";

const CALLS = 8;
const TURNS_PER_CALL = 25;

function replyFor(body: string): FakeReply {
  const parsed = JSON.parse(body) as { messages: { role: string }[] };
  const rounds = parsed.messages.filter((m) => m.role === "assistant").length;
  if (rounds < TURNS_PER_CALL - 1) {
    return openAiToolCalls(
      [
        { id: `a${rounds}`, name: "lookup", arguments: { key: `k${rounds}` } },
        { id: `b${rounds}`, name: "add", arguments: { a: rounds, b: 2 } },
      ],
      {
        content: `Turn ${rounds}: checking two things.`,
        usage: { input: 200 + rounds * 40, output: 30 },
      },
    );
  }
  return openAiText("All done: the answer is 42.", { input: 1200, output: 20 });
}

/** Zero-latency in-process provider: answers from the request body, no socket. */
function zeroLatencyFetch(): typeof fetch {
  return (_input, init) => {
    const reply = replyFor(init?.body as string);
    return Promise.resolve(
      new Response(JSON.stringify(reply.json), {
        status: 200,
        headers: { "content-type": "application/json" },
      }),
    );
  };
}

const tools: ToolDef[] = [
  {
    name: "lookup",
    description: "Looks a key up.",
    inputSchema: { type: "object", properties: { key: { type: "string" } } },
    execute: (input) =>
      Promise.resolve({ key: (input as { key: string }).key, value: "some value ".repeat(8) }),
  },
  {
    name: "add",
    description: "Adds a and b.",
    inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } } },
    execute: (input) => Promise.resolve((input as { a: number }).a + (input as { b: number }).b),
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(label: string, transport: "in-process" | "http"): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "agent-bench-"));
  const db = new DatabaseSync(join(dir, "events.db"));
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  db.exec("CREATE TABLE events (seq INTEGER PRIMARY KEY, turn_id TEXT, kind TEXT, body TEXT)");
  const insert = db.prepare("INSERT INTO events (turn_id, kind, body) VALUES (?, ?, ?)");

  const marks: { start: number; end: number }[] = [];
  const provider =
    transport === "http"
      ? await startFakeOpenAiProvider({ steady: (req) => replyFor(req.rawBody) })
      : undefined;
  const inner: typeof fetch = transport === "http" ? fetch : zeroLatencyFetch();
  const timedFetch: typeof fetch = async (input, init) => {
    const mark = { start: performance.now(), end: 0 };
    marks.push(mark);
    const response = await inner(input, init);
    // Buffer the body so its transfer counts as provider time, not loop time.
    const buffered = new Response(await response.arrayBuffer(), {
      status: response.status,
      headers: response.headers,
    });
    mark.end = performance.now();
    return buffered;
  };
  const fake = createFakeAgentHost({
    workspaceDir: dir,
    resolve: resolvedFor(provider ?? { baseUrl: "http://zero-latency.invalid/v1" }, {
      model: "claude-sonnet-4-5",
    }),
    fetch: timedFetch,
  });
  for (const [name, value] of [
    ["DB_PASSWORD", "pw-9f8e7d6c5b4a"],
    ["API_TOKEN", "tok-0123456789abcdef"],
    ["WEBHOOK", "whsec_abcdefghijkl"],
  ]) {
    fake.redactor.add(name!, value!);
  }
  const persisting = (host: AgentHost): AgentHost => ({
    ...host,
    startTurn: (turnId) => {
      host.startTurn(turnId);
      insert.run(turnId, "turn_started", "{}");
    },
    emit: (turnId, body) => {
      host.emit(turnId, body);
      insert.run(turnId, body.kind, JSON.stringify(body));
    },
  });

  const { runAgent } = await import("../src/index.ts");
  const begin = performance.now();
  for (let call = 0; call < CALLS; call++) {
    await runAgent(
      `Task ${call}: look things up and add numbers.`,
      { tools, name: `bench-${call}` },
      persisting(fake.host()),
    );
  }
  const end = performance.now();
  await provider?.close();

  const turns = marks.length;
  const perTurn: number[] = [];
  for (let i = 0; i < turns; i++)
    perTurn.push((i + 1 < turns ? marks[i + 1]!.start : end) - marks[i]!.end);
  const providerMs = marks.reduce((acc, m) => acc + (m.end - m.start), 0);
  const sorted = [...perTurn].sort((a, b) => a - b);
  const events = (db.prepare("SELECT COUNT(*) AS n FROM events").get() as { n: number }).n;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `${label}: ${turns} turns, ${events} events persisted; engine-side per turn ` +
      `p50 ${percentile(sorted, 50).toFixed(3)} ms, p90 ${percentile(sorted, 90).toFixed(3)} ms, ` +
      `p99 ${percentile(sorted, 99).toFixed(3)} ms, max ${sorted.at(-1)!.toFixed(3)} ms, ` +
      `mean ${(perTurn.reduce((a, b) => a + b, 0) / turns).toFixed(3)} ms; ` +
      `provider ${(providerMs / turns).toFixed(3)} ms/turn; wall ${(end - begin).toFixed(0)} ms`,
  );
}

// One warm-up pass (JIT), then the measured passes.
await measure("warm-up (discarded)", "in-process");
for (let i = 1; i <= 3; i++) await measure(`zero-latency in-process provider #${i}`, "in-process");
await measure("loopback HTTP fake provider", "http");
