// The trace model on event sequences shaped like the supervisor writes them (cursor blocks per
// supervision and per agent turn). If this breaks, the run page and the OTLP export draw a
// different story from the event log: wrong nesting, wrong durations or wrong restart reasons.
import { describe, expect, it } from "vitest";
import { TURN_CURSOR_STRIDE } from "@promenade/workflow";
import type { EventRow, RunEvent } from "../ports.ts";
import { TraceBuilder } from "./builder.ts";
import { buildTrace, traceOf } from "./build-trace.ts";
import type { TraceChildRun, TraceRun, TraceSpan } from "./span.ts";

const RUN = "01J0000000000000000000RUN1";
const T0 = 1_700_000_000_000;

/** Writes events like the supervisor: a fresh block per supervision, a block per agent turn. */
class Log {
  rows: EventRow[] = [];
  private block = 0;
  private seq = 0;
  t = T0;

  at(t: number): this {
    this.t = T0 + t;
    return this;
  }
  /** A new supervision (dispatch or an engine's recovery) resumes after the highest block. */
  supervise(): this {
    const max = this.rows.at(-1)?.cursor ?? 0;
    this.block = max === 0 ? 0 : Math.floor(max / TURN_CURSOR_STRIDE) + 1;
    this.seq = 0;
    return this;
  }
  push(body: Record<string, unknown>, turnId: string = RUN): this {
    if (body["kind"] === "turn_started") {
      this.block += 1;
      this.seq = 0;
    }
    this.seq += 1;
    const event = { ...body, runId: RUN, turnId, seq: this.seq, t: this.t } as RunEvent;
    this.rows.push({ runId: RUN, cursor: this.block * TURN_CURSOR_STRIDE + this.seq, event });
    return this;
  }
  status(status: string, extra: Record<string, unknown> = {}): this {
    return this.push({ kind: "run_status", status, ...extra });
  }
}

function runRow(patch: Partial<TraceRun> = {}): TraceRun {
  return {
    id: RUN,
    workflowSlug: "digest",
    status: "completed",
    triggerKind: "manual",
    parentRunId: null,
    restarts: 0,
    tokensIn: 0,
    tokensOut: 0,
    usdMicros: 0,
    createdAt: T0,
    startedAt: T0 + 10,
    endedAt: null,
    error: null,
    ...patch,
  };
}

function child(id: string, createdAt: number, patch: Partial<TraceChildRun> = {}): TraceChildRun {
  return {
    id,
    workflowSlug: "summarise-one",
    status: "completed",
    createdAt: T0 + createdAt,
    startedAt: T0 + createdAt + 5,
    endedAt: T0 + createdAt + 100,
    tokensIn: 0,
    tokensOut: 0,
    usdMicros: 0,
    restarts: 0,
    error: null,
    ...patch,
  };
}

/** `kind name [status] start→end` per span, indented by depth, children in start order. */
function tree(spans: readonly TraceSpan[]): string[] {
  const kids = new Map<string | null, TraceSpan[]>();
  for (const span of spans) {
    const list = kids.get(span.parentId) ?? [];
    list.push(span);
    kids.set(span.parentId, list);
  }
  const lines: string[] = [];
  const walk = (parent: string | null, depth: number): void => {
    const list = [...(kids.get(parent) ?? [])].sort((a, b) => a.startedAt - b.startedAt);
    for (const span of list) {
      const end = span.endedAt === null ? "open" : String(span.endedAt - T0);
      lines.push(
        `${"  ".repeat(depth)}${span.kind} ${span.name} [${span.status}] ${span.startedAt - T0}→${end}`,
      );
      walk(span.id, depth + 1);
    }
  };
  walk(null, 0);
  return lines;
}

const byKind = (spans: readonly TraceSpan[], kind: TraceSpan["kind"]) =>
  spans.filter((s) => s.kind === kind);

/** The two model requests of {@link agentTurn}, as the run process records them. */
function turnCalls(start: number): Record<string, unknown>[] {
  return [
    {
      model: "gpt-4o-mini",
      provider: "openai",
      startedAt: T0 + start + 1,
      endedAt: T0 + start + 39,
      usage: { inputTokens: 30, outputTokens: 7, cacheReadTokens: 12 },
      usdMicros: 7,
      rate: { source: "built-in", version: "2025-06-01" },
      estimated: false,
    },
    {
      model: "gpt-4o-mini",
      provider: "openai",
      startedAt: T0 + start + 61,
      endedAt: T0 + start + 90,
      usage: { inputTokens: 40, outputTokens: 6, reasoningTokens: 3 },
      usdMicros: 10,
      rate: { source: "built-in", version: "2025-06-01" },
      estimated: false,
    },
  ];
}

