/**
 * `TraceBuilder`: turns a run's event log into spans, incrementally (events are fed in cursor
 * order, in as many batches as the caller likes) and without I/O. The event log is the only
 * source: passes come from the `run_status` sequence, phases from `phase` markers (a phase lasts
 * until the next marker or the end of its pass), agent turns from `turn_started`/`turn_ended`,
 * model calls from `model_call` events (the cost ledger; older logs carry the same records on
 * `turn_ended.calls`), tool and MCP calls from `tool_call_*`. The run row and the child rows are joined at `snapshot` time.
 */
import type { EventRow, RunEvent } from "../ports.ts";
import { passReason } from "./pass-reason.ts";
import type {
  PassReason,
  SpanAttributes,
  SpanStatus,
  TraceChildRun,
  TraceRun,
  TraceSpan,
  TraceTotals,
} from "./span.ts";

/** An MCP tool as the agent advertises it: `<server>__<tool>`. */
const MCP_TOOL = /^([A-Za-z0-9][A-Za-z0-9_-]*?)__(.+)$/;
/** Longest tool summary or error message kept on a span. */
const TEXT_MAX = 300;

interface PassState {
  span: TraceSpan;
  number: number;
  ran: boolean;
  lastT: number;
  events: number;
  /** Phases of this pass, in order (for placing child runs by time). */
  phases: TraceSpan[];
  /** Spans opened in this pass and not closed yet (phase, turns, tool calls). */
  open: Set<TraceSpan>;
}

type Event<K extends RunEvent["kind"]> = Extract<RunEvent, { kind: K }>;

function clip(text: string): string {
  return text.length > TEXT_MAX ? `${text.slice(0, TEXT_MAX)}…` : text;
}

function terminalSpanStatus(status: string): SpanStatus | null {
  if (status === "completed") return "ok";
  if (status === "failed") return "error";
  if (status === "cancelled") return "cancelled";
  return null;
}

function emptyTotals(): TraceTotals {
  return {
    agentTurns: 0,
    modelCalls: 0,
    toolCalls: 0,
    mcpCalls: 0,
    childRuns: 0,
    passes: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    reasoningTokens: 0,
    usdMicros: 0,
    estimatedUsdMicros: 0,
  };
}

/** A model request as `model_call` (or an older `turn_ended.calls[]` entry) records it. */
type ModelCallRecord = Omit<Event<"model_call">, "kind" | "runId" | "turnId" | "seq" | "t">;

/** Builds one run's spans from its events; feed with {@link add}, read with {@link snapshot}. */
export class TraceBuilder {
  readonly runId: string;
  /** Events consumed so far. */
  eventsScanned = 0;
  /** Cursor of the last event consumed (0 before any). */
  lastCursor = 0;
  private readonly spans: TraceSpan[] = [];
  private readonly passes: PassState[] = [];
  private pass: PassState | null = null;
  private phase: TraceSpan | null = null;
  private readonly turns = new Map<string, TraceSpan>();
  /** Model calls seen per turn span id (from `model_call` events). */
  private readonly callCounts = new Map<string, number>();
  private readonly tools = new Map<string, TraceSpan>();
  private readonly totals: TraceTotals = emptyTotals();

  constructor(runId: string) {
    this.runId = runId;
  }

  private get runSpanId(): string {
    return `run:${this.runId}`;
  }

  /** Consume events in cursor order; rows at or below the last consumed cursor are skipped. */
  add(rows: readonly EventRow[]): void {
    for (const row of rows) {
      if (row.cursor <= this.lastCursor) continue;
      this.lastCursor = row.cursor;
      this.eventsScanned += 1;
      this.apply(row.cursor, row.event);
    }
  }

  private apply(cursor: number, event: RunEvent): void {
    const pass = this.pass;
    if (pass !== null && event.kind !== "run_status") {
      pass.lastT = Math.max(pass.lastT, event.t);
      pass.events += 1;
    }
    switch (event.kind) {
      case "run_status":
        this.onStatus(cursor, event);
        break;
      case "phase":
        this.onPhase(cursor, event);
        break;
      case "turn_started":
        this.onTurnStarted(cursor, event);
        break;
      case "turn_ended":
        this.onTurnEnded(event);
        break;
      case "model_call":
        this.onModelCall(event);
        break;
      case "tool_call_start":
        this.onToolStart(cursor, event);
        break;
      case "tool_call_executing": {
        const span = this.tools.get(toolKey(event.turnId, event.toolCallId));
        if (span !== undefined) span.attributes["executingAt"] = event.t;
        break;
      }
      case "tool_call_result":
        this.onToolEnd(event.turnId, event.toolCallId, event.t, "ok", {
          ...(event.result.humanSummary === undefined
            ? {}
            : { summary: clip(event.result.humanSummary) }),
        });
        break;
      case "tool_call_error":
        this.onToolEnd(event.turnId, event.toolCallId, event.t, "error", {
          errorCode: event.error.code,
          errorMessage: clip(event.error.message),
        });
        break;
      default:
        break;
    }
  }

