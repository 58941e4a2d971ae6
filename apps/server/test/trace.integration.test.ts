/**
 * The trace API on real runs of the real engine (SQLite store, run processes, a fake model
 * provider at HTTP level, a stdio MCP server): a fan-out parent with three children, an agent run
 * with tool and MCP calls, a crash-restarted run and a run recovered by an engine restart. Each
 * trace is checked against the run's own event log and rows: nesting, start and end times, pass
 * reasons and token totals. If this breaks, the run page tells a different story than the log.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine } from "@promenade/engine";
import type { EngineOptions, EventRow } from "@promenade/engine";
import { createPromenadeServer } from "@promenade/server";
import type { PromenadeServer, Trace, TraceSpan } from "@promenade/server";
import {
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "@promenade/agent/testing";
import { RATES_VERSION } from "@promenade/agent";
import { engineApi } from "../src/adapter.ts";

const MCP_FIXTURE = fileURLToPath(new URL("./fixtures/mcp-stdio.mjs", import.meta.url));

let dataDir: string;
let provider: FakeProvider;
const engines: Engine[] = [];
const servers: PromenadeServer[] = [];

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "promenade-trace-"));
  provider = await startFakeOpenAiProvider();
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close({ graceMs: 200 });
  for (const engine of engines.splice(0)) await engine.closeGracefully({ childGraceMs: 500 });
  await provider.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function open(extra: Partial<EngineOptions> = {}): Engine {
  const engine = new Engine({
    dataDir,
    cancelGraceMs: 250,
    log: () => {},
    inference: {
      default_provider: "local",
      default_model: "gpt-4o-mini",
      providers: { local: { base_url: provider.baseUrl } },
    },
    ...extra,
  });
  engines.push(engine);
  return engine;
}

async function serve(engine: Engine): Promise<string> {
  const server = createPromenadeServer(engineApi(engine), { log: () => {} });
  servers.push(server);
  const { port } = await server.listen(0, "127.0.0.1");
  return `http://127.0.0.1:${port}`;
}

function deploy(engine: Engine, slug: string, names: string[], body: string): void {
  engine.deployWorkflow({
    program: [
      `import { ${names.join(", ")} } from "@promenade/workflow";`,
      `export const meta = ${JSON.stringify({ slug, triggers: [{ kind: "manual" }] })};`,
      body,
    ].join("\n"),
  });
}

async function trace(base: string, runId: string): Promise<Trace> {
  const res = await fetch(`${base}/api/runs/${runId}/trace`);
  expect(res.status).toBe(200);
  return (await res.json()) as Trace;
}

function events(engine: Engine, runId: string): EventRow[] {
  return engine.store.listEvents(runId);
}

/** `t` of the events of `kind` (and `status`, for run_status) in log order. */
function times(rows: EventRow[], kind: string, status?: string): number[] {
  return rows
    .filter(
      (r) =>
        r.event.kind === kind &&
        (status === undefined || (r.event as { status?: string }).status === status),
    )
    .map((r) => r.event.t);
}

/** `status:reason` of every `run_status` that carries a pass reason. */
function stampedReasons(rows: EventRow[]): string[] {
  return rows.flatMap((r) =>
    r.event.kind === "run_status" && r.event.reason !== undefined
      ? [`${r.event.status}:${r.event.reason}`]
      : [],
  );
}

const spansOf = (t: Trace, kind: TraceSpan["kind"]): TraceSpan[] =>
  t.spans.filter((s) => s.kind === kind);

/** The `index`-th span of `kind` (by position in the answer); fails the test when missing. */
function nth(t: Trace, kind: TraceSpan["kind"], index = 0): TraceSpan {
  const span = spansOf(t, kind)[index];
  if (span === undefined) throw new Error(`no ${kind} span #${index}`);
  return span;
}

