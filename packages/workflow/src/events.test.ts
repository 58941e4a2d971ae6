// The run-event wire format every engine, server and client share: cursors, the 16 kinds, channels.
// A loosened schema or a mis-mapped channel here silently changes what subscribers receive.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isEngineError } from "./errors/index.ts";
import {
  CHANNELS,
  channelOf,
  DEFAULT_CHANNELS,
  makeCursor,
  matchesChannels,
  runEventSchema,
  selectChannels,
  tokenUsageSchema,
  toolReturnSchema,
  TURN_CURSOR_STRIDE,
  type RunEvent,
  type RunEventKind,
} from "./events.ts";

const run = { runId: "run_1", turnId: "run_1", seq: 1, t: 1_700_000_000_000 };
const turn = { runId: "run_1", turnId: "turn_1", seq: 2, t: 1_700_000_000_001 };

function samples(): RunEvent[] {
  return [
    { ...run, kind: "run_status", status: "queued" },
    {
      ...run,
      kind: "run_status",
      status: "failed",
      error: { code: "PROGRAM_ERROR", message: "x" },
    },
    { ...run, kind: "phase", name: "plan", id: "phase-1" },
    { ...run, kind: "output", value: { n: [1, null] } },
    { ...run, kind: "output", value: null },
    { ...run, kind: "program_output", stream: "stderr", text: "héllo\n" },
    { ...turn, kind: "turn_started", agentId: "agent_1", agentName: "triage" },
    {
      ...turn,
      kind: "turn_ended",
      agentId: "agent_1",
      reason: "complete",
      usage: { inputTokens: 10, outputTokens: 2 },
    },
    {
      ...turn,
      kind: "model_call",
      model: "gpt-4o-mini",
      provider: "openai",
      startedAt: 1_700_000_000_000,
      endedAt: 1_700_000_000_250,
      usage: { inputTokens: 10, outputTokens: 2, cacheReadTokens: 4 },
      usdMicros: 3,
      rate: { source: "built-in", version: "2025-06-01" },
      estimated: false,
    },
    { ...turn, kind: "text_start", blockId: "b0" },
    { ...turn, kind: "text_delta", blockId: "b0", text: "" },
    { ...turn, kind: "text_end", blockId: "b0" },
    { ...turn, kind: "tool_call_start", toolCallId: "c1", toolName: "lookup" },
    { ...turn, kind: "tool_call_input_delta", toolCallId: "c1", partialJson: '{"q":' },
    { ...turn, kind: "tool_call_input_complete", toolCallId: "c1", input: { q: "x" } },
    { ...turn, kind: "tool_call_executing", toolCallId: "c1" },
    {
      ...turn,
      kind: "tool_call_result",
      toolCallId: "c1",
      result: { kind: "json", humanSummary: "ok", data: { rows: 3 } },
    },
    {
      ...turn,
      kind: "tool_call_error",
      toolCallId: "c1",
      error: { code: "VALIDATION", message: "bad" },
    },
    { ...turn, kind: "reasoning_delta", text: "hmm" },
    { ...turn, kind: "tool_output_delta", toolCallId: "c1", stream: "stdout", text: "line\n" },
    { ...run, kind: "human_input_requested", requestId: "req_1", key: "ship", prompt: "Ship?" },
    { ...run, kind: "human_input_resolved", requestId: "req_1", key: "ship" },
    { ...turn, kind: "compaction_started", agentId: "a", tokens: 9000, budget: 8000 },
    {
      ...turn,
      kind: "compaction_ended",
      agentId: "a",
      tokens: 5000,
      reclaimed: 4000,
      method: "summarized",
    },
    { ...turn, kind: "turn_reset" },
    { ...run, kind: "egress_denied", host: "example.com", method: "GET", reason: "not allowed" },
    { ...run, kind: "suspended", reason: "sleep", wakeAt: 1_700_000_000_000 },
    { ...run, kind: "resumed" },
  ];
}

describe("makeCursor", () => {
  it("packs block and seq with a stride of 1,000,000", () => {
    expect(TURN_CURSOR_STRIDE).toBe(1_000_000);
    expect(makeCursor(0, 1)).toBe(1);
    expect(makeCursor(1, 1)).toBe(1_000_001);
    expect(makeCursor(3, 999_999)).toBe(3_999_999);
  });

  it("throws RangeError outside the valid ranges", () => {
    for (const [block, seq] of [
      [0, 0],
      [-1, 1],
      [0, 1_000_000],
      [0.5, 1],
      [0, 1.5],
      [Number.NaN, 1],
      [Number.MAX_SAFE_INTEGER, 1],
    ] as const) {
      expect(() => makeCursor(block, seq)).toThrow(RangeError);
    }
  });
});