  private container(): string {
    return this.phase?.id ?? this.pass?.span.id ?? this.runSpanId;
  }

  private open(span: TraceSpan): TraceSpan {
    this.spans.push(span);
    this.pass?.open.add(span);
    return span;
  }

  private close(span: TraceSpan, endedAt: number, status: SpanStatus): void {
    span.endedAt = Math.max(endedAt, span.startedAt);
    span.status = status;
    this.pass?.open.delete(span);
  }

  private onStatus(cursor: number, event: Event<"run_status">): void {
    const current = this.pass;
    if (event.status === "pending") {
      const reason: PassReason = passReason(event.reason, this.passes.length === 0, cursor);
      if (current !== null) {
        if (reason === "crash_restart") this.endPass(current, event.t, "crashed");
        else if (reason === "retry" && event.error !== undefined) {
          // The attempt this retry follows failed with the error its `pending` carries.
          current.span.attributes["errorCode"] = event.error.code;
          current.span.attributes["errorMessage"] = clip(event.error.message);
          this.endPass(current, event.t, "error");
        } else this.endPass(current, current.lastT, "interrupted");
      }
      const number = this.passes.length + 1;
      const span: TraceSpan = {
        id: `pass:${number}`,
        parentId: this.runSpanId,
        kind: "pass",
        name: `pass ${number}`,
        startedAt: event.t,
        endedAt: null,
        status: "running",
        attributes: { attempt: number, reason },
      };
      this.spans.push(span);
      const state: PassState = {
        span,
        number,
        ran: false,
        lastT: event.t,
        events: 0,
        phases: [],
        open: new Set(),
      };
      this.passes.push(state);
      this.pass = state;
      this.phase = null;
      this.totals.passes += 1;
      return;
    }
    if (current === null) return;
    current.lastT = Math.max(current.lastT, event.t);
    if (event.status === "running") {
      current.ran = true;
      current.span.attributes["runningAt"] = event.t;
      // The supervisor stamps the pass's reason on its `running` statuses too; a stamped reason
      // replaces a guess made at a `pending` that carried none.
      if (event.reason !== undefined) current.span.attributes["reason"] = event.reason;
      return;
    }
    if (event.status === "cancelling") {
      current.span.attributes["cancelRequestedAt"] = event.t;
      return;
    }
    const status = terminalSpanStatus(event.status);
    if (status === null) return;
    if (event.error !== undefined) {
      current.span.attributes["errorCode"] = event.error.code;
      current.span.attributes["errorMessage"] = clip(event.error.message);
    }
    this.endPass(current, event.t, status);
  }

  private endPass(state: PassState, endedAt: number, status: SpanStatus): void {
    for (const span of [...state.open]) {
      const inner = span.kind === "phase" || status !== "ok" ? status : "interrupted";
      this.close(span, endedAt, inner);
    }
    state.open.clear();
    state.span.endedAt = Math.max(endedAt, state.span.startedAt);
    state.span.status = status;
    state.span.attributes["ran"] = state.ran;
    state.span.attributes["events"] = state.events;
    if (this.pass === state) {
      this.pass = null;
      this.phase = null;
    }
  }

  private onPhase(cursor: number, event: Event<"phase">): void {
    if (this.phase !== null) this.close(this.phase, event.t, "ok");
    const span = this.open({
      id: `phase:${cursor}`,
      parentId: this.pass?.span.id ?? this.runSpanId,
      kind: "phase",
      name: event.name,
      startedAt: event.t,
      endedAt: null,
      status: "running",
      attributes: { phaseId: event.id },
    });
    this.pass?.phases.push(span);
    this.phase = span;
  }

  private onTurnStarted(cursor: number, event: Event<"turn_started">): void {
    const id = this.turns.has(event.turnId)
      ? `turn:${event.turnId}:${cursor}`
      : `turn:${event.turnId}`;
    const attributes: SpanAttributes = { turnId: event.turnId, agentId: event.agentId };
    if (event.agentName !== undefined) attributes["agentName"] = event.agentName;
    const span = this.open({
      id,
      parentId: this.container(),
      kind: "agent_turn",
      name: `agent ${event.agentName ?? event.agentId}`,
      startedAt: event.t,
      endedAt: null,
      status: "running",
      attributes,
    });
    this.turns.set(event.turnId, span);
    this.totals.agentTurns += 1;
  }