/**
 * An agent turn that calls one program tool and one MCP tool over two model requests, each
 * recorded by a `model_call` event as it ends — or, as older logs have them, on `turn_ended`.
 */
function agentTurn(
  log: Log,
  turnId: string,
  start: number,
  calls: readonly Record<string, unknown>[] = turnCalls(start),
  ledger: "model_call" | "turn_ended" = "model_call",
): void {
  const record = (call: Record<string, unknown> | undefined): void => {
    if (ledger === "model_call" && call !== undefined) {
      log.push({ kind: "model_call", ...call }, turnId);
    }
  };
  log.at(start).push({ kind: "turn_started", agentId: "agent-1", agentName: "triage" }, turnId);
  log.at(start + 39);
  record(calls[0]);
  log
    .at(start + 40)
    .push({ kind: "tool_call_start", toolCallId: "c1", toolName: "double" }, turnId);
  log.push({ kind: "tool_call_input_complete", toolCallId: "c1", input: { n: 2 } }, turnId);
  log.at(start + 41).push({ kind: "tool_call_executing", toolCallId: "c1" }, turnId);
  log
    .at(start + 45)
    .push({ kind: "tool_call_result", toolCallId: "c1", result: { humanSummary: "4" } }, turnId);
  log
    .at(start + 46)
    .push({ kind: "tool_call_start", toolCallId: "c2", toolName: "db__lookup" }, turnId);
  log.at(start + 47).push({ kind: "tool_call_executing", toolCallId: "c2" }, turnId);
  log.at(start + 60).push(
    {
      kind: "tool_call_error",
      toolCallId: "c2",
      error: { code: "PROVIDER_ERROR", message: "down" },
    },
    turnId,
  );
  log.at(start + 61).push({ kind: "text_start", blockId: "text-2" }, turnId);
  log.push({ kind: "text_delta", blockId: "text-2", text: "four" }, turnId);
  log.at(start + 90).push({ kind: "text_end", blockId: "text-2" }, turnId);
  record(calls[1]);
  log.push(
    {
      kind: "turn_ended",
      agentId: "agent-1",
      agentName: "triage",
      reason: "complete",
      usage: { inputTokens: 70, outputTokens: 13 },
      ...(ledger === "turn_ended" ? { calls } : {}),
    },
    turnId,
  );
}

