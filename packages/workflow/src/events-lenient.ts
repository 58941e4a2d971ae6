/**
 * `parseRunEventLenient`: reads an event written by another engine of the line. A strict parse
 * first (a `run_status` may carry `sleeping`, a status Promenade reads but never writes); when it
 * fails only because of fields this SDK does not know (at any depth), those fields are dropped and
 * the event parsed once more. Anything else (an unknown kind, a wrong type, a missing field) is
 * `null`.
 */
import { readRunEventSchema } from "./events.ts";
import type { ReadRunEvent } from "./events.ts";

/** The event, without fields this SDK does not know; `null` when it is not a valid event. */
export function parseRunEventLenient(value: unknown): ReadRunEvent | null {
  const first = readRunEventSchema.safeParse(value);
  if (first.success) return first.data;
  const issues = first.error.issues;
  if (issues.length === 0 || issues.some((issue) => issue.code !== "unrecognized_keys")) {
    return null;
  }
  let copy: Record<string, unknown>;
  try {
    copy = structuredClone(value) as Record<string, unknown>;
  } catch {
    return null;
  }
  for (const issue of issues) {
    let target: unknown = copy;
    for (const segment of issue.path) {
      target = (target as Record<PropertyKey, unknown> | null)?.[segment];
    }
    if (typeof target !== "object" || target === null) return null;
    for (const key of (issue as { keys?: string[] }).keys ?? []) {
      delete (target as Record<string, unknown>)[key];
    }
  }
  const second = readRunEventSchema.safeParse(copy);
  return second.success ? second.data : null;
}
