/**
 * The run-event wire format: the 26 strict event schemas, the envelope, cursors and
 * channels. Wire names are frozen (Boardwalk-compatible): never restyle a kind or field. The zod
 * schemas are built on first use (see internal/lazy.ts); cursor and channel helpers need no zod,
 * so servers filtering a stream and programs importing `.` pay nothing for the schemas.
 */
import { PASS_REASONS, READABLE_RUN_STATUSES, RUN_STATUSES } from "./records/statuses.ts";
import type { PassReason } from "./records/statuses.ts";
import type { z } from "zod";
import { EngineError } from "./errors/index.ts";
import { lazyObject, loadZod, once } from "./internal/lazy.ts";

/** Cursor block size: `cursor = turnNumber * TURN_CURSOR_STRIDE + seq`. */
export const TURN_CURSOR_STRIDE = 1_000_000;

/**
 * The run-global cursor of the event at position `seq` (1-based, `< 1_000_000`) of block
 * `turnNumber` (integer ≥ 0). Throws `RangeError` for anything else.
 */
export function makeCursor(turnNumber: number, seq: number): number {
  if (!Number.isSafeInteger(turnNumber) || turnNumber < 0) {
    throw new RangeError(
      `makeCursor: turnNumber must be an integer ≥ 0, got ${String(turnNumber)}`,
    );
  }
  if (!Number.isInteger(seq) || seq < 1 || seq >= TURN_CURSOR_STRIDE) {
    throw new RangeError(
      `makeCursor: seq must be an integer in [1, ${String(TURN_CURSOR_STRIDE)}), got ${String(seq)}`,
    );
  }
  const cursor = turnNumber * TURN_CURSOR_STRIDE + seq;
  if (!Number.isSafeInteger(cursor)) {
    throw new RangeError(`makeCursor: turnNumber ${String(turnNumber)} is too large`);
  }
  return cursor;
}

/**
 * Why a pass started: the optional `reason` of the `pending` status that opens a pass and of the
 * `running` statuses of that pass. Optional on the wire: streams written before it existed carry
 * no reason.
 */
export type { PassReason };