  private onTurnEnded(event: Event<"turn_ended">): void {
    const span = this.turns.get(event.turnId);
    if (span === undefined || span.endedAt !== null) return;
    const status: SpanStatus =
      event.reason === "complete" ? "ok" : event.reason === "cancelled" ? "cancelled" : "error";
    this.close(span, event.t, status);
    const a = span.attributes;
    a["reason"] = event.reason;
    if (event.usage !== undefined) {
      const input = event.usage.inputTokens ?? 0;
      const output = event.usage.outputTokens ?? 0;
      a["inputTokens"] = input;
      a["outputTokens"] = output;
      this.totals.inputTokens += input;
      this.totals.outputTokens += output;
    }
    if (event.error !== undefined) {
      a["errorCode"] = event.error.code;
      a["errorMessage"] = clip(event.error.message);
    }
    // Older logs: the turn's requests ride on turn_ended (none of them had a model_call).
    if (event.calls !== undefined && !this.callCounts.has(span.id)) {
      for (const call of event.calls) this.addModelCall(span, call, span.endedAt ?? event.t);
    }
    a["modelCalls"] = this.callCounts.get(span.id) ?? 0;
  }

  private onModelCall(event: Event<"model_call">): void {
    const turn = this.turns.get(event.turnId);
    const { kind: _kind, runId: _runId, turnId: _turnId, seq: _seq, t, ...call } = event;
    if (turn === undefined) {
      this.addModelCall(null, call, t);
      return;
    }
    this.addModelCall(turn, call, turn.endedAt ?? t);
  }

  /**
   * One model-call span under `turn` (the run's innermost container when the turn is unknown),
   * its usage and cost added to the turn and the totals. `latest` bounds its times.
   */
  private addModelCall(turn: TraceSpan | null, call: ModelCallRecord, latest: number): void {
    const attributes: SpanAttributes = { model: call.model };
    if (call.provider !== undefined) attributes["provider"] = call.provider;
    const usage = call.usage ?? {};
    for (const key of [
      "inputTokens",
      "outputTokens",
      "cacheReadTokens",
      "cacheCreationTokens",
      "reasoningTokens",
    ] as const) {
      const value = usage[key];
      if (value !== undefined) attributes[key] = value;
    }
    this.totals.cacheReadTokens += usage.cacheReadTokens ?? 0;
    this.totals.cacheCreationTokens += usage.cacheCreationTokens ?? 0;
    this.totals.reasoningTokens += usage.reasoningTokens ?? 0;
    if (call.usdMicros !== undefined) {
      attributes["usdMicros"] = call.usdMicros;
      this.totals.usdMicros += call.usdMicros;
      if (call.estimated === true) this.totals.estimatedUsdMicros += call.usdMicros;
    }
    if (call.estimated !== undefined) attributes["estimated"] = call.estimated;
    if (call.rate !== undefined) {
      attributes["rateSource"] = call.rate.source;
      attributes["rateVersion"] = call.rate.version;
    }
    if (call.error !== undefined) {
      attributes["errorCode"] = call.error.code;
      attributes["errorMessage"] = clip(call.error.message);
    }
    const floor = turn?.startedAt ?? Number.NEGATIVE_INFINITY;
    // Request times are read in the run process; the turn's own times are stamped when its
    // events reach the engine, a few ms later. Clamp so a request never leaves its turn.
    const startedAt = Math.min(Math.max(call.startedAt, floor), latest);
    const count = (this.callCounts.get(turn?.id ?? "") ?? 0) + 1;
    if (turn !== null) {
      this.callCounts.set(turn.id, count);
      const a = turn.attributes;
      if (call.usdMicros !== undefined) {
        a["usdMicros"] = (typeof a["usdMicros"] === "number" ? a["usdMicros"] : 0) + call.usdMicros;
      }
      if (call.estimated === true) a["estimated"] = true;
    }
    this.spans.push({
      id: turn === null ? `model:${this.totals.modelCalls + 1}` : `${turn.id}/model:${count}`,
      parentId: turn?.id ?? this.container(),
      kind: "model_call",
      name: `chat ${call.model}`,
      startedAt,
      endedAt: Math.min(Math.max(call.endedAt, startedAt), latest),
      status: call.error === undefined ? "ok" : "error",
      attributes,
    });
    this.totals.modelCalls += 1;
  }