async function until(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("trace of real runs", () => {
  it("links a fan-out parent's three child runs under the phase that called them", async () => {
    const engine = open();
    deploy(
      engine,
      "leaf",
      ["input", "output", "phase"],
      'phase("greet"); output(`hi ${input.i}`);',
    );
    deploy(
      engine,
      "fan-out",
      ["output", "parallel", "phase", "workflows"],
      [
        'phase("call children");',
        "const out = await parallel([1, 2, 3].map((i) => () => workflows.call('leaf', { i })));",
        'phase("done");',
        "output(out);",
      ].join("\n"),
    );
    const base = await serve(engine);
    const run = await engine.waitForRun(engine.startRun("fan-out").id);
    expect(run.status).toBe("completed");
    const t = await trace(base, run.id);

    const kids = engine.store.listRuns({ parentRunId: run.id, order: "oldest" });
    expect(kids).toHaveLength(3);
    const childSpans = spansOf(t, "child_run");
    expect(childSpans.map((s) => s.attributes["childRunId"])).toEqual(kids.map((k) => k.id));
    const callPhase = nth(t, "phase");
    expect(callPhase.name).toBe("call children");
    for (const [i, span] of childSpans.entries()) {
      const kid = kids[i]!;
      expect(span).toMatchObject({
        parentId: callPhase.id,
        name: "leaf",
        status: "ok",
        startedAt: kid.createdAt,
        endedAt: kid.endedAt,
      });
    }
    // The phase ends where the next marker starts; the child runs fit inside it.
    const rows = events(engine, run.id);
    const [callAt, doneAt] = times(rows, "phase");
    expect([callPhase.startedAt, callPhase.endedAt]).toEqual([callAt, doneAt]);
    for (const span of childSpans) {
      expect(span.startedAt).toBeGreaterThanOrEqual(callAt!);
      expect(span.endedAt).toBeLessThanOrEqual(doneAt!);
    }
    // A child's own trace names its parent.
    const child = await trace(base, kids[0]!.id);
    expect(nth(child, "run").attributes["parentRunId"]).toBe(run.id);
    expect(spansOf(child, "phase").map((s) => s.name)).toEqual(["greet"]);
  });

  it("shows an agent turn with its model requests, a tool call and an MCP call", async () => {
    provider.enqueue(
      openAiToolCalls(
        [
          { id: "call-1", name: "double", arguments: { n: 21 } },
          { id: "call-2", name: "db__lookup", arguments: { key: "answer" } },
        ],
        { usage: { input: 30, output: 7, cached: 12 } },
      ),
      openAiText("the answer is 42", { input: 40, output: 6, reasoning: 3 }),
    );
    const engine = open();
    deploy(
      engine,
      "agentic",
      ["agent", "output", "phase"],
      [
        "const double = { name: 'double', description: 'Doubles n.', inputSchema: { type: 'object' },",
        "  execute: async ({ n }) => n * 2 };",
        `const db = { name: 'db', transport: 'stdio', command: process.execPath, args: [${JSON.stringify(MCP_FIXTURE)}] };`,
        'phase("think");',
        "output(await agent('double 21', { tools: [double], mcp: [db], name: 'doubler' }));",
      ].join("\n"),
    );
    const base = await serve(engine);
    const run = await engine.waitForRun(engine.startRun("agentic").id);
    expect(run.status).toBe("completed");
    const t = await trace(base, run.id);

    const phase = nth(t, "phase");
    const turn = nth(t, "agent_turn");
    expect(turn).toMatchObject({
      parentId: phase.id,
      name: "agent doubler",
      status: "ok",
      attributes: { agentName: "doubler", inputTokens: 70, outputTokens: 13, modelCalls: 2 },
    });
    const rows = events(engine, run.id);
    expect([turn.startedAt, turn.endedAt]).toEqual([
      times(rows, "turn_started")[0],
      times(rows, "turn_ended")[0],
    ]);
    const models = spansOf(t, "model_call");
    expect(models.map((m) => [m.parentId, m.name, m.attributes])).toEqual([
      [
        turn.id,
        "chat gpt-4o-mini",
        {
          model: "gpt-4o-mini",
          provider: "local",
          inputTokens: 30,
          outputTokens: 7,
          cacheReadTokens: 12,
          // gpt-4o-mini: 18 uncached × 0.15 + 12 cached × 0.075 + 7 out × 0.6 µUSD = 7.8.
          usdMicros: 8,
          estimated: false,
          rateSource: "built-in",
          rateVersion: RATES_VERSION,
        },
      ],
      [
        turn.id,
        "chat gpt-4o-mini",
        {
          model: "gpt-4o-mini",
          provider: "local",
          inputTokens: 40,
          outputTokens: 6,
          reasoningTokens: 3,
          usdMicros: 10,
          estimated: false,
          rateSource: "built-in",
          rateVersion: RATES_VERSION,
        },
      ],
    ]);
    const tool = nth(t, "tool_call");
    const mcp = nth(t, "mcp_call");
    expect(tool).toMatchObject({ parentId: turn.id, name: "double", status: "ok" });
    expect(mcp).toMatchObject({
      parentId: turn.id,
      name: "db__lookup",
      status: "ok",
      attributes: { mcpServer: "db", mcpTool: "lookup", summary: "value of answer" },
    });
    // Times are the log's: tool calls start at tool_call_start, end at their result.
    expect([tool.startedAt, mcp.startedAt]).toEqual(times(rows, "tool_call_start"));
    expect([tool.endedAt, mcp.endedAt]).toEqual(times(rows, "tool_call_result"));
    // Request times are read in the run process, event times when the engine receives them:
    // request 1 ended before the first tool call was reported, request 2 started after request 1
    // ended, and both lie inside their turn.
    const [first, second] = [nth(t, "model_call", 0), nth(t, "model_call", 1)];
    expect(first.endedAt).toBeLessThanOrEqual(tool.startedAt);
    expect(second.startedAt).toBeGreaterThanOrEqual(first.endedAt ?? Infinity);
    for (const m of models) {
      expect(m.startedAt).toBeGreaterThanOrEqual(turn.startedAt);
      expect(m.endedAt).toBeLessThanOrEqual(turn.endedAt ?? -Infinity);
    }
    // Token totals equal the run row's tallies.
    expect([t.totals.inputTokens, t.totals.outputTokens]).toEqual([run.tokensIn, run.tokensOut]);
    let inputs = 0;
    let outputs = 0;
    for (const m of models) {
      inputs += Number(m.attributes["inputTokens"]);
      outputs += Number(m.attributes["outputTokens"]);
    }
    expect([inputs, outputs]).toEqual([run.tokensIn, run.tokensOut]);
    expect(nth(t, "run").attributes).toMatchObject({ tokensIn: 70, tokensOut: 13, usdMicros: 18 });
    expect([t.totals.usdMicros, t.totals.estimatedUsdMicros]).toEqual([run.usdMicros, 0]);
  });

  it("keeps an exact cost ledger: a known and an unknown model, summed to the run's totals", async () => {
    const engine = open();
    deploy(
      engine,
      "priced",
      ["agent", "input", "output"],
      [
        "const double = { name: 'double', description: 'Doubles n.', inputSchema: { type: 'object' },",
        "  execute: async ({ n }) => n * 2 };",
        "output(await agent('double 21', { tools: [double], model: input.model }));",
      ].join("\n"),
    );
    const base = await serve(engine);
    const ledgerOf = async (model: string) => {
      provider.enqueue(
        openAiToolCalls([{ id: "call-1", name: "double", arguments: { n: 21 } }], {
          usage: { input: 30, output: 7, cached: 12 },
        }),
        openAiText("42", { input: 40, output: 6, reasoning: 3 }),
      );
      const run = await engine.waitForRun(engine.startRun("priced", { input: { model } }).id);
      expect(run.status).toBe("completed");
      const calls = events(engine, run.id)
        .map((r) => r.event)
        .filter((e) => e.kind === "model_call");
      return { run, calls, trace: await trace(base, run.id) };
    };
    const known = await ledgerOf("gpt-4o-mini");
    const unknown = await ledgerOf("local-llm-7b");

    for (const { run, calls, trace: t } of [known, unknown]) {
      // The ledger is the run's totals, call by call: the same tokens and micro-USD.
      const sum = (pick: (e: (typeof calls)[number]) => number | undefined): number =>
        calls.reduce((acc, e) => acc + (pick(e) ?? 0), 0);
      expect(calls).toHaveLength(2);
      expect(sum((e) => e.usage?.inputTokens)).toBe(run.tokensIn);
      expect(sum((e) => e.usage?.outputTokens)).toBe(run.tokensOut);
      expect(sum((e) => e.usdMicros)).toBe(run.usdMicros);
      expect(run.usdMicros).toBeGreaterThan(0);
      // The trace carries the same ledger.
      const models = spansOf(t, "model_call");
      expect(models.map((m) => m.attributes["usdMicros"])).toEqual(calls.map((e) => e.usdMicros));
      expect(t.totals.usdMicros).toBe(run.usdMicros);
    }
    // gpt-4o-mini from the shipped table: exact, not estimated.
    expect(known.calls.map((e) => [e.usdMicros, e.rate, e.estimated])).toEqual([
      [8, { source: "built-in", version: RATES_VERSION }, false],
      [10, { source: "built-in", version: RATES_VERSION }, false],
    ]);
    // No row matches: the default rate (3 in, 3 cached, 15 out per Mtok), marked estimated.
    expect(unknown.calls.map((e) => [e.usdMicros, e.rate, e.estimated])).toEqual([
      [30 * 3 + 7 * 15, { source: "default", version: RATES_VERSION }, true],
      [40 * 3 + 6 * 15, { source: "default", version: RATES_VERSION }, true],
    ]);
    expect(unknown.trace.totals.estimatedUsdMicros).toBe(unknown.run.usdMicros);
    expect(known.trace.totals.estimatedUsdMicros).toBe(0);
    expect(spansOf(unknown.trace, "model_call").every((m) => m.attributes["estimated"])).toBe(true);
    expect(nth(unknown.trace, "agent_turn").attributes["estimated"]).toBe(true);
    expect(nth(unknown.trace, "run").attributes["estimated"]).toBe(true);
    expect(nth(known.trace, "run").attributes).not.toHaveProperty("estimated");
    // The API marks the run whose cost includes an estimate, alone and in the list.
    for (const { run } of [known, unknown]) {
      const one = (await (await fetch(`${base}/api/runs/${run.id}`)).json()) as {
        run: { usdMicros: number; usdEstimated: boolean };
      };
      expect(one.run).toMatchObject({
        usdMicros: run.usdMicros,
        usdEstimated: run === unknown.run,
      });
    }
    const list = (await (await fetch(`${base}/api/runs?workflow=priced`)).json()) as {
      runs: { id: string; usdEstimated: boolean }[];
    };
    expect(list.runs.map((r) => [r.id, r.usdEstimated])).toEqual([
      [unknown.run.id, true],
      [known.run.id, false],
    ]);
  });

  it("prices with the operator's rate table before the shipped one", async () => {
    const engine = open({
      inference: {
        default_provider: "local",
        default_model: "local-llm-7b",
        providers: { local: { base_url: provider.baseUrl } },
        rate_table: {
          version: "ops-2025-07",
          models: [{ match: "^local-llm", in_usd_per_mtok: 1, out_usd_per_mtok: 2 }],
        },
      },
    });
    deploy(engine, "local", ["agent", "output"], "output(await agent('hi'));");
    provider.enqueue(openAiText("hello", { input: 100, output: 50 }));
    const run = await engine.waitForRun(engine.startRun("local").id);
    const [call] = events(engine, run.id)
      .map((r) => r.event)
      .filter((e) => e.kind === "model_call");
    expect(call).toMatchObject({
      usdMicros: 100 * 1 + 50 * 2,
      rate: { source: "override", version: "ops-2025-07" },
      estimated: false,
    });
    expect(run.usdMicros).toBe(200);
  });

  it("marks a crash-restarted run's passes: the first crashed, the second a crash restart", async () => {
    const engine = open();
    deploy(
      engine,
      "crashy",
      ["output", "phase"],
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        'phase("work");',
        'if (!existsSync("crashed-once")) { writeFileSync("crashed-once", "1"); process.exit(3); }',
        'output("recovered");',
      ].join("\n"),
    );
    const base = await serve(engine);
    const run = await engine.waitForRun(engine.startRun("crashy").id);
    expect([run.status, run.restarts]).toEqual(["completed", 1]);
    const t = await trace(base, run.id);
    const rows = events(engine, run.id);
    const pendings = times(rows, "run_status", "pending");
    const passes = spansOf(t, "pass");
    expect(passes.map((p) => [p.attributes["reason"], p.status])).toEqual([
      ["first_start", "crashed"],
      ["crash_restart", "ok"],
    ]);
    // The reasons come from the statuses the supervisor stamped, not from a guess.
    expect(stampedReasons(rows)).toEqual([
      "pending:first_start",
      "running:first_start",
      "pending:crash_restart",
      "running:crash_restart",
    ]);
    expect(passes.map((p) => [p.startedAt, p.endedAt])).toEqual([
      [pendings[0], pendings[1]],
      [pendings[1], times(rows, "run_status", "completed")[0]],
    ]);
    expect(passes.filter((p) => p.attributes["reason"] === "crash_restart")).toHaveLength(
      run.restarts,
    );
    const phases = spansOf(t, "phase");
    expect(phases.map((p) => [p.parentId, p.name, p.status])).toEqual([
      [nth(t, "pass", 0).id, "work", "crashed"],
      [nth(t, "pass", 1).id, "work", "ok"],
    ]);
  });

  it("marks a run recovered after an engine restart: the first pass interrupted, the second an engine restart", async () => {
    const a = open();
    deploy(
      a,
      "sleeper",
      ["output", "phase", "sleep"],
      'phase("nap"); await sleep(1500); phase("wake"); output("slept");',
    );
    const { id } = a.startRun("sleeper");
    await until(() => events(a, id).some((r) => r.event.kind === "phase"));
    a.close();
    const b = open();
    b.start();
    const run = await b.waitForRun(id);
    expect([run.status, run.restarts]).toEqual(["completed", 0]);
    const base = await serve(b);
    const t = await trace(base, id);
    const rows = events(b, id);
    const passes = spansOf(t, "pass");
    expect(passes.map((p) => [p.attributes["reason"], p.status])).toEqual([
      ["first_start", "interrupted"],
      ["engine_restart", "ok"],
    ]);
    expect(stampedReasons(rows)).toEqual([
      "pending:first_start",
      "running:first_start",
      "pending:engine_restart",
      "running:engine_restart",
    ]);
    const firstNap = times(rows, "phase")[0];
    // The interrupted pass ends at its last logged event: the engine stopped after it.
    expect([nth(t, "pass", 0).startedAt, nth(t, "pass", 0).endedAt]).toEqual([
      times(rows, "run_status", "pending")[0],
      firstNap,
    ]);
    expect(spansOf(t, "phase").map((p) => [p.parentId, p.name, p.status])).toEqual([
      [nth(t, "pass", 0).id, "nap", "interrupted"],
      [nth(t, "pass", 1).id, "nap", "ok"],
      [nth(t, "pass", 1).id, "wake", "ok"],
    ]);
  });
});
