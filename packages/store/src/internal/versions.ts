/**
 * What both backends share about workflow versions: the skills argument's check, the content
 * hash (one formula, so a hash means the same content on SQLite and PostgreSQL and across
 * upgrades), the version-number argument of createRun, and the read validation of a version row.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { WorkflowVersionRow, WorkflowVersionSummary } from "@promenade/workflow/records";
import { describe, validation } from "./args.ts";
import { checkSize } from "./json.ts";
import { describeIssues } from "./rows.ts";
import { manifestSchema, type JsonValue } from "./sdk.ts";
import { EngineError } from "@promenade/workflow/errors";

/**
 * The skills of a deploy as stored: a JSON object of name → markdown with its keys sorted, so
 * the same set always has the same text. Absent ⇒ `{}`.
 */
export function skillsText(skills: unknown, slug: string, maxBytes: number): string {
  if (skills === undefined) return "{}";
  if (typeof skills !== "object" || skills === null || Array.isArray(skills)) {
    throw validation(
      `upsertWorkflow: skills of "${slug}" must be an object of name → markdown, got ${describe(skills)}.`,
    );
  }
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(skills).sort()) {
    const markdown = (skills as Record<string, unknown>)[name];
    if (typeof markdown !== "string") {
      throw validation(
        `upsertWorkflow: skill "${name}" of "${slug}" must be a markdown string, got ${describe(markdown)}.`,
      );
    }
    sorted[name] = markdown;
  }
  const text = JSON.stringify(sorted);
  checkSize(text, `skills of "${slug}"`, maxBytes);
  return text;
}

/**
 * SHA-256 (hex) of a version's content: the stored texts of its manifest, program, deploy config
 * and skills (`{}` for a version recorded before versions existed).
 */
export function contentHash(content: {
  manifest: string;
  program: string;
  config: string;
  skills: string | null;
}): string {
  return createHash("sha256")
    .update(
      JSON.stringify([content.manifest, content.program, content.config, content.skills ?? "{}"]),
    )
    .digest("hex");
}

/** createRun's `version`: absent ⇒ `null` (the workflow's current version), else an integer ≥ 1. */
export function readVersionNumber(value: unknown, what: string): number | null {
  if (value === undefined) return null;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw validation(`${what} must be an integer ≥ 1, got ${describe(value)}.`);
  }
  return value;
}

/** The NOT_FOUND of a version number the workflow does not have. */
export function unknownVersion(slugOrId: string, version: number): EngineError {
  return new EngineError(
    "NOT_FOUND",
    `Workflow ${slugOrId} has no version ${String(version)}.`,
    "List the workflow's versions (GET /api/workflows/<slug>/versions) and pick one of them.",
  );
}

/** The columns of a version row, as stored (both backends). */
export interface RawVersion {
  id: string;
  workflowId: string;
  number: number;
  hash: string;
  manifest: string;
  program: string;
  config: string;
  skills: string | null;
  deployedAt: number;
}

const configSchema = z.custom<Record<string, JsonValue>>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  "expected a JSON object",
);
const skillsSchema = z.record(z.string(), z.string());

function parse<T>(schema: z.ZodType<T>, column: string, text: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw corrupt(column, "not valid JSON", error);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw corrupt(column, describeIssues(result.error));
  return result.data;
}

function corrupt(column: string, problem: string, cause?: unknown): EngineError {
  return new EngineError(
    "INTERNAL",
    `corrupt row in workflow_versions.${column}: ${problem}`,
    "The database was modified outside Promenade or damaged; restore the data dir from a backup.",
    cause === undefined ? undefined : { cause },
  );
}

/** A version row without its content. */
export function toVersionSummary(raw: {
  id: string;
  workflowId: string;
  number: number;
  hash: string;
  deployedAt: number;
}): WorkflowVersionSummary {
  return {
    id: raw.id,
    workflowId: raw.workflowId,
    number: raw.number,
    hash: raw.hash,
    deployedAt: raw.deployedAt,
  };
}

/** A stored version row → {@link WorkflowVersionRow} (each JSON column validated). */
export function toVersionRow(raw: RawVersion): WorkflowVersionRow {
  return {
    ...toVersionSummary(raw),
    manifest: parse(manifestSchema, "manifest", raw.manifest),
    program: raw.program,
    config: parse(configSchema, "config", raw.config),
    skills: raw.skills === null ? null : parse(skillsSchema, "skills", raw.skills),
  };
}