describe("buildTrace", () => {
  it("nests phases, an agent turn, its model, tool and MCP calls, and child runs by time", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending");
    log.at(10).status("running");
    log.at(20).push({ kind: "phase", name: "gather", id: "phase-1" });
    log.at(30).push({ kind: "program_output", stream: "stdout", text: "hi\n" });
    log.at(200).push({ kind: "phase", name: "summarise", id: "phase-2" });
    agentTurn(log, "turn-a", 210);
    log.at(400).push({ kind: "output", value: { ok: true } });
    log.at(401).status("completed");

    const trace = buildTrace({
      run: runRow({ endedAt: T0 + 401, tokensIn: 70, tokensOut: 13, usdMicros: 17 }),
      events: log.rows,
      children: [child("01J00000000000000000CHILD1", 50), child("01J00000000000000000CHILD2", 60)],
    });
    expect(tree(trace.spans)).toEqual([
      "run digest [ok] 0→401",
      "  pass pass 1 [ok] 5→401",
      "    phase gather [ok] 20→200",
      "      child_run summarise-one [ok] 50→150",
      "      child_run summarise-one [ok] 60→160",
      "    phase summarise [ok] 200→401",
      "      agent_turn agent triage [ok] 210→300",
      "        model_call chat gpt-4o-mini [ok] 211→249",
      "        tool_call double [ok] 250→255",
      "        mcp_call db__lookup [error] 256→270",
      "        model_call chat gpt-4o-mini [ok] 271→300",
    ]);
    const [pass] = byKind(trace.spans, "pass");
    expect(pass?.attributes).toMatchObject({ attempt: 1, reason: "first_start", ran: true });
    expect(pass?.attributes["runningAt"]).toBe(T0 + 10);
    const [turn] = byKind(trace.spans, "agent_turn");
    expect(turn?.attributes).toMatchObject({
      agentName: "triage",
      inputTokens: 70,
      outputTokens: 13,
      modelCalls: 2,
      reason: "complete",
    });
    const models = byKind(trace.spans, "model_call");
    expect(models.map((m) => m.attributes)).toEqual([
      {
        model: "gpt-4o-mini",
        provider: "openai",
        inputTokens: 30,
        outputTokens: 7,
        cacheReadTokens: 12,
        usdMicros: 7,
        estimated: false,
        rateSource: "built-in",
        rateVersion: "2025-06-01",
      },
      {
        model: "gpt-4o-mini",
        provider: "openai",
        inputTokens: 40,
        outputTokens: 6,
        reasoningTokens: 3,
        usdMicros: 10,
        estimated: false,
        rateSource: "built-in",
        rateVersion: "2025-06-01",
      },
    ]);
    expect(turn?.attributes["usdMicros"]).toBe(17);
    const [mcp] = byKind(trace.spans, "mcp_call");
    expect(mcp?.attributes).toMatchObject({
      mcpServer: "db",
      mcpTool: "lookup",
      errorCode: "PROVIDER_ERROR",
      errorMessage: "down",
    });
    expect(byKind(trace.spans, "tool_call")[0]?.attributes).toMatchObject({
      toolName: "double",
      summary: "4",
      executingAt: T0 + 251,
    });
    expect(byKind(trace.spans, "child_run")[0]?.attributes).toMatchObject({
      childRunId: "01J00000000000000000CHILD1",
      workflow: "summarise-one",
    });
    expect(trace.totals).toEqual({
      agentTurns: 1,
      modelCalls: 2,
      toolCalls: 1,
      mcpCalls: 1,
      childRuns: 2,
      passes: 1,
      inputTokens: 70,
      outputTokens: 13,
      cacheReadTokens: 12,
      cacheCreationTokens: 0,
      reasoningTokens: 3,
      usdMicros: 17,
      estimatedUsdMicros: 0,
    });
    // The turns' usage adds up to the run row's tallies.
    expect(trace.totals.inputTokens).toBe(trace.spans[0]?.attributes["tokensIn"]);
    expect(trace.totals.outputTokens).toBe(trace.spans[0]?.attributes["tokensOut"]);
    expect(trace.coverage).toEqual({
      eventsScanned: log.rows.length,
      lastCursor: log.rows.at(-1)?.cursor,
      complete: true,
      summarised: null,
    });
    expect(new Set(trace.spans.map((s) => s.id)).size).toBe(trace.spans.length);
  });

  it("tells a crash restart (pending inside the block) from an engine restart (pending opening a block)", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending");
    log.at(10).status("running");
    log.at(20).push({ kind: "phase", name: "work", id: "phase-1" });
    log.at(90).status("pending"); // the process died: same supervision, same block
    log.at(95).status("running");
    log.at(100).push({ kind: "phase", name: "work", id: "phase-1" });
    agentTurn(log, "turn-b", 110);
    log.at(250).push({ kind: "turn_started", agentId: "agent-2" }, "turn-c");
    log.at(260).push({ kind: "tool_call_start", toolCallId: "x", toolName: "slow" }, "turn-c");
    // The engine stopped here; the next engine recovers the run in a fresh block.
    log.supervise().at(5000).status("pending");
    log.at(5010).status("running");
    log.at(5020).push({ kind: "phase", name: "work", id: "phase-1" });
    log.at(5100).status("completed");

    const trace = buildTrace({
      run: runRow({ restarts: 1, endedAt: T0 + 5100 }),
      events: log.rows,
    });
    const passes = byKind(trace.spans, "pass");
    expect(
      passes.map((p) => [
        p.attributes["reason"],
        p.status,
        p.startedAt - T0,
        (p.endedAt ?? 0) - T0,
      ]),
    ).toEqual([
      ["first_start", "crashed", 5, 90],
      ["crash_restart", "interrupted", 90, 260],
      ["engine_restart", "ok", 5000, 5100],
    ]);
    // Crash restarts in the trace equal the row's restart count; engine restarts do not count.
    expect(passes.filter((p) => p.attributes["reason"] === "crash_restart")).toHaveLength(1);
    expect(tree(trace.spans).slice(0, 3)).toEqual([
      "run digest [ok] 0→5100",
      "  pass pass 1 [crashed] 5→90",
      "    phase work [crashed] 20→90",
    ]);
    // What was open when the engine stopped ends where the log ends, marked interrupted.
    const openTurn = trace.spans.find((s) => s.id === "turn:turn-c");
    expect([openTurn?.status, (openTurn?.endedAt ?? 0) - T0]).toEqual(["interrupted", 260]);
    const slow = byKind(trace.spans, "tool_call").find((s) => s.name === "slow");
    expect([slow?.status, slow?.parentId]).toEqual(["interrupted", "turn:turn-c"]);
  });

  it("uses the reason a pending status carries over the inferred one", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending", { reason: "first_start" });
    log.at(10).status("running");
    log.supervise().at(900).status("pending", { reason: "failover" });
    log.at(910).status("running");
    const trace = buildTrace({ run: runRow({ status: "running" }), events: log.rows });
    const passes = byKind(trace.spans, "pass");
    expect(passes.map((p) => [p.attributes["reason"], p.status, p.endedAt])).toEqual([
      ["first_start", "interrupted", T0 + 10],
      ["failover", "running", null],
    ]);
    expect(trace.spans[0]).toMatchObject({ status: "running", endedAt: null });
  });

  it("ends the attempt a retry follows as an error carrying the failure its pending records", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending", { reason: "first_start" });
    log.at(10).status("running", { reason: "first_start" });
    log.at(20).push({ kind: "phase", name: "work", id: "phase-1" });
    log.at(40).status("pending", {
      reason: "retry",
      error: { code: "PROGRAM_ERROR", message: "attempt 1 broke" },
    });
    log.at(540).status("running", { reason: "retry" });
    log.at(600).status("completed");
    const trace = buildTrace({ run: runRow({ endedAt: T0 + 600 }), events: log.rows });
    const passes = byKind(trace.spans, "pass");
    expect(
      passes.map((p) => [
        p.attributes["reason"],
        p.status,
        p.startedAt - T0,
        (p.endedAt ?? 0) - T0,
      ]),
    ).toEqual([
      ["first_start", "error", 5, 40],
      ["retry", "ok", 40, 600],
    ]);
    expect(passes[0]?.attributes).toMatchObject({
      errorCode: "PROGRAM_ERROR",
      errorMessage: "attempt 1 broke",
    });
    expect(tree(trace.spans).slice(1, 3)).toEqual([
      "  pass pass 1 [error] 5→40",
      "    phase work [error] 20→40",
    ]);
  });

  it("takes each pass's reason from the statuses the supervisor stamped, not from the cursors", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending", { reason: "first_start" });
    log.at(10).status("running", { reason: "first_start" });
    // Cursors alone would read this pending (inside the block) as a crash restart.
    log.at(50).status("pending", { reason: "engine_restart" });
    log.at(60).status("running", { reason: "engine_restart" });
    // And this one (opening a block) as an engine restart.
    log.at(80).push({ kind: "phase", name: "work", id: "phase-1" });
    log.supervise().at(100).status("pending", { reason: "crash_restart" });
    log.at(110).status("running", { reason: "crash_restart" });
    log.at(120).status("awaiting_input");
    log.at(130).status("running", { reason: "crash_restart" });
    log.at(140).status("completed");
    const trace = buildTrace({ run: runRow({ restarts: 1, endedAt: T0 + 140 }), events: log.rows });
    const passes = byKind(trace.spans, "pass");
    expect(passes.map((p) => [p.name, p.attributes["reason"], p.status])).toEqual([
      ["pass 1", "first_start", "interrupted"],
      ["pass 2", "engine_restart", "crashed"],
      ["pass 3", "crash_restart", "ok"],
    ]);
  });

  it("takes a reason stamped only on running over the guess made at its pending", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending");
    log.at(10).status("running", { reason: "first_start" });
    log.supervise().at(900).status("pending");
    log.at(910).status("running", { reason: "failover" });
    const trace = buildTrace({ run: runRow({ status: "running" }), events: log.rows });
    const passes = byKind(trace.spans, "pass");
    expect(passes.map((p) => p.attributes["reason"])).toEqual(["first_start", "failover"]);
  });

  it("keeps a live run's open spans open and ends a failed run's pass and phase in error", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending");
    log.at(10).status("running");
    log.at(20).push({ kind: "phase", name: "fetch", id: "phase-1" });
    log.at(30).push({ kind: "turn_started", agentId: "agent-1" }, "turn-d");
    log.at(31).push({ kind: "tool_call_start", toolCallId: "c1", toolName: "web__get" }, "turn-d");
    const live = buildTrace({ run: runRow({ status: "running" }), events: log.rows });
    expect(tree(live.spans)).toEqual([
      "run digest [running] 0→open",
      "  pass pass 1 [running] 5→open",
      "    phase fetch [running] 20→open",
      "      agent_turn agent agent-1 [running] 30→open",
      "        mcp_call web__get [running] 31→open",
    ]);
    log.at(40).status("failed", { error: { code: "PROGRAM_ERROR", message: "boom" } });
    const failed = buildTrace({
      run: runRow({
        status: "failed",
        endedAt: T0 + 40,
        error: { code: "PROGRAM_ERROR", message: "boom" },
      }),
      events: log.rows,
    });
    expect(tree(failed.spans)).toEqual([
      "run digest [error] 0→40",
      "  pass pass 1 [error] 5→40",
      "    phase fetch [error] 20→40",
      "      agent_turn agent agent-1 [error] 30→40",
      "        mcp_call web__get [error] 31→40",
    ]);
    expect(byKind(failed.spans, "pass")[0]?.attributes).toMatchObject({
      errorCode: "PROGRAM_ERROR",
      errorMessage: "boom",
    });
  });

  it("keeps model requests inside their turn when the run process clock reads a little earlier", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending");
    log.at(10).status("running");
    log.at(20).push({ kind: "turn_started", agentId: "agent-1" }, "turn-f");
    const call = { model: "m", startedAt: T0 + 18, endedAt: T0 + 52 };
    log
      .at(50)
      .push(
        { kind: "turn_ended", agentId: "agent-1", reason: "complete", calls: [call] },
        "turn-f",
      );
    const trace = buildTrace({ run: runRow({ status: "running" }), events: log.rows });
    const [model] = byKind(trace.spans, "model_call");
    expect([model?.startedAt, model?.endedAt]).toEqual([T0 + 20, T0 + 50]);
  });

  it("sums the cost ledger and marks the part priced at the default rate estimated", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending");
    log.at(10).status("running");
    const [known, unknown] = turnCalls(20);
    agentTurn(log, "turn-a", 20, [
      known!,
      {
        ...unknown,
        model: "local-llm",
        usdMicros: 190,
        rate: { source: "default", version: "2025-06-01" },
        estimated: true,
      },
    ]);
    log.at(200).status("completed");
    const trace = buildTrace({
      run: runRow({ endedAt: T0 + 200, usdMicros: 197 }),
      events: log.rows,
    });
    expect(trace.totals).toMatchObject({ usdMicros: 197, estimatedUsdMicros: 190 });
    expect(trace.totals.usdMicros).toBe(trace.spans[0]?.attributes["usdMicros"]);
    const [turn] = byKind(trace.spans, "agent_turn");
    expect(turn?.attributes).toMatchObject({ usdMicros: 197, estimated: true, modelCalls: 2 });
    expect(byKind(trace.spans, "model_call").map((m) => m.attributes["estimated"])).toEqual([
      false,
      true,
    ]);
    expect(byKind(trace.spans, "model_call")[1]?.attributes).toMatchObject({
      model: "local-llm",
      rateSource: "default",
    });
  });

  it("reads the unpriced per-request records older logs carry on turn_ended", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending");
    log.at(10).status("running");
    const calls = turnCalls(20).map(({ usdMicros: _u, rate: _r, estimated: _e, ...call }) => call);
    agentTurn(log, "turn-a", 20, calls, "turn_ended");
    log.at(200).status("completed");
    const trace = buildTrace({ run: runRow({ endedAt: T0 + 200 }), events: log.rows });
    expect(tree(trace.spans).slice(2)).toEqual([
      "    agent_turn agent triage [ok] 20→110",
      "      model_call chat gpt-4o-mini [ok] 21→59",
      "      tool_call double [ok] 60→65",
      "      mcp_call db__lookup [error] 66→80",
      "      model_call chat gpt-4o-mini [ok] 81→110",
    ]);
    expect(trace.totals).toMatchObject({
      modelCalls: 2,
      cacheReadTokens: 12,
      usdMicros: 0,
      estimatedUsdMicros: 0,
    });
    expect(byKind(trace.spans, "model_call")[0]?.attributes).not.toHaveProperty("usdMicros");
  });

  it("keeps the model calls of a turn cut short by a crash in the ledger", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending");
    log.at(10).status("running");
    log.at(20).push({ kind: "turn_started", agentId: "agent-1" }, "turn-x");
    log.at(60).push({ kind: "model_call", ...turnCalls(20)[0] }, "turn-x");
    log.at(70).push({ kind: "tool_call_start", toolCallId: "c1", toolName: "slow" }, "turn-x");
    // The process died mid-tool: the next pass starts in the same block (a crash restart).
    log.at(90).status("pending");
    log.at(95).status("running");
    log.at(120).status("completed");
    const trace = buildTrace({
      run: runRow({ endedAt: T0 + 120, usdMicros: 7 }),
      events: log.rows,
    });
    expect(trace.totals).toMatchObject({ modelCalls: 1, usdMicros: 7 });
    const [turn] = byKind(trace.spans, "agent_turn");
    expect([turn?.status, turn?.endedAt]).toEqual(["crashed", T0 + 90]);
    const [model] = byKind(trace.spans, "model_call");
    expect([model?.parentId, model?.startedAt, model?.endedAt]).toEqual([
      turn?.id,
      T0 + 21,
      T0 + 59,
    ]);
  });

  it("gives a run cancelled while queued no pass", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(7).status("cancelled");
    const trace = buildTrace({
      run: runRow({ status: "cancelled", endedAt: T0 + 7 }),
      events: log.rows,
    });
    expect(tree(trace.spans)).toEqual(["run digest [cancelled] 0→7"]);
  });

  it("builds the same trace from batches as from the whole log, and snapshots are copies", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending");
    log.at(10).status("running");
    log.at(20).push({ kind: "phase", name: "a", id: "a" });
    agentTurn(log, "turn-e", 30);
    log.at(200).status("completed");
    const run = runRow({ endedAt: T0 + 200 });
    const whole = buildTrace({ run, events: log.rows });
    const builder = new TraceBuilder(RUN);
    const early = traceOf(builder, run, [], false);
    for (let i = 0; i < log.rows.length; i += 3) builder.add(log.rows.slice(i, i + 3));
    builder.add(log.rows); // replayed rows are skipped
    expect(traceOf(builder, run, [], true)).toEqual(whole);
    expect(early.spans).toHaveLength(1);
  });

  it("folds a run with thousands of tool calls into a bounded answer with summary spans", () => {
    const log = new Log();
    log.at(0).status("queued");
    log.supervise().at(5).status("pending");
    log.at(10).status("running");
    log.at(11).push({ kind: "turn_started", agentId: "agent-1" }, "turn-big");
    for (let i = 0; i < 5000; i++) {
      log
        .at(20 + i * 2)
        .push({ kind: "tool_call_start", toolCallId: `c${i}`, toolName: "t" }, "turn-big");
      log
        .at(21 + i * 2)
        .push(
          { kind: "tool_call_result", toolCallId: `c${i}`, result: { humanSummary: "ok" } },
          "turn-big",
        );
    }
    log.at(20_000).push({ kind: "turn_ended", agentId: "agent-1", reason: "complete" }, "turn-big");
    log.at(20_001).status("completed");
    const trace = buildTrace({ run: runRow({ endedAt: T0 + 20_001 }), events: log.rows });
    expect(trace.spans.length).toBeLessThanOrEqual(2000);
    expect(trace.totals.toolCalls).toBe(5000);
    const [summary] = byKind(trace.spans, "summary");
    expect(summary).toMatchObject({
      parentId: "turn:turn-big",
      startedAt: T0 + 20 + 50 * 2,
      endedAt: T0 + 21 + 4949 * 2,
      status: "ok",
      attributes: { collapsed: 4900, "count.tool_call": 4900, descendants: 0 },
    });
    expect(byKind(trace.spans, "tool_call")).toHaveLength(100);
    expect(trace.coverage.summarised).toEqual({ spansBefore: 5003, collapsed: 4900 });
  });
});
