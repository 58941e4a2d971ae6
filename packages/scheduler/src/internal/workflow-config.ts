/**
 * Reads the few workflow fields the scheduler acts on: cron triggers and concurrency from the
 * manifest and `catch_up` from the deploy config (never from the manifest). Rows are validated by
 * the store, but a row written by an older engine may still surprise us, so every reader checks
 * shapes and throws `VALIDATION` naming the field instead of trusting the types.
 */
import type { JsonValue } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";

/** A cron trigger with its zero-based index in `manifest.triggers` (its identity). */
export interface CronTriggerSpec {
  readonly index: number;
  readonly expr: string;
  readonly timezone: string | undefined;
  /** The static input every fire starts its run with; `undefined` = none (input `null`). */
  readonly input: { [key: string]: JsonValue } | undefined;
}

/**
 * What the scheduler does with fires missed while it was not running: `skip` (the default) runs
 * nothing, `once` runs one, at the latest missed instant.
 */
export type CatchUpPolicy = "skip" | "once";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The cron triggers of a manifest, in order. */
export function readCronTriggers(manifest: unknown): CronTriggerSpec[] {
  if (!isRecord(manifest)) throw new EngineError("VALIDATION", "manifest is not an object");
  const triggers = manifest.triggers;
  if (triggers === undefined) return [];
  if (!Array.isArray(triggers)) {
    throw new EngineError("VALIDATION", "manifest.triggers is not an array");
  }
  const out: CronTriggerSpec[] = [];
  triggers.forEach((trigger: unknown, index) => {
    if (!isRecord(trigger) || trigger.kind !== "cron") return;
    const { expr, timezone, input } = trigger;
    if (typeof expr !== "string") {
      throw new EngineError("VALIDATION", `triggers[${index}].expr is not a string`);
    }
    if (timezone !== undefined && typeof timezone !== "string") {
      throw new EngineError("VALIDATION", `triggers[${index}].timezone is not a string`);
    }
    if (input !== undefined && !isRecord(input)) {
      throw new EngineError("VALIDATION", `triggers[${index}].input is not an object`);
    }
    // A stored manifest is JSON, so an object here holds JSON values only.
    out.push({ index, expr, timezone, input: input as { [key: string]: JsonValue } | undefined });
  });
  return out;
}

/**
 * The dispatch group of a workflow, which the dispatch gate releases one queued run at a time:
 * `null` for `unlimited` (no gate), the workflow id for `serial`, and `id:key` for `serial_by_key`.
 */
export function concurrencyGroup(workflowId: string, manifest: unknown): string | null {
  const concurrency = isRecord(manifest) ? manifest.concurrency : undefined;
  if (concurrency === undefined || concurrency === null) return null;
  if (!isRecord(concurrency)) {
    throw new EngineError("VALIDATION", "manifest.concurrency is not an object");
  }
  switch (concurrency.mode) {
    case "unlimited":
      return null;
    case "serial":
      return workflowId;
    case "serial_by_key":
      return `${workflowId}:${String(concurrency.key)}`;
    default:
      throw new EngineError(
        "VALIDATION",
        `manifest.concurrency.mode ${JSON.stringify(concurrency.mode)} is not unlimited, serial or serial_by_key`,
      );
  }
}

/** `config.catch_up`: `"skip"` (default, also when absent) or `"once"`. */
export function readCatchUp(config: unknown): CatchUpPolicy {
  const value = isRecord(config) ? config.catch_up : undefined;
  if (value === undefined || value === "skip") return "skip";
  if (value === "once") return "once";
  throw new EngineError(
    "VALIDATION",
    `config.catch_up must be "skip" or "once", got ${JSON.stringify(value)}`,
    'Redeploy with config { catch_up: "skip" } (the default) or { catch_up: "once" }.',
  );
}
