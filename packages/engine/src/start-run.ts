/**
 * The arguments of starting a run (`engine.startRun` / `engine.createRun`) and their checks:
 * a slug, JSON input, a known trigger kind and a non-empty idempotency key. Pure validation; the
 * engine core creates the run. Invariant: every bad argument is a `VALIDATION` naming it.
 */
import type { TriggerKind } from "@promenade/workflow/records";
import type { JsonValue } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import { jsonProblem } from "./internal/json.ts";

/** Options of `engine.startRun(slug, options)` / `engine.createRun(slug, options)`. */
export interface StartRunOptions {
  /** The run's input (JSON). Stored as `null` when omitted; the program sees `null`. */
  input?: JsonValue;
  /** Default `"manual"`. */
  triggerKind?: TriggerKind;
  /** Top-level dedupe: a second start with the same key returns the existing run. */
  idempotencyKey?: string;
}

/** A start request that passed its checks. */
export interface CheckedStart {
  slug: string;
  input: JsonValue | null;
  triggerKind: TriggerKind;
  idempotencyKey: string | undefined;
}

/** Validates a start request; throws `VALIDATION` naming the first bad argument. */
export function checkStartRun(slug: unknown, options: StartRunOptions): CheckedStart {
  if (typeof slug !== "string" || slug.length === 0) {
    throw new EngineError("VALIDATION", "startRun expects a workflow slug (non-empty string).");
  }
  const { input, triggerKind = "manual", idempotencyKey } = options;
  if (input !== undefined) {
    const problem = jsonProblem(input, "input");
    if (problem !== null) {
      throw new EngineError(
        "VALIDATION",
        `startRun("${slug}"): ${problem}.`,
        "Run input must be plain JSON.",
      );
    }
  }
  if (triggerKind !== "manual" && triggerKind !== "cron" && triggerKind !== "webhook") {
    throw new EngineError(
      "VALIDATION",
      `startRun("${slug}"): triggerKind must be "manual", "cron" or "webhook".`,
    );
  }
  if (
    idempotencyKey !== undefined &&
    (typeof idempotencyKey !== "string" || idempotencyKey.length === 0)
  ) {
    throw new EngineError(
      "VALIDATION",
      `startRun("${slug}"): idempotencyKey must be a non-empty string.`,
    );
  }
  return { slug, input: input ?? null, triggerKind, idempotencyKey };
}
