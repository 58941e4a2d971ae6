/**
 * A run shaped like an agent's, for benchmarks of the trace API (the fake engine's events, or
 * copied into a real store).
 */
import type { FakeEngine } from "./fake-engine.ts";

/**
 * Appends events shaped like an agent run's to a fake engine's run until it has `events` events,
 * then completes it: a phase every 20 turns; per turn five tool calls (one an MCP tool), a text
 * block streamed in 20 deltas, and a turn end with two model requests. For trace benchmarks.
 */
export function fillAgentShapedRun(engine: FakeEngine, runId: string, events: number): void {
  engine.setStatus(runId, "pending");
  engine.setStatus(runId, "running");
  let count = 3;
  let turn = 0;
  const left = (): number => events - count - 1;
  while (left() > 0) {
    if (turn % 20 === 0 && left() > 0) {
      engine.emit(runId, { kind: "phase", name: `phase ${turn / 20 + 1}`, id: `p${turn}` });
      count++;
    }
    const turnId = `turn-${turn++}`;
    if (left() < 50) {
      while (left() > 0) {
        engine.emit(runId, { kind: "program_output", stream: "stdout", text: "tick\n" });
        count++;
      }
      break;
    }
    const startedAt = Date.now();
    engine.emit(runId, { kind: "turn_started", agentId: `agent-${turn}` }, turnId);
    for (let c = 0; c < 5; c++) {
      const toolCallId = `call-${c}`;
      const toolName = c === 4 ? "db__lookup" : "fetch_page";
      engine.emit(runId, { kind: "tool_call_start", toolCallId, toolName }, turnId);
      engine.emit(runId, { kind: "tool_call_input_complete", toolCallId, input: { c } }, turnId);
      engine.emit(runId, { kind: "tool_call_executing", toolCallId }, turnId);
      engine.emit(
        runId,
        { kind: "tool_call_result", toolCallId, result: { humanSummary: "200 OK, 14 kB" } },
        turnId,
      );
    }
    engine.emit(runId, { kind: "text_start", blockId: "text-2" }, turnId);
    for (let d = 0; d < 20; d++) {
      engine.emit(runId, { kind: "text_delta", blockId: "text-2", text: "some words " }, turnId);
    }
    engine.emit(runId, { kind: "text_end", blockId: "text-2" }, turnId);
    const call = (at: number) => ({
      model: "gpt-4o-mini",
      provider: "openai",
      startedAt: at,
      endedAt: at + 1,
      usage: { inputTokens: 300, outputTokens: 40 },
    });
    engine.emit(
      runId,
      {
        kind: "turn_ended",
        agentId: `agent-${turn}`,
        reason: "complete",
        usage: { inputTokens: 600, outputTokens: 80 },
        calls: [call(startedAt), call(startedAt + 1)],
      },
      turnId,
    );
    count += 44;
  }
  engine.setStatus(runId, "completed");
}
