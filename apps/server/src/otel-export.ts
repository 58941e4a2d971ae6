/**
 * Exports each finished run's trace over OTLP/HTTP with the official OpenTelemetry SDK. When a
 * run's terminal status is committed, its trace is built from the event log (the same
 * `buildTrace` the API serves) and replayed as OpenTelemetry spans with their recorded start and
 * end times: one OpenTelemetry trace per run, the run span at its root, the run id on every span.
 * Model requests carry the GenAI semantic-convention attributes (and their cost as
 * `promenade.usdMicros`, `promenade.estimated`, `promenade.rateSource`); nothing else from the run (its
 * input, output, prompts, tool inputs) is exported. Spans are batched off the event path.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Attributes, Span, Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { Engine, RunRow } from "@promenade/engine";
import { buildTrace } from "@promenade/server";
import type { TraceChildRun, TraceRun, TraceSpan } from "@promenade/server";
import type { TraceExport } from "./otel.ts";

/** Options of {@link startTraceExport}. */
export interface TraceExportOptions {
  engine: Engine;
  /** The OTLP/HTTP traces endpoint (`…/v1/traces`). */
  url: string;
  /** `service.name` of the exported resource. Default `promenade-server`. */
  serviceName?: string;
  log: (line: string) => void;
}

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** OpenTelemetry attributes of one span: GenAI conventions where they apply, the rest namespaced. */
export function otelAttributes(span: TraceSpan, runId: string): Attributes {
  const a = span.attributes;
  const out: Attributes = { "promenade.run.id": runId, "promenade.span.kind": span.kind };
  for (const [key, value] of Object.entries(a)) out[`promenade.${key}`] = value;
  switch (span.kind) {
    case "model_call":
      out["gen_ai.operation.name"] = "chat";
      if (a["provider"] !== undefined) {
        out["gen_ai.system"] = a["provider"];
        out["gen_ai.provider.name"] = a["provider"];
      }
      out["gen_ai.request.model"] = a["model"] ?? "";
      out["gen_ai.response.model"] = a["model"] ?? "";
      if (a["inputTokens"] !== undefined) out["gen_ai.usage.input_tokens"] = a["inputTokens"];
      if (a["outputTokens"] !== undefined) out["gen_ai.usage.output_tokens"] = a["outputTokens"];
      if (a["cacheReadTokens"] !== undefined) {
        out["gen_ai.usage.cache_read.input_tokens"] = a["cacheReadTokens"];
      }
      if (a["cacheCreationTokens"] !== undefined) {
        out["gen_ai.usage.cache_creation.input_tokens"] = a["cacheCreationTokens"];
      }
      if (a["reasoningTokens"] !== undefined) {
        out["gen_ai.usage.reasoning.output_tokens"] = a["reasoningTokens"];
      }
      break;
    case "agent_turn":
      out["gen_ai.operation.name"] = "invoke_agent";
      out["gen_ai.agent.id"] = a["agentId"] ?? "";
      if (a["agentName"] !== undefined) out["gen_ai.agent.name"] = a["agentName"];
      if (a["inputTokens"] !== undefined) out["gen_ai.usage.input_tokens"] = a["inputTokens"];
      if (a["outputTokens"] !== undefined) out["gen_ai.usage.output_tokens"] = a["outputTokens"];
      break;
    case "tool_call":
    case "mcp_call":
      out["gen_ai.operation.name"] = "execute_tool";
      out["gen_ai.tool.name"] = a["toolName"] ?? span.name;
      if (a["toolCallId"] !== undefined) out["gen_ai.tool.call.id"] = a["toolCallId"];
      break;
    default:
      break;
  }
  if (typeof a["errorCode"] === "string") out["error.type"] = a["errorCode"];
  return out;
}

