/**
 * Read mapping: turns raw column values into row types. Rows of the hot read paths (runs and
 * events, which only the store writes, each value validated on its way in) are trusted: their
 * JSON is parsed and checked for its kind, enum columns against their vocabularies, without a
 * schema parse per row. Columns that hold what a deploy or a caller handed over whole (a
 * workflow's manifest and config, artifact metadata) keep one schema per column. A row that fails
 * is reported as `INTERNAL: corrupt row in <table>.<column>: <problem>` and never escapes as a
 * half-typed value.
 */
import { z } from "zod";
import { EngineError } from "@promenade/workflow/errors";
import type { ArtifactRow, EventRow, RunErrorShape, RunRow, WorkflowRow } from "../types.ts";
import {
  channelOf,
  manifestSchema,
  RUN_STATUSES,
  TRIGGER_KINDS,
  type JsonValue,
  type RunEvent,
  type RunStatus,
} from "./sdk.ts";
import type { artifacts, runs, workflows } from "../schema.ts";

const jsonObjectSchema = z.custom<Record<string, JsonValue>>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  "expected a JSON object",
);
const RUN_STATUS_SET: ReadonlySet<string> = new Set(RUN_STATUSES);
const TRIGGER_KIND_SET: ReadonlySet<string> = new Set(TRIGGER_KINDS);
/** The keys a stored run error may have, each a string. */
const ERROR_KEYS: ReadonlySet<string> = new Set(["code", "message", "hint", "name", "stack"]);
/** The stored run error: `{ code, message, hint?, name?, stack? }`. Also used to validate writes. */
export const runErrorSchema = z.strictObject({
  code: z.string().min(1),
  message: z.string(),
  hint: z.string().optional(),
  name: z.string().optional(),
  stack: z.string().optional(),
});

function corrupt(table: string, column: string, problem: string, cause?: unknown): EngineError {
  return new EngineError(
    "INTERNAL",
    `corrupt row in ${table}.${column}: ${problem}`,
    "The database was modified outside Promenade or damaged; restore the data dir from a backup.",
    cause === undefined ? undefined : { cause },
  );
}

function parseText(table: string, column: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw corrupt(table, column, "not valid JSON", error);
  }
}

/** One-line summary of a zod failure: the first issue with its path. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "invalid value";
  const path = issue.path.length === 0 ? "(root)" : issue.path.map(String).join(".");
  const more = error.issues.length > 1 ? ` (+${String(error.issues.length - 1)} more)` : "";
  return `${path}: ${issue.message}${more}`;
}

function check<T>(schema: z.ZodType<T>, table: string, column: string, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw corrupt(table, column, describeIssues(result.error));
  return result.data;
}

function parseJson<T>(schema: z.ZodType<T>, table: string, column: string, text: string): T {
  return check(schema, table, column, parseText(table, column, text));
}

/** `workflows` row → {@link WorkflowRow}. */
export function toWorkflowRow(raw: typeof workflows.$inferSelect): WorkflowRow {
  const manifest = parseJson(manifestSchema, "workflows", "manifest", raw.manifest);
  return {
    id: raw.id,
    slug: raw.slug,
    name: raw.slug,
    title: typeof manifest.title === "string" ? manifest.title : null,
    manifest,
    program: raw.program,
    config: parseJson(jsonObjectSchema, "workflows", "config", raw.config),
    createdAt: raw.createdAt,
    updatedAt: raw.updatedAt,
    undeployedAt: raw.undeployedAt,
  };
}

function oneOf<T extends string>(set: ReadonlySet<string>, column: string, value: string): T {
  if (!set.has(value)) throw corrupt("runs", column, `unknown value ${JSON.stringify(value)}`);
  return value as T;
}

/** A stored run error: an object of string fields, `code` non-empty, `message` present. */
function runError(text: string): RunErrorShape {
  const value = parseText("runs", "error", text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw corrupt("runs", "error", "expected an object");
  }
  const fields = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(fields)) {
    if (!ERROR_KEYS.has(key)) throw corrupt("runs", "error", `unexpected key "${key}"`);
    if (typeof field !== "string") throw corrupt("runs", "error", `${key}: expected a string`);
  }
  if (typeof fields["code"] !== "string" || fields["code"] === "") {
    throw corrupt("runs", "error", "code: expected a non-empty string");
  }
  if (typeof fields["message"] !== "string") {
    throw corrupt("runs", "error", "message: expected a string");
  }
  return value as RunErrorShape;
}

/** `runs` row → {@link RunRow}. */
export function toRunRow(raw: typeof runs.$inferSelect & { nodeId?: string | null }): RunRow {
  return {
    id: raw.id,
    workflowId: raw.workflowId,
    status: oneOf<RunStatus>(RUN_STATUS_SET, "status", raw.status),
    triggerKind: oneOf<RunRow["triggerKind"]>(TRIGGER_KIND_SET, "trigger_kind", raw.triggerKind),
    input: raw.input === null ? null : parseText("runs", "input", raw.input),
    output: raw.output === null ? null : (parseText("runs", "output", raw.output) as JsonValue),
    error: raw.error === null ? null : runError(raw.error),
    parentRunId: raw.parentRunId,
    idempotencyKey: raw.idempotencyKey,
    restarts: raw.restarts,
    tokensIn: raw.tokensIn,
    tokensOut: raw.tokensOut,
    usdMicros: raw.usdMicros,
    createdAt: raw.createdAt,
    startedAt: raw.startedAt,
    endedAt: raw.endedAt,
    activeMs: raw.activeMs,
    retries: raw.retries,
    retryAt: raw.retryAt,
    versionId: raw.versionId,
    version: raw.version,
    nodeId: raw.nodeId ?? null,
  };
}

/**
 * `run_events` row → {@link EventRow}: an event object of a known kind that belongs to the row's
 * run. Its fields were checked against the event schemas when it was appended.
 */
export function toEventRow(raw: { runId: string; cursor: number; event: string }): EventRow {
  const value = parseText("run_events", "event", raw.event);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw corrupt("run_events", "event", "expected an event object");
  }
  const event = value as RunEvent;
  if (typeof event.kind !== "string" || channelOf(event) === undefined) {
    throw corrupt("run_events", "event", `unknown event kind ${JSON.stringify(event.kind)}`);
  }
  if (event.runId !== raw.runId) {
    throw corrupt("run_events", "event", `event.runId "${event.runId}" is not the row's run`);
  }
  return { runId: raw.runId, cursor: raw.cursor, event };
}

const metadataSchema = z.record(z.string(), z.unknown());

/** `artifacts` row → {@link ArtifactRow}. */
export function toArtifactRow(raw: typeof artifacts.$inferSelect): ArtifactRow {
  return {
    id: raw.id,
    runId: raw.runId,
    name: raw.name,
    contentType: raw.contentType,
    path: raw.path,
    size: raw.size,
    metadata:
      raw.metadata === null
        ? null
        : parseJson(metadataSchema, "artifacts", "metadata", raw.metadata),
    createdAt: raw.createdAt,
  };
}