function buildEventSchemas() {
  const { z } = loadZod();
  const nonEmpty = z.string().min(1);
  const envelope = {
    runId: nonEmpty,
    turnId: nonEmpty,
    seq: z.int().min(1),
    t: z.int().min(0),
  };
  const eventErrorSchema = z.strictObject({
    code: nonEmpty,
    message: z.string(),
    hint: z.string().optional(),
  });
  const count = z.int().min(0).optional();
  const tokenUsageSchema = z.strictObject({
    inputTokens: count,
    outputTokens: count,
    cacheCreationTokens: count,
    cacheReadTokens: count,
    totalTokens: count,
    reasoningTokens: count,
  });
  const toolReturnSchema = z.strictObject({
    kind: z.string().optional(),
    humanSummary: z.string().optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  });
  const event = <K extends string, S extends z.core.$ZodLooseShape>(kind: K, shape: S) =>
    z.strictObject({ ...envelope, kind: z.literal(kind), ...shape });
  // Where the price of a model call came from: the shipped rate table, an operator rate, or the
  // default rate of models no row matches (then the call's cost is estimated).
  const rateSchema = z.strictObject({
    source: z.enum(["built-in", "override", "default"]),
    version: nonEmpty,
  });
  // One provider request of an agent turn: its times, usage and (priced by the engine) cost.
  const modelCallShape = {
    model: nonEmpty,
    provider: nonEmpty.optional(),
    startedAt: z.int().min(0),
    endedAt: z.int().min(0),
    usage: tokenUsageSchema.optional(),
    usdMicros: z.int().min(0).optional(),
    rate: rateSchema.optional(),
    estimated: z.boolean().optional(),
    error: eventErrorSchema.optional(),
  };
  // The per-request records some turns carried on `turn_ended` before `model_call` existed.
  const modelCallSchema = z.strictObject(modelCallShape);

  const runStatusEvent = <S extends readonly [string, ...string[]]>(statuses: S) =>
    event("run_status", {
      status: z.enum(statuses),
      error: eventErrorSchema.optional(),
      reason: z.enum(PASS_REASONS).optional(),
    });
  const otherKinds = [
    event("phase", { name: nonEmpty, id: nonEmpty }),
    // JSON has no undefined: a missing `value` is a missing field, not a declared undefined.
    event("output", {
      value: z.unknown().refine((value) => value !== undefined, "value is required"),
    }),
    event("program_output", { stream: z.enum(["stdout", "stderr"]), text: z.string() }),
    event("turn_started", { agentId: nonEmpty, agentName: nonEmpty.optional() }),
    event("turn_ended", {
      agentId: nonEmpty,
      agentName: nonEmpty.optional(),
      reason: z.enum(["complete", "cancelled", "error"]),
      usage: tokenUsageSchema.optional(),
      error: eventErrorSchema.optional(),
      calls: z.array(modelCallSchema).optional(),
    }),
    // The cost ledger: one per model request of a turn, written when the request ends.
    event("model_call", modelCallShape),
    event("text_start", { blockId: z.string() }),
    event("text_delta", { blockId: z.string(), text: z.string() }),
    event("text_end", { blockId: z.string() }),
    event("tool_call_start", { toolCallId: z.string(), toolName: z.string() }),
    event("tool_call_input_delta", { toolCallId: z.string(), partialJson: z.string() }),
    event("tool_call_input_complete", {
      toolCallId: z.string(),
      input: z.record(z.string(), z.unknown()),
    }),
    event("tool_call_executing", { toolCallId: z.string() }),
    event("tool_call_result", { toolCallId: z.string(), result: toolReturnSchema }),
    event("tool_call_error", { toolCallId: z.string(), error: eventErrorSchema }),
    event("reasoning_delta", { text: z.string() }),
    // Live output of a running tool (the `bash` built-in), redacted; the result still follows.
    event("tool_output_delta", {
      toolCallId: z.string(),
      stream: z.enum(["stdout", "stderr"]),
      text: z.string(),
    }),
    event("human_input_requested", { requestId: nonEmpty, key: nonEmpty, prompt: z.string() }),
    event("human_input_resolved", { requestId: nonEmpty, key: nonEmpty }),
    // Kinds other engines of the line emit; Promenade never does, but reads and files them.
    event("compaction_started", {
      agentId: nonEmpty,
      agentName: nonEmpty.optional(),
      tokens: z.int().min(0),
      budget: z.int().min(0),
      contextTokens: z.int().min(0).optional(),
    }),
    event("compaction_ended", {
      agentId: nonEmpty,
      agentName: nonEmpty.optional(),
      tokens: z.int().min(0),
      reclaimed: z.int().min(0),
      method: z.enum(["deduped", "summarized", "none"]),
    }),
    event("turn_reset", {}),
    event("egress_denied", { host: z.string(), method: z.string().optional(), reason: z.string() }),
    event("suspended", {
      reason: z.enum(["sleep", "human_input", "child"]),
      wakeAt: z.int().min(0).optional(),
    }),
    event("resumed", {}),
  ] as const;
  const runEventSchema = z.discriminatedUnion("kind", [
    runStatusEvent(RUN_STATUSES),
    ...otherKinds,
  ]);
  // What a reader accepts: the same events, with the statuses only other engines write.
  const readRunEventSchema = z.discriminatedUnion("kind", [
    runStatusEvent(READABLE_RUN_STATUSES),
    ...otherKinds,
  ]);
  return {
    runEventSchema,
    readRunEventSchema,
    tokenUsageSchema,
    toolReturnSchema,
    modelCallSchema,
  };
}

type EventSchemas = ReturnType<typeof buildEventSchemas>;
const eventSchemas = once(buildEventSchemas);

/**
 * The run event: a discriminated union on `kind` over 26 strict variants. Rejects unknown kinds,
 * missing required fields and extra fields (a `cursor` inside the event included). Built on first
 * use.
 */
export const runEventSchema: EventSchemas["runEventSchema"] = lazyObject(
  () => eventSchemas().runEventSchema,
);

/**
 * The run event as a reader accepts it: {@link runEventSchema}, except that `run_status` also
 * takes `sleeping` (a status other engines of the line wrote; Promenade never does). Built on
 * first use.
 */
export const readRunEventSchema: EventSchemas["readRunEventSchema"] = lazyObject(
  () => eventSchemas().readRunEventSchema,
);

/** Token usage riding on `turn_ended`: optional integers ≥ 0, strict. Built on first use. */
export const tokenUsageSchema: EventSchemas["tokenUsageSchema"] = lazyObject(
  () => eventSchemas().tokenUsageSchema,
);

