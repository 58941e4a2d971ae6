/**
 * Events → terminal lines: one line per status, phase, output and program line (chunks joined,
 * split on newlines), agent text and reasoning collapsed into one block, tool calls by name, and
 * no escape codes when colour is off. If this breaks, `promenade logs` prints half lines,
 * thousands of one-token lines, or garbage into a CI log.
 */
import type { RunEvent } from "@promenade/workflow";
import { describe, expect, it } from "vitest";
import { createStyle, stripAnsi } from "./color.ts";
import { EventRenderer, formatJson } from "./event-renderer.ts";
import { formatClock } from "./time.ts";

const T = new Date(2026, 0, 2, 13, 4, 5, 123).getTime();
let seq = 0;
function row(fields: Record<string, unknown>): { cursor: number; event: RunEvent } {
  seq += 1;
  const event = { runId: "R", turnId: "R", seq, t: T, ...fields } as unknown as RunEvent;
  return { cursor: seq, event };
}

function renderAll(events: Record<string, unknown>[], color = false): string[] {
  const renderer = new EventRenderer(createStyle(color));
  return [...events.flatMap((fields) => renderer.render(row(fields))), ...renderer.flush()];
}

describe("EventRenderer", () => {
  it("renders status, phase, output and failures with a clock and a label", () => {
    expect(formatClock(T)).toBe("13:04:05.123");
    expect(
      renderAll([
        { kind: "run_status", status: "running" },
        { kind: "phase", name: "gather", id: "gather" },
        { kind: "output", value: { n: 1 } },
        { kind: "run_status", status: "failed", error: { code: "PROGRAM_ERROR", message: "boom" } },
      ]),
    ).toEqual([
      "13:04:05.123 status  running",
      "13:04:05.123 phase   gather",
      '13:04:05.123 output  {"n":1}',
      "13:04:05.123 status  failed — PROGRAM_ERROR: boom",
    ]);
  });

  it("joins program output chunks into whole lines per stream and flushes a trailing part", () => {
    expect(
      renderAll([
        { kind: "program_output", stream: "stdout", text: "hel" },
        { kind: "program_output", stream: "stdout", text: "lo\nwor" },
        { kind: "program_output", stream: "stderr", text: "warn\n" },
        { kind: "program_output", stream: "stdout", text: "ld\n\nend" },
      ]),
    ).toEqual([
      "13:04:05.123 stdout  hello",
      "13:04:05.123 stderr  warn",
      "13:04:05.123 stdout  world",
      "13:04:05.123 stdout  ",
      "13:04:05.123 stdout  end",
    ]);
  });

  it("collapses an agent turn's text and reasoning and names tool calls", () => {
    const turn = { turnId: "T1" };
    expect(
      renderAll([
        { kind: "turn_started", agentId: "agent-1", agentName: "triage", ...turn },
        { kind: "reasoning_delta", text: "think", ...turn },
        { kind: "reasoning_delta", text: "ing", ...turn },
        { kind: "text_start", blockId: "b", ...turn },
        { kind: "text_delta", blockId: "b", text: "The printer ", ...turn },
        { kind: "text_delta", blockId: "b", text: "is fine.", ...turn },
        { kind: "text_end", blockId: "b", ...turn },
        { kind: "tool_call_start", toolCallId: "c", toolName: "search", ...turn },
        { kind: "tool_call_input_delta", toolCallId: "c", partialJson: "{", ...turn },
        { kind: "tool_call_input_complete", toolCallId: "c", input: { q: "x" }, ...turn },
        { kind: "tool_call_executing", toolCallId: "c", ...turn },
        { kind: "tool_call_result", toolCallId: "c", result: { humanSummary: "3 hits" }, ...turn },
        {
          kind: "turn_ended",
          agentId: "agent-1",
          reason: "complete",
          usage: { inputTokens: 10, outputTokens: 5 },
          ...turn,
        },
      ]),
    ).toEqual([
      "13:04:05.123 agent   triage turn started",
      "13:04:05.123 think   thinking",
      "13:04:05.123 text    [triage] The printer is fine.",
      '13:04:05.123 tool    search({"q":"x"})',
      "13:04:05.123 tool    search → 3 hits",
      "13:04:05.123 agent   triage turn ended (complete, 10 in / 5 out tokens)",
    ]);
  });

  it("prints long output values indented under the first line", () => {
    const value = { text: "x".repeat(120) };
    const lines = renderAll([{ kind: "output", value }]);
    expect(lines[0]).toBe("13:04:05.123 output  {");
    expect(lines[1]).toBe(`${" ".repeat(21)}  "text": "${"x".repeat(120)}"`);
    expect(formatJson([1, 2])).toBe("[1,2]");
  });

  it("adds colour only when enabled, without changing the text", () => {
    const events = [
      { kind: "run_status", status: "completed" },
      { kind: "program_output", stream: "stderr", text: "careful\n" },
    ];
    const plain = renderAll(events);
    const colored = renderAll(events, true);
    expect(plain.join("")).not.toContain("\u001b[");
    expect(colored.join("")).toContain("\u001b[");
    expect(colored.map(stripAnsi)).toEqual(plain);
  });

  it("says which gate waits for a person and how to answer it, then that it was answered", () => {
    expect(
      renderAll([
        { kind: "run_status", status: "awaiting_input" },
        { kind: "human_input_requested", requestId: "q1", key: "approve", prompt: "Ship it?" },
        { kind: "human_input_requested", requestId: "q2", key: "it's mine", prompt: "Name?" },
        { kind: "human_input_resolved", requestId: "q1", key: "approve" },
      ]),
    ).toEqual([
      "13:04:05.123 status  awaiting_input",
      "13:04:05.123 input   approve waiting: Ship it? (promenade respond R approve --value …)",
      "13:04:05.123 input   it's mine waiting: Name? (promenade respond R 'it'\\''s mine' --value …)",
      "13:04:05.123 input   approve answered",
    ]);
  });
});