describe("runEventSchema", () => {
  it("round-trips one sample of each of the 26 kinds", () => {
    for (const sample of samples()) expect(runEventSchema.parse(sample)).toEqual(sample);
    const sampleKinds = new Set(samples().map((s) => s.kind));
    const schemaKinds = new Set(runEventSchema.options.map((o) => o.shape.kind.value));
    expect(sampleKinds).toEqual(schemaKinds);
    expect(schemaKinds.size).toBe(26);
  });

  it("rejects unknown kinds, missing required fields and extra fields", () => {
    expect(runEventSchema.safeParse({ ...run, kind: "usage" }).success).toBe(false);
    expect(runEventSchema.safeParse({ ...turn, kind: "turn_started" }).success).toBe(false);
    for (const sample of samples()) {
      expect(runEventSchema.safeParse({ ...sample, extra: 1 }).success).toBe(false);
    }
    expect(runEventSchema.safeParse({ ...run, kind: "output", value: 1, cursor: 5 }).success).toBe(
      false,
    );
    expect(runEventSchema.safeParse({ ...run, kind: "output" }).success).toBe(false);
  });

  it("checks the envelope and payload rules", () => {
    const bad: unknown[] = [
      { ...run, runId: "", kind: "run_status", status: "queued" },
      { ...run, seq: 0, kind: "run_status", status: "queued" },
      { ...run, t: -1, kind: "run_status", status: "queued" },
      { ...run, t: 1.5, kind: "run_status", status: "queued" },
      { ...run, kind: "run_status", status: "sleeping" },
      { ...run, kind: "phase", name: "", id: "p" },
      { ...run, kind: "program_output", stream: "stdin", text: "" },
      { ...turn, kind: "turn_started", agentId: "a", agentName: "" },
      { ...turn, kind: "turn_ended", agentId: "a", reason: "complete", usage: { inputTokens: -1 } },
      {
        ...turn,
        kind: "tool_call_error",
        toolCallId: "c",
        error: { code: "X", message: "m", detail: "d" },
      },
      {
        ...turn,
        kind: "tool_call_error",
        toolCallId: "c",
        error: { code: "X", message: "m", hint: 1 },
      },
      { ...turn, kind: "tool_call_result", toolCallId: "c", result: { summary: "x" } },
      { ...run, kind: "human_input_requested", requestId: "", key: "k", prompt: "p" },
      { ...run, kind: "human_input_requested", requestId: "r", key: "", prompt: "p" },
      { ...run, kind: "human_input_resolved", requestId: "r", key: "k", value: "secret answer" },
    ];
    for (const event of bad) expect(runEventSchema.safeParse(event).success).toBe(false);
  });

  it("carries an optional hint on event errors", () => {
    const error = { code: "BUDGET_EXCEEDED", message: "m", hint: "raise budget.max_usd" };
    for (const event of [
      { ...run, kind: "run_status", status: "failed", error },
      { ...turn, kind: "turn_ended", agentId: "a", reason: "error", error },
      { ...turn, kind: "tool_call_error", toolCallId: "c", error },
    ]) {
      expect(runEventSchema.parse(event)).toEqual(event);
    }
  });

  it("accepts a pass reason on run_status and per-request model calls on turn_ended", () => {
    for (const reason of ["first_start", "crash_restart", "engine_restart", "failover"]) {
      expect(
        runEventSchema.safeParse({ ...run, kind: "run_status", status: "pending", reason }).success,
      ).toBe(true);
    }
    expect(
      runEventSchema.safeParse({ ...run, kind: "run_status", status: "pending", reason: "boot" })
        .success,
    ).toBe(false);
    const call = {
      model: "gpt-4o-mini",
      provider: "openai",
      startedAt: 1_700_000_000_000,
      endedAt: 1_700_000_000_250,
      usage: { inputTokens: 30, outputTokens: 7, cacheReadTokens: 12, reasoningTokens: 3 },
      usdMicros: 9,
      estimated: true,
    };
    const ended = { ...turn, kind: "turn_ended", agentId: "a", reason: "complete" };
    expect(runEventSchema.parse({ ...ended, calls: [call] })).toEqual({ ...ended, calls: [call] });
    for (const badCall of [
      { ...call, model: "" },
      { ...call, endedAt: -1 },
      { ...call, usdMicros: 0.5 },
      { ...call, extra: 1 },
      { ...call, rate: { source: "guess", version: "1" } },
      { ...call, rate: { source: "default", version: "" } },
    ]) {
      expect(runEventSchema.safeParse({ ...ended, calls: [badCall] }).success).toBe(false);
      expect(runEventSchema.safeParse({ ...turn, kind: "model_call", ...badCall }).success).toBe(
        false,
      );
    }
    const priced = { ...call, rate: { source: "default", version: "2025-06-01" } };
    expect(runEventSchema.parse({ ...turn, kind: "model_call", ...priced })).toEqual({
      ...turn,
      kind: "model_call",
      ...priced,
    });
  });

  it("exports reusable token-usage and tool-return schemas usable with plain zod", () => {
    expect(tokenUsageSchema.parse({ totalTokens: 3 })).toEqual({ totalTokens: 3 });
    expect(tokenUsageSchema.safeParse({ totalTokens: 1.5 }).success).toBe(false);
    expect(toolReturnSchema.safeParse({ humanSummary: "x", other: 1 }).success).toBe(false);
    const wrapped = z.object({ cursor: z.number(), event: runEventSchema });
    expect(wrapped.safeParse({ cursor: 1, event: samples()[0] }).success).toBe(true);
    expect(z.toJSONSchema(tokenUsageSchema)).toMatchObject({ additionalProperties: false });
    expect(runEventSchema).toBeInstanceOf(z.ZodType);
  });
});

