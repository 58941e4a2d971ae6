/**
 * The `webhook_deliveries` statements on PostgreSQL: the keys of verified webhook deliveries that
 * started a run (rules in `../internal/deliveries.ts`). They run in the transaction that inserts
 * the run: the keys are claimed (inserted, or taken over once expired) after the run row; when
 * the claim returns fewer rows than keys, one is still remembered and the transaction is rolled
 * back. Keys come sorted, so two deliveries sharing keys lock them in the same order; the second
 * waits for the first to commit, then claims nothing.
 */
import { EXPIRED_SWEEP_BATCH } from "../internal/request-keys.ts";
import type { WebhookDelivery } from "../types.ts";
import type { Statement } from "./statements.ts";

/**
 * Deletes a batch of `workflowId`'s delivery keys that expired by `now`, skipping rows another
 * transaction holds.
 */
export function sweepDeliveriesStatement(workflowId: string, now: number): Statement {
  return {
    text: `DELETE FROM webhook_deliveries WHERE (workflow_id, hook_index, key) IN (
  SELECT workflow_id, hook_index, key FROM webhook_deliveries
  WHERE workflow_id = $1::text AND expires_at <= $2::bigint
  ORDER BY expires_at LIMIT $3::integer FOR UPDATE SKIP LOCKED)`,
    values: [workflowId, now, EXPIRED_SWEEP_BATCH],
  };
}

/** Remembers each key of `delivery` with `runId` unless still remembered; returns the keys written. */
export function claimDeliveryStatement(
  workflowId: string,
  delivery: WebhookDelivery,
  runId: string,
  now: number,
): Statement {
  const values: unknown[] = [
    workflowId,
    delivery.hookIndex,
    delivery.deliveryId,
    runId,
    now,
    delivery.expiresAt,
  ];
  const rows = delivery.keys.map((key) => {
    values.push(key);
    return `($1::text, $2::integer, $${String(values.length)}::text, $3::text, $4::text, $5::bigint, $6::bigint)`;
  });
  return {
    text: `INSERT INTO webhook_deliveries (workflow_id, hook_index, key, delivery_id, run_id, received_at, expires_at)
VALUES ${rows.join(", ")}
ON CONFLICT (workflow_id, hook_index, key) DO UPDATE
  SET delivery_id = EXCLUDED.delivery_id, run_id = EXCLUDED.run_id,
    received_at = EXCLUDED.received_at, expires_at = EXCLUDED.expires_at
  WHERE webhook_deliveries.expires_at <= $5::bigint
RETURNING key`,
    values,
  };
}

/** The earliest delivery still remembered under any key of `delivery` (or none). */
export function deliveryHolderStatement(
  workflowId: string,
  delivery: WebhookDelivery,
  now: number,
): Statement {
  return {
    text: `SELECT delivery_id AS "deliveryId", run_id AS "runId", received_at AS "receivedAt"
FROM webhook_deliveries
WHERE workflow_id = $1::text AND hook_index = $2::integer AND key = ANY($3::text[]) AND expires_at > $4::bigint
ORDER BY received_at LIMIT 1`,
    values: [workflowId, delivery.hookIndex, [...delivery.keys], now],
  };
}
