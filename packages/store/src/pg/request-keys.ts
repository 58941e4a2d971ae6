/**
 * The `run_request_keys` table on PostgreSQL: a client's retry key (an HTTP `Idempotency-Key`)
 * bound, per workflow, to the run its first request created (rules in
 * `../internal/request-keys.ts`). Creating a keyed run is ONE statement: the binding is claimed
 * (inserted, or taken over once the old one has expired) and the run and its `queued` event are
 * inserted only when the claim succeeded. Two requests with the same key at once: the second
 * statement waits on the key's row lock, then claims nothing and writes nothing; the caller then
 * reads the binding the first one committed.
 */
import { REQUEST_KEY_TTL_MS } from "../internal/request-keys.ts";
import type { RequestKey } from "../types.ts";
import { RUN_COLUMNS, type QueuedRun, type Statement } from "./statements.ts";

/**
 * Claims `requestKey` for `run` and inserts the run with its queued event; returns the run plus
 * `"workflowSlug"`, or no row when it wrote nothing (unknown workflow, or the key still bound).
 */
export function createKeyedRunStatement(run: QueuedRun, requestKey: RequestKey): Statement {
  return {
    text: `WITH w AS (SELECT id, slug FROM workflows WHERE id = $1::text),
  k AS (
    INSERT INTO run_request_keys (workflow_id, key, fingerprint, run_id, created_at)
    SELECT w.id, $2::text, $3::text, $4::text, $5::bigint FROM w
    ON CONFLICT (workflow_id, key) DO UPDATE
      SET fingerprint = EXCLUDED.fingerprint, run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at
      WHERE run_request_keys.created_at <= $5::bigint - $6::bigint
    RETURNING run_id
  ),
  r AS (
    INSERT INTO runs (id, workflow_id, status, trigger_kind, input, created_at)
    SELECT k.run_id, w.id, 'queued', $7::text, $8::text, $5::bigint FROM w, k
    RETURNING ${RUN_COLUMNS}
  ),
  e AS (
    INSERT INTO run_events (run_id, cursor, channel, event)
    SELECT r.id, 1, 'lifecycle', $9::text FROM r
  )
SELECT r.*, (SELECT slug FROM w) AS "workflowSlug" FROM r`,
    values: [
      run.workflowId,
      requestKey.key,
      requestKey.fingerprint,
      run.id,
      run.createdAt,
      REQUEST_KEY_TTL_MS,
      run.triggerKind,
      run.input,
      run.event,
    ],
  };
}

/** The binding of `key` in `workflowId` (or none). */
export function requestKeyBindingStatement(workflowId: string, key: string): Statement {
  return {
    text: `SELECT fingerprint, run_id AS "runId", created_at AS "createdAt" FROM run_request_keys WHERE workflow_id = $1 AND key = $2`,
    values: [workflowId, key],
  };
}