describe("channels", () => {
  it("maps every kind to exactly one channel", () => {
    const expected: Partial<Record<RunEventKind, string>> = {
      run_status: "lifecycle",
      phase: "phase",
      output: "output",
      program_output: "log",
      human_input_requested: "lifecycle",
      human_input_resolved: "lifecycle",
      tool_output_delta: "agent",
      egress_denied: "log",
      suspended: "lifecycle",
      resumed: "lifecycle",
    };
    const kinds = runEventSchema.options.map((o) => o.shape.kind.value);
    let agentKinds = 0;
    for (const kind of kinds) {
      const channel = channelOf({ kind });
      expect(channel).toBe(expected[kind] ?? "agent");
      if (channel === "agent") agentKinds += 1;
    }
    expect(agentKinds).toBe(17);
    expect(channelOf({ kind: "nope" as RunEventKind })).toBeUndefined();
    expect(channelOf({ kind: "toString" as RunEventKind })).toBeUndefined();
  });

  it("filters against a channel list", () => {
    const textDelta = { kind: "text_delta" } as const;
    const runStatus = { kind: "run_status" } as const;
    expect(DEFAULT_CHANNELS).toEqual(["lifecycle", "phase", "output"]);
    expect(matchesChannels(textDelta, DEFAULT_CHANNELS)).toBe(false);
    expect(matchesChannels(runStatus, DEFAULT_CHANNELS)).toBe(true);
    expect(matchesChannels({ kind: "nope" as RunEventKind }, CHANNELS)).toBe(false);
  });

  it("selects channels from subscription options", () => {
    expect(selectChannels({ verbose: true })).toEqual(CHANNELS);
    expect(selectChannels({ verbose: true, channels: "nope" })).toEqual(CHANNELS);
    expect(selectChannels({})).toEqual(DEFAULT_CHANNELS);
    expect(selectChannels({ verbose: false })).toEqual(DEFAULT_CHANNELS);
    expect(selectChannels({ channels: "phase, output" })).toEqual(["phase", "output"]);
    expect(selectChannels({ channels: [" log ", "agent"] })).toEqual(["log", "agent"]);
  });

  it("rejects an unknown or empty channel with a VALIDATION EngineError naming it", () => {
    for (const channels of ["nope", "phase,", ["lifecycle", "nope"]]) {
      let error: unknown;
      try {
        selectChannels({ channels });
      } catch (caught) {
        error = caught;
      }
      expect(isEngineError(error)).toBe(true);
      expect(error).toMatchObject({
        code: "VALIDATION",
        hint: "Valid channels: lifecycle, phase, output, log, agent.",
      });
    }
    expect(() => selectChannels({ channels: "nope" })).toThrow('Unknown channel "nope".');
  });
});
