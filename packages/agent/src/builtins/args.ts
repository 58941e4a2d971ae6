/**
 * Argument readers shared by the built-in tools: the model's input object is not validated
 * against the advertised schema, so every tool reads its fields through these and fails back to
 * the model (`VALIDATION`) naming the field.
 */
import { EngineError } from "@promenade/workflow/errors";

/** A required string field. */
export function str(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== "string") {
    throw new EngineError("VALIDATION", `"${field}" must be a string.`);
  }
  return value;
}

/** An optional string field. */
export function optStr(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new EngineError("VALIDATION", `"${field}" must be a string when given.`);
  }
  return value;
}

/** An optional positive integer field. */
export function optInt(input: Record<string, unknown>, field: string): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new EngineError("VALIDATION", `"${field}" must be a positive integer when given.`);
  }
  return value;
}

/** A field that is a string or an array of strings; absent → `fallback`. */
export function strList(
  input: Record<string, unknown>,
  field: string,
  fallback: string[],
): string[] {
  const value = input[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) {
    return value;
  }
  throw new EngineError(
    "VALIDATION",
    `"${field}" must be a string or a non-empty array of strings.`,
  );
}