/** Replays a trace's spans (parents first) through `tracer`. */
export function replay(tracer: Tracer, runId: string, spans: readonly TraceSpan[]): void {
  const started = new Map<string, Span>();
  const now = Date.now();
  const remaining = [...spans];
  // Parents precede their children in a trace; a second pass catches any that do not.
  for (let round = 0; round < 2 && remaining.length > 0; round++) {
    for (let i = 0; i < remaining.length;) {
      const span = remaining[i];
      if (span === undefined) break;
      const parent = span.parentId === null ? null : started.get(span.parentId);
      if (span.parentId !== null && parent === undefined) {
        i++;
        continue;
      }
      remaining.splice(i, 1);
      const context = parent == null ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, parent);
      const otel = tracer.startSpan(
        span.kind === "model_call" ? span.name : `${span.kind} ${span.name}`,
        {
          startTime: span.startedAt,
          kind: span.kind === "model_call" ? SpanKind.CLIENT : SpanKind.INTERNAL,
          attributes: otelAttributes(span, runId),
        },
        context,
      );
      if (span.status === "error" || span.status === "crashed") {
        const message = span.attributes["errorMessage"];
        otel.setStatus({
          code: SpanStatusCode.ERROR,
          ...(typeof message === "string" ? { message } : {}),
        });
      } else if (span.status === "ok") {
        otel.setStatus({ code: SpanStatusCode.OK });
      }
      started.set(span.id, otel);
      otel.end(span.endedAt ?? now);
    }
  }
}

/** Subscribe to the engine and export every run that ends from now on. */
export function startTraceExport(options: TraceExportOptions): TraceExport {
  const { engine, log } = options;
  const exporter = new OTLPTraceExporter({ url: options.url });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName ?? "promenade-server" }),
    spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: 8192 })],
  });
  const tracer = provider.getTracer("promenade");
  // Reads go through `engine.storeAsync`, so the export works on SQLite and on PostgreSQL.
  const reads = engine.storeAsync;
  const slugs = new Map<string, Promise<string | null>>();
  const slugOf = (workflowId: string): Promise<string | null> => {
    let slug = slugs.get(workflowId);
    if (slug === undefined) {
      slug = reads.getWorkflowById(workflowId).then((row) => row?.slug ?? null);
      // A failed read is not remembered: the next run asks again.
      slug.catch(() => slugs.delete(workflowId));
      slugs.set(workflowId, slug);
    }
    return slug;
  };
  const toTraceRun = async (row: RunRow): Promise<TraceRun> => ({
    ...row,
    workflowSlug: await slugOf(row.workflowId),
    error: row.error === null ? null : { code: row.error.code, message: row.error.message },
  });

  const pending = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  const exportRun = async (runId: string): Promise<void> => {
    // Once per terminal status: a run flushed by `close` is not exported again by its timer.
    if (!pending.delete(runId)) return;
    try {
      const run = await reads.getRun(runId);
      if (run === null) return;
      const childRows = await reads.listRuns({ parentRunId: runId, order: "oldest", limit: 1000 });
      const children: TraceChildRun[] = await Promise.all(childRows.map(toTraceRun));
      const built = buildTrace({
        run: await toTraceRun(run),
        events: await reads.listEvents(runId),
        children,
      });
      replay(tracer, runId, built.spans);
    } catch (err) {
      log(
        `trace export of run ${runId} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  };
  const startExport = (runId: string): void => {
    const running = exportRun(runId);
    inFlight.add(running);
    void running.finally(() => inFlight.delete(running));
  };
  const unsubscribe = engine.onEvent((row) => {
    if (row.event.kind !== "run_status" || !TERMINAL.has(row.event.status)) return;
    if (pending.has(row.runId)) return;
    pending.add(row.runId);
    // Off the commit path: the listener runs right after the commit.
    setImmediate(() => startExport(row.runId));
  });
  const where = new URL(options.url);
  log(`trace export: OTLP/HTTP to ${where.origin}${where.pathname}`);
  return {
    url: options.url,
    async close() {
      unsubscribe();
      for (const runId of [...pending]) startExport(runId);
      await Promise.all([...inFlight]);
      await provider.forceFlush();
      await provider.shutdown();
    },
  };
}
