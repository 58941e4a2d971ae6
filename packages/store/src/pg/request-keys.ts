/**
 * The `run_request_keys` statements on PostgreSQL: a client's retry key (an HTTP
 * `Idempotency-Key`) bound, per workflow, to the run its first request created (rules in
 * `../internal/request-keys.ts`). They run in the transaction that inserts the run: the key is
 * claimed (inserted, or taken over once the old binding has expired) after the run row; when the
 * claim returns nothing the key is still bound, and the transaction is rolled back. Two requests
 * with the same key at once: the second claim waits on the key's row lock, then claims nothing
 * and reads the binding the first one committed.
 */
import { EXPIRED_SWEEP_BATCH, REQUEST_KEY_TTL_MS } from "../internal/request-keys.ts";
import type { RequestKey } from "../types.ts";
import type { Statement } from "./statements.ts";

/**
 * Deletes a batch of `workflowId`'s bindings that expired by `now`, skipping rows another
 * transaction holds (so two writers never wait on each other here).
 */
export function sweepRequestKeysStatement(workflowId: string, now: number): Statement {
  return {
    text: `DELETE FROM run_request_keys WHERE workflow_id = $1::text AND key IN (
  SELECT key FROM run_request_keys WHERE workflow_id = $1::text AND created_at <= $2::bigint
  ORDER BY created_at LIMIT $3::integer FOR UPDATE SKIP LOCKED)`,
    values: [workflowId, now - REQUEST_KEY_TTL_MS, EXPIRED_SWEEP_BATCH],
  };
}

/**
 * Binds `requestKey` to `runId` unless it is bound to a run within the window: returns the
 * `runId` row when it did, nothing when the key is still bound.
 */
export function claimRequestKeyStatement(
  workflowId: string,
  requestKey: RequestKey,
  runId: string,
  now: number,
): Statement {
  return {
    text: `INSERT INTO run_request_keys (workflow_id, key, fingerprint, run_id, created_at)
VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint)
ON CONFLICT (workflow_id, key) DO UPDATE
  SET fingerprint = EXCLUDED.fingerprint, run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at
  WHERE run_request_keys.created_at <= $5::bigint - $6::bigint
RETURNING run_id AS "runId"`,
    values: [workflowId, requestKey.key, requestKey.fingerprint, runId, now, REQUEST_KEY_TTL_MS],
  };
}

/** The binding of `key` in `workflowId` (or none). */
export function requestKeyBindingStatement(workflowId: string, key: string): Statement {
  return {
    text: `SELECT fingerprint, run_id AS "runId", created_at AS "createdAt" FROM run_request_keys WHERE workflow_id = $1 AND key = $2`,
    values: [workflowId, key],
  };
}
