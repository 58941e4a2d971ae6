/**
 * `buildTrace`: a run's trace from its row, its whole event log and its child runs, in one pure
 * call (the route feeds a cached {@link TraceBuilder} instead, so repeated reads of a live run
 * only consume the new events).
 */
import type { EventRow } from "../ports.ts";
import { TraceBuilder } from "./builder.ts";
import type { Trace, TraceChildRun, TraceRun } from "./span.ts";
import { summariseSpans } from "./summarise.ts";

/** Spans served at most per trace; beyond it leaf spans are folded into `summary` spans. */
export const TRACE_MAX_SPANS = 2000;

/** What {@link buildTrace} reads. */
export interface TraceInput {
  run: TraceRun;
  /** The run's events in cursor order (all of them for a complete trace). */
  events: readonly EventRow[];
  /** Runs whose `parentRunId` is this run. */
  children?: readonly TraceChildRun[];
  /** Default {@link TRACE_MAX_SPANS}. */
  maxSpans?: number;
}

/** The trace of `input.run`. Deterministic: the same input gives the same spans and ids. */
export function buildTrace(input: TraceInput): Trace {
  const builder = new TraceBuilder(input.run.id);
  builder.add(input.events);
  return traceOf(builder, input.run, input.children ?? [], true, input.maxSpans);
}

/** Snapshot a builder into the served shape, folding spans past `maxSpans`. */
export function traceOf(
  builder: TraceBuilder,
  run: TraceRun,
  children: readonly TraceChildRun[],
  complete: boolean,
  maxSpans: number = TRACE_MAX_SPANS,
): Trace {
  const { spans, totals } = builder.snapshot(run, children);
  const folded = summariseSpans(spans, maxSpans);
  return {
    runId: run.id,
    spans: folded.spans,
    totals,
    coverage: {
      eventsScanned: builder.eventsScanned,
      lastCursor: builder.lastCursor,
      complete,
      summarised:
        folded.collapsed === 0 ? null : { spansBefore: spans.length, collapsed: folded.collapsed },
    },
  };
}