  private onToolStart(cursor: number, event: Event<"tool_call_start">): void {
    const mcp = MCP_TOOL.exec(event.toolName);
    const attributes: SpanAttributes = { toolName: event.toolName, toolCallId: event.toolCallId };
    if (mcp !== null) {
      attributes["mcpServer"] = mcp[1] ?? "";
      attributes["mcpTool"] = mcp[2] ?? "";
    }
    const span = this.open({
      id: `tool:${cursor}`,
      parentId: this.turns.get(event.turnId)?.id ?? this.container(),
      kind: mcp === null ? "tool_call" : "mcp_call",
      name: event.toolName,
      startedAt: event.t,
      endedAt: null,
      status: "running",
      attributes,
    });
    this.tools.set(toolKey(event.turnId, event.toolCallId), span);
    if (mcp === null) this.totals.toolCalls += 1;
    else this.totals.mcpCalls += 1;
  }

  private onToolEnd(
    turnId: string,
    toolCallId: string,
    t: number,
    status: SpanStatus,
    attributes: SpanAttributes,
  ): void {
    const key = toolKey(turnId, toolCallId);
    const span = this.tools.get(key);
    if (span === undefined || span.endedAt !== null) return;
    this.tools.delete(key);
    Object.assign(span.attributes, attributes);
    this.close(span, t, status);
  }

  /**
   * The spans so far, with the run span (from the row) first and child runs placed under the
   * phase or pass that was open when each child was created. Copies: later `add` calls do not
   * change a returned snapshot.
   */
  snapshot(
    run: TraceRun,
    children: readonly TraceChildRun[],
  ): {
    spans: TraceSpan[];
    totals: TraceTotals;
  } {
    const runSpan: TraceSpan = {
      id: this.runSpanId,
      parentId: null,
      kind: "run",
      name: run.workflowSlug ?? run.id,
      startedAt: run.createdAt,
      endedAt: run.endedAt,
      status: terminalSpanStatus(run.status) ?? "running",
      attributes: runAttributes(run),
    };
    if (this.totals.estimatedUsdMicros > 0) runSpan.attributes["estimated"] = true;
    const spans: TraceSpan[] = [runSpan];
    for (const span of this.spans) spans.push({ ...span, attributes: { ...span.attributes } });
    for (const child of children) spans.push(this.childSpan(child));
    return { spans, totals: { ...this.totals, childRuns: children.length } };
  }

  private childSpan(child: TraceChildRun): TraceSpan {
    const attributes: SpanAttributes = {
      childRunId: child.id,
      status: child.status,
      restarts: child.restarts,
      tokensIn: child.tokensIn,
      tokensOut: child.tokensOut,
      usdMicros: child.usdMicros,
    };
    if (child.workflowSlug !== null) attributes["workflow"] = child.workflowSlug;
    if (child.startedAt !== null) attributes["runningAt"] = child.startedAt;
    if (child.error !== null) {
      attributes["errorCode"] = child.error.code;
      attributes["errorMessage"] = clip(child.error.message);
    }
    return {
      id: `child:${child.id}`,
      parentId: this.containerAt(child.createdAt),
      kind: "child_run",
      name: child.workflowSlug ?? child.id,
      startedAt: child.createdAt,
      endedAt: child.endedAt,
      status: terminalSpanStatus(child.status) ?? "running",
      attributes,
    };
  }

  /** The innermost phase (else pass, else run) open at time `t`. */
  private containerAt(t: number): string {
    for (let i = this.passes.length - 1; i >= 0; i--) {
      const pass = this.passes[i];
      if (pass === undefined || pass.span.startedAt > t) continue;
      if (pass.span.endedAt !== null && pass.span.endedAt < t) break;
      for (let j = pass.phases.length - 1; j >= 0; j--) {
        const phase = pass.phases[j];
        if (phase === undefined || phase.startedAt > t) continue;
        if (phase.endedAt === null || phase.endedAt >= t) return phase.id;
        break;
      }
      return pass.span.id;
    }
    return this.runSpanId;
  }
}

function toolKey(turnId: string, toolCallId: string): string {
  return `${turnId}\u0000${toolCallId}`;
}

function runAttributes(run: TraceRun): SpanAttributes {
  const attributes: SpanAttributes = {
    runId: run.id,
    status: run.status,
    trigger: run.triggerKind,
    restarts: run.restarts,
    tokensIn: run.tokensIn,
    tokensOut: run.tokensOut,
    usdMicros: run.usdMicros,
  };
  if (run.workflowSlug !== null) attributes["workflow"] = run.workflowSlug;
  if (run.parentRunId !== null) attributes["parentRunId"] = run.parentRunId;
  if (run.startedAt !== null) attributes["runningAt"] = run.startedAt;
  if (run.error !== null) {
    attributes["errorCode"] = run.error.code;
    attributes["errorMessage"] = clip(run.error.message);
  }
  return attributes;
}
