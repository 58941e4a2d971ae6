/**
 * Read validation: turns raw column values into row types, applying exactly one validator per
 * JSON or enum column. A row that fails is reported as
 * `INTERNAL: corrupt row in <table>.<column>: <problem>` and never escapes as a half-typed value.
 */
import { z } from "zod";
import { EngineError } from "@promenade/workflow/errors";
import type { ArtifactRow, EventRow, RunErrorShape, RunRow, WorkflowRow } from "../types.ts";
import {
  manifestSchema,
  RUN_STATUSES,
  runEventSchema,
  TRIGGER_KINDS,
  type JsonValue,
  type RunEvent,
} from "./sdk.ts";
import type { artifacts, runs, workflows } from "../schema.ts";

const jsonObjectSchema = z.custom<Record<string, JsonValue>>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  "expected a JSON object",
);
const runStatusSchema = z.enum(RUN_STATUSES);
const triggerKindSchema = z.enum(TRIGGER_KINDS);
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

/** `runs` row → {@link RunRow}. */
export function toRunRow(raw: typeof runs.$inferSelect): RunRow {
  return {
    id: raw.id,
    workflowId: raw.workflowId,
    status: check(runStatusSchema, "runs", "status", raw.status),
    triggerKind: check(triggerKindSchema, "runs", "trigger_kind", raw.triggerKind),
    input: raw.input === null ? null : parseText("runs", "input", raw.input),
    output: raw.output === null ? null : (parseText("runs", "output", raw.output) as JsonValue),
    error:
      raw.error === null
        ? null
        : (parseJson(runErrorSchema, "runs", "error", raw.error) as RunErrorShape),
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
  };
}

/** `run_events` row → {@link EventRow}; the event must belong to the row's run. */
export function toEventRow(raw: { runId: string; cursor: number; event: string }): EventRow {
  const value = parseText("run_events", "event", raw.event);
  const result = runEventSchema.safeParse(value);
  if (!result.success) throw corrupt("run_events", "event", describeIssues(result.error));
  const event: RunEvent = result.data;
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