/** A tool result on `tool_call_result`: `{ kind?, humanSummary?, data? }`, strict. */
export const toolReturnSchema: EventSchemas["toolReturnSchema"] = lazyObject(
  () => eventSchemas().toolReturnSchema,
);

/** One run event (discriminated on `kind`). */
export type RunEvent = z.infer<EventSchemas["runEventSchema"]>;
/** One run event as a reader accepts it (a `run_status` may also be `sleeping`). */
export type ReadRunEvent = z.infer<EventSchemas["readRunEventSchema"]>;
/** The 26 event kinds. */
export type RunEventKind = RunEvent["kind"];
/** A run's status on `run_status` events. */
export type { ReadableRunStatus, RunStatus } from "./records/statuses.ts";
/** The fields every event carries. */
export type EventEnvelope = Pick<RunEvent, "runId" | "turnId" | "seq" | "t">;
/** Token usage (`turn_ended.usage`). */
export type TokenUsage = z.infer<EventSchemas["tokenUsageSchema"]>;
/** One model request of an agent turn (the `model_call` event, or `turn_ended.calls[]`). */
export type ModelCall = z.infer<EventSchemas["modelCallSchema"]>;
/** A tool's result as rendered on the wire. */
export type ToolReturn = z.infer<EventSchemas["toolReturnSchema"]>;

/** The five channels, which partition the stream. */
export const CHANNELS = ["lifecycle", "phase", "output", "log", "agent"] as const;
/** A subscription channel. */
export type Channel = (typeof CHANNELS)[number];
/** The quiet default subscription: lifecycle + phase + output. */
export const DEFAULT_CHANNELS: readonly Channel[] = Object.freeze([
  "lifecycle",
  "phase",
  "output",
] as const);

const KIND_CHANNEL: Readonly<Record<RunEventKind, Channel>> = {
  run_status: "lifecycle",
  phase: "phase",
  output: "output",
  program_output: "log",
  turn_started: "agent",
  turn_ended: "agent",
  model_call: "agent",
  text_start: "agent",
  text_delta: "agent",
  text_end: "agent",
  tool_call_start: "agent",
  tool_call_input_delta: "agent",
  tool_call_input_complete: "agent",
  tool_call_executing: "agent",
  tool_call_result: "agent",
  tool_call_error: "agent",
  reasoning_delta: "agent",
  tool_output_delta: "agent",
  human_input_requested: "lifecycle",
  human_input_resolved: "lifecycle",
  compaction_started: "agent",
  compaction_ended: "agent",
  turn_reset: "agent",
  egress_denied: "log",
  suspended: "lifecycle",
  resumed: "lifecycle",
};

/** The channel an event belongs to; `undefined` at run time for an unknown kind. */
export function channelOf(event: Pick<RunEvent, "kind">): Channel {
  return Object.hasOwn(KIND_CHANNEL, event.kind)
    ? KIND_CHANNEL[event.kind]
    : (undefined as unknown as Channel);
}

/** True iff the event's channel is one of `channels` (the server-side filter). */
export function matchesChannels(
  event: Pick<RunEvent, "kind">,
  channels: readonly Channel[],
): boolean {
  const channel = channelOf(event);
  return channel !== undefined && channels.includes(channel);
}

const CHANNEL_SET: ReadonlySet<string> = new Set(CHANNELS);

/**
 * Resolves subscription options to channels: `verbose: true` ⇒ all of {@link CHANNELS};
 * no `channels` ⇒ {@link DEFAULT_CHANNELS}; else a comma-separated string or array of names, each
 * trimmed. Throws a `VALIDATION` `EngineError` (`Unknown channel "<name>".`) for an unknown or
 * empty name.
 */
export function selectChannels(opts: {
  channels?: string | readonly string[] | undefined;
  verbose?: boolean | undefined;
}): readonly Channel[] {
  if (opts.verbose === true) return CHANNELS;
  if (opts.channels === undefined) return DEFAULT_CHANNELS;
  const names = typeof opts.channels === "string" ? opts.channels.split(",") : opts.channels;
  const selected: Channel[] = [];
  for (const raw of names) {
    const name = String(raw).trim();
    if (!CHANNEL_SET.has(name)) {
      throw new EngineError(
        "VALIDATION",
        `Unknown channel "${name}".`,
        `Valid channels: ${CHANNELS.join(", ")}.`,
      );
    }
    if (!selected.includes(name as Channel)) selected.push(name as Channel);
  }
  return selected;
}
