/**
 * Argument checks and error helpers shared by the SQLite store's tables: each check throws
 * `VALIDATION` naming the argument, before anything is written.
 */
import { inspect } from "node:util";
import { EngineError } from "@promenade/workflow/errors";
import { checkSize } from "./json.ts";
import { PASS_REASONS, RUN_STATUSES, type PassReason, type RunStatus } from "./sdk.ts";

const STATUS_SET: ReadonlySet<string> = new Set(RUN_STATUSES);

/** A `VALIDATION` error. */
export function validation(message: string, hint?: string): EngineError {
  return new EngineError("VALIDATION", message, hint);
}

/** `value` as a non-empty string, or `VALIDATION` naming `what`. */
export function requireString(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw validation(`${what} must be a non-empty string, got ${describe(value)}.`);
  }
  return value;
}

/** `value` as a safe integer ≥ `min`, or `VALIDATION` naming `what`. */
export function requireInteger(value: unknown, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw validation(`${what} must be an integer ≥ ${String(min)}, got ${describe(value)}.`);
  }
  return value;
}

/** `value` as a run status, or `VALIDATION` listing the valid ones. */
export function requireStatus(value: unknown, what: string): RunStatus {
  if (typeof value !== "string" || !STATUS_SET.has(value)) {
    throw validation(
      `${what} must be a run status, got ${describe(value)}.`,
      `Valid statuses: ${RUN_STATUSES.join(", ")}.`,
    );
  }
  return value as RunStatus;
}

/** `value` as the reason a pass started, or `VALIDATION` listing the valid ones. */
export function requirePassReason(value: unknown, what: string): PassReason {
  if (typeof value !== "string" || !(PASS_REASONS as readonly string[]).includes(value)) {
    throw validation(
      `${what} must be a pass reason, got ${describe(value)}.`,
      `Valid reasons: ${PASS_REASONS.join(", ")}.`,
    );
  }
  return value as PassReason;
}

/** A short, safe description of any value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "number" || typeof value === "boolean" || value == null)
    return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** An error's message, or its inspection when it is not an `Error`. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : inspect(error);
}

/** The `code` of a better-sqlite3 error (`SQLITE_…`), if any. */
export function sqliteCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String(error.code)
    : undefined;
}

/**
 * `JSON.stringify(value)` with the size limit, for values already known to be plain JSON
 * (zod output of a closed schema, objects built from typed values).
 */
export function sizedJson(value: unknown, what: string, maxBytes: number): string {
  const text = JSON.stringify(value);
  checkSize(text, what, maxBytes);
  return text;
}
