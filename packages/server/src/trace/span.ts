/**
 * The trace of a run: a flat list of spans (each naming its parent) derived from the run's event
 * log, its row and the rows of its child runs. Times are epoch ms; `endedAt` is null while a span
 * is still open. The shapes here are what `GET /api/runs/:id/trace` serves and what the UI draws.
 */
import type { PassReason, RunStatus } from "@promenade/workflow";

/** What a span stands for. */
export type SpanKind =
  | "run"
  | "pass"
  | "phase"
  | "child_run"
  | "agent_turn"
  | "model_call"
  | "tool_call"
  | "mcp_call"
  | "summary";

/**
 * How a span ended: `running` while open; `crashed` for a pass whose process died;
 * `interrupted` for a pass (or anything open in it) cut short by an engine stop.
 */
export type SpanStatus = "running" | "ok" | "error" | "cancelled" | "crashed" | "interrupted";

/** Attribute values are flat scalars (JSON- and OpenTelemetry-friendly). */
export type SpanAttributes = Record<string, string | number | boolean>;

/** One span of a trace. */
export interface TraceSpan {
  /** Stable across rebuilds of the same run (derived from run, turn, tool-call and cursor ids). */
  id: string;
  /** `null` only for the run span. */
  parentId: string | null;
  kind: SpanKind;
  name: string;
  startedAt: number;
  endedAt: number | null;
  status: SpanStatus;
  attributes: SpanAttributes;
}

/** A child run (`workflows.call`/`run`) as the trace needs it. */
export interface TraceChildRun {
  id: string;
  workflowSlug: string | null;
  status: RunStatus;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  tokensIn: number;
  tokensOut: number;
  usdMicros: number;
  restarts: number;
  error: { code: string; message: string } | null;
}

/** The run row fields the trace reads. */
export interface TraceRun {
  id: string;
  workflowSlug: string | null;
  status: RunStatus;
  triggerKind: string;
  parentRunId: string | null;
  restarts: number;
  tokensIn: number;
  tokensOut: number;
  usdMicros: number;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  error: { code: string; message: string } | null;
}

/** Usage summed over the trace's agent turns and model calls. */
export interface TraceTotals {
  agentTurns: number;
  modelCalls: number;
  toolCalls: number;
  mcpCalls: number;
  childRuns: number;
  passes: number;
  /** Summed over `turn_ended.usage` of every ended turn. */
  inputTokens: number;
  outputTokens: number;
  /** Summed over the per-request records (`model_call`, or `turn_ended.calls` in older logs). */
  cacheReadTokens: number;
  cacheCreationTokens: number;
  reasoningTokens: number;
  /** The cost ledger: micro-USD summed over the priced model calls. */
  usdMicros: number;
  /** The part of `usdMicros` priced at the default rate of unknown models (an estimate). */
  estimatedUsdMicros: number;
}

/** How much of the event log a trace reflects, and whether it was cut down. */
export interface TraceCoverage {
  /** Events read so far (all of them when `complete`). */
  eventsScanned: number;
  /** Cursor of the last event read (0 when none). */
  lastCursor: number;
  /** False while more events remain to be read: ask again to continue. */
  complete: boolean;
  /** Set when leaf spans were collapsed into `summary` spans to keep the answer bounded. */
  summarised: { spansBefore: number; collapsed: number } | null;
}

/** A run's trace as served. */
export interface Trace {
  runId: string;
  spans: TraceSpan[];
  totals: TraceTotals;
  coverage: TraceCoverage;
}

/** The pass reasons, re-exported for readers of the trace. */
export type { PassReason };
