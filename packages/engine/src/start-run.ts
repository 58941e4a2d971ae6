/**
 * The arguments of starting a run (`engine.startRun` / `engine.createRun`) and their checks:
 * a slug, JSON input, a known trigger kind, and a non-empty idempotency key or a client request
 * key and/or a webhook delivery (not both kinds). Pure validation (the store checks the details
 * of a request key and a delivery); the engine core creates the run. Invariant: every bad
 * argument is a `VALIDATION` naming it.
 */
import type { WebhookDelivery } from "@promenade/store";
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
  /**
   * A client's retry key for this request (an HTTP `Idempotency-Key`) with a fingerprint of the
   * request (e.g. a SHA-256 of its body), scoped to the workflow: for 24 hours the same key and
   * fingerprint return the run the first request created, and another fingerprint fails
   * `CONFLICT`. Not combinable with `idempotencyKey`.
   */
  requestKey?: { key: string; fingerprint: string };
  /**
   * The verified webhook delivery starting this run: refused with `CONFLICT` ("Webhook delivery
   * "<id>" was already received at <time> (run <id>).") while any of its keys is remembered for
   * the workflow's webhook `hookIndex`; otherwise its keys are remembered with the new run, in
   * its transaction, until `expiresAt`. Checked before `requestKey`. Not combinable with
   * `idempotencyKey`.
   */
  delivery?: WebhookDelivery;
  /**
   * The number of the workflow version to run (see `engine.storeAsync.listWorkflowVersions`);
   * default: the current version. A number the workflow does not have fails `NOT_FOUND`.
   */
  version?: number;
}

/** A start request that passed its checks. */
export interface CheckedStart {
  slug: string;
  input: JsonValue | null;
  triggerKind: TriggerKind;
  idempotencyKey: string | undefined;
  requestKey: { key: string; fingerprint: string } | undefined;
  delivery: WebhookDelivery | undefined;
  version: number | undefined;
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
  const { requestKey } = options;
  if (requestKey !== undefined) {
    if (
      typeof requestKey !== "object" ||
      (requestKey as unknown) === null ||
      typeof requestKey.key !== "string" ||
      requestKey.key.length === 0 ||
      typeof requestKey.fingerprint !== "string" ||
      requestKey.fingerprint.length === 0
    ) {
      throw new EngineError(
        "VALIDATION",
        `startRun("${slug}"): requestKey must be { key, fingerprint } (non-empty strings).`,
      );
    }
    if (idempotencyKey !== undefined) {
      throw new EngineError(
        "VALIDATION",
        `startRun("${slug}"): pass idempotencyKey or requestKey, not both.`,
      );
    }
  }
  const { delivery } = options;
  if (delivery !== undefined) {
    if (typeof delivery !== "object" || (delivery as unknown) === null) {
      throw new EngineError(
        "VALIDATION",
        `startRun("${slug}"): delivery must be { hookIndex, keys, deliveryId, expiresAt }.`,
      );
    }
    if (idempotencyKey !== undefined) {
      throw new EngineError(
        "VALIDATION",
        `startRun("${slug}"): pass idempotencyKey or delivery, not both.`,
      );
    }
  }
  const { version } = options;
  if (
    version !== undefined &&
    (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1)
  ) {
    throw new EngineError(
      "VALIDATION",
      `startRun("${slug}"): version must be an integer ≥ 1 (a version number of the workflow).`,
    );
  }
  return {
    slug,
    input: input ?? null,
    triggerKind,
    idempotencyKey,
    requestKey,
    delivery,
    version,
  };
}
