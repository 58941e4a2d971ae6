/**
 * Webhook deliveries remembered durably (`webhook_deliveries`): the argument check and the rule
 * both backends apply. A verified delivery that starts a run names the keys that identify it
 * (e.g. hashes of its signature and of its delivery id), scoped to the workflow and the webhook's
 * trigger index. While any of its keys is remembered (until the key's expiry), a delivery
 * carrying it is refused with `CONFLICT` naming the first delivery, when it was received and the
 * run it started; otherwise its keys are written in the transaction that creates its run, so a
 * delivery whose run was not created is not remembered. Pure; no I/O.
 */
import { EngineError } from "@promenade/workflow/errors";
import type { CreateRunArgs, WebhookDelivery } from "../types.ts";
import { describe, requireInteger, requireString, validation } from "./args.ts";

/** Most keys per delivery. */
const MAX_KEYS = 8;
/** Longest key and delivery id, in characters. */
const MAX_LENGTH = 1024;
/** Longest delivery id shown in a message, in characters. */
const SHOWN_LENGTH = 80;

/** A remembered delivery key: what a conflict message names. */
export interface DeliveryHolder {
  deliveryId: string | null;
  runId: string;
  receivedAt: number;
}

/**
 * `args.delivery` checked (keys de-duplicated and sorted, so concurrent writers lock them in one
 * order), or `null` when absent. Only a top-level run without a `workflows.call` idempotency
 * key takes one (`VALIDATION` otherwise).
 */
export function readDelivery(args: CreateRunArgs): WebhookDelivery | null {
  const delivery = args.delivery;
  if (delivery === undefined) return null;
  if (typeof delivery !== "object" || delivery === null) {
    throw validation("createRun: delivery must be { hookIndex, keys, deliveryId, expiresAt }.");
  }
  if (args.parentRunId !== undefined || args.idempotencyKey !== undefined) {
    throw validation(
      "createRun: delivery is for top-level runs and cannot be combined with parentRunId or idempotencyKey.",
    );
  }
  const hookIndex = requireInteger(delivery.hookIndex, "createRun: delivery.hookIndex", 0);
  const expiresAt = requireInteger(delivery.expiresAt, "createRun: delivery.expiresAt", 0);
  const keys: unknown = delivery.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) {
    throw validation(
      `createRun: delivery.keys must be an array of 1 to ${String(MAX_KEYS)} keys, got ${describe(keys)}.`,
    );
  }
  const checked = new Set<string>();
  for (const key of keys) {
    checked.add(tooLong(requireString(key, "createRun: delivery.keys[]"), "a delivery key"));
  }
  let deliveryId: string | null = null;
  if (delivery.deliveryId !== null) {
    deliveryId = tooLong(
      requireString(delivery.deliveryId, "createRun: delivery.deliveryId"),
      "delivery.deliveryId",
    );
  }
  return { hookIndex, keys: [...checked].sort(), deliveryId, expiresAt };
}

function tooLong(value: string, what: string): string {
  if (value.length > MAX_LENGTH) {
    throw validation(
      `createRun: ${what} is ${String(value.length)} characters, over the ${String(MAX_LENGTH)} limit.`,
      "Hash long keys (e.g. SHA-256 hex) before passing them.",
    );
  }
  return value;
}

/** The `CONFLICT` of a delivery already received: names it, when it came and its run. */
export function deliveryConflict(holder: DeliveryHolder): EngineError {
  const at = new Date(holder.receivedAt).toISOString();
  const id = holder.deliveryId;
  const what =
    id === null
      ? "This webhook delivery"
      : `Webhook delivery "${id.length > SHOWN_LENGTH ? `${id.slice(0, SHOWN_LENGTH - 3)}...` : id}"`;
  return new EngineError(
    "CONFLICT",
    `${what} was already received at ${at} (run ${holder.runId}).`,
    "Each delivery is accepted once. A new event needs a new delivery id and a fresh timestamp.",
  );
}
