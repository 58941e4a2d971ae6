/**
 * The cluster statements of the PostgreSQL store: many engines (nodes) share one database, and
 * the `runs` table is their queue. A node executes a run only after claiming it: the claim sets
 * the run's `node_id`, a lease (`lease_expires_at`, an instant of the DATABASE clock, never a
 * node's) and a new `epoch`. The holder extends its leases with a heartbeat; any node takes over
 * a run whose lease expired (epoch + 1). Every write the holder makes for a run checks, in the
 * same transaction, that its node and epoch still hold an unexpired lease ({@link FENCE_CHECK}),
 * so a node that was paused or cut off can never write into a run another node took over.
 *
 * Invariants: a claim or takeover locks the rows it takes `FOR UPDATE SKIP LOCKED` (two nodes
 * never take one run; a takeover never waits on a row, so it cannot deadlock with a heartbeat);
 * a gated workflow (`serial`, `serial_by_key`) is admitted under a transaction-scoped advisory
 * lock on its concurrency group, taken in sorted order before its active runs are counted, so two
 * nodes cannot both admit one; a claimed run still `queued` holds its workflow's slot.
 */
import type pg from "pg";
import { EngineError, isEngineError } from "@promenade/workflow/errors";

/** A run this node holds: its id, the epoch of the hold, and what the row says now. */
export interface HeldRun {
  runId: string;
  epoch: number;
  status: string;
  /** Another node asked for the run to be cancelled. */
  cancelRequested: boolean;
  /** Whether the run had been held by another node before (a takeover of its lease). */
  takenOver: boolean;
}

/** A fence: the node and epoch every write for a run must still hold. */
export interface Fence {
  nodeId: string;
  epoch: number;
}

/** The statuses a held run can be in (`queued`: claimed, its first pass not started yet). */
const HELD_STATUSES = [
  "queued",
  "pending",
  "running",
  "awaiting_input",
  "waiting_for_child",
  "cancelling",
];
const ACTIVE = ["pending", "running", "awaiting_input", "waiting_for_child", "cancelling"];

/** Message prefix of {@link leaseLost} errors. */
const LEASE_LOST = "Lease lost:";

/** The error of a write whose fence no longer holds. */
export function leaseLost(runId: string, fence: Fence): EngineError {
  return new EngineError(
    "CONFLICT",
    `${LEASE_LOST} node ${fence.nodeId} no longer holds run ${runId} (epoch ${String(fence.epoch)}); its lease expired or another node took the run over, so this write was refused.`,
    "Nothing to do: the node that holds the run now executes it from the top.",
  );
}

/** Whether `error` is a write refused because the writer's lease of the run was lost. */
export function isLeaseLost(error: unknown): boolean {
  return isEngineError(error) && error.code === "CONFLICT" && error.message.startsWith(LEASE_LOST);
}

/** Locks the run's row for this transaction when the fence holds; no row: it does not. */
export const FENCE_CHECK = `SELECT 1 AS held FROM runs
  WHERE id = $1::text AND node_id = $2::text AND epoch = $3::integer AND lease_expires_at > now()
  FOR NO KEY UPDATE`;

/** Checks `fence` on `client` (inside its transaction); throws {@link leaseLost} when lost. */
export async function checkFence(
  client: pg.ClientBase,
  runId: string,
  fence: Fence,
): Promise<void> {
  const result = await client.query(FENCE_CHECK, [runId, fence.nodeId, fence.epoch]);
  if (result.rowCount !== 1) throw leaseLost(runId, fence);
}

const LEASE = `now() + $2::integer * interval '1 millisecond'`;

interface RawHeld {
  runId: string;
  epoch: number;
  status: string;
  cancelRequested: boolean;
  previousNode: string | null;
}

const RETURNING_HELD = `RETURNING r.id AS "runId", r.epoch, r.status,
  r.cancel_requested AS "cancelRequested", t.previous_node AS "previousNode"`;

function toHeld(raw: RawHeld, nodeId: string): HeldRun {
  return {
    runId: raw.runId,
    epoch: raw.epoch,
    status: raw.status,
    cancelRequested: raw.cancelRequested,
    takenOver: raw.previousNode !== null && raw.previousNode !== nodeId,
  };
}

/** The concurrency group of the run's workflow: `null` ungated, else the advisory lock's text. */
const GROUP = `CASE
    WHEN r.parent_run_id IS NOT NULL THEN NULL
    WHEN (w.manifest::jsonb -> 'concurrency') IS NULL
      OR jsonb_typeof(w.manifest::jsonb -> 'concurrency') = 'null'
      OR (w.manifest::jsonb -> 'concurrency' ->> 'mode') = 'unlimited' THEN NULL
    WHEN (w.manifest::jsonb -> 'concurrency' ->> 'mode') = 'serial_by_key'
      THEN w.id || ':' || COALESCE(w.manifest::jsonb -> 'concurrency' ->> 'key', '')
    ELSE w.id END`;

/**
 * Claims up to `limit` queued runs nobody holds, oldest first, honouring each workflow's
 * concurrency across nodes; children bypass the gate. One transaction.
 */
export async function claimQueued(
  client: pg.ClientBase,
  nodeId: string,
  leaseMs: number,
  limit: number,
): Promise<HeldRun[]> {
  const candidates = await client.query<{
    id: string;
    workflowId: string;
    grp: string | null;
  }>(
    `SELECT r.id, r.workflow_id AS "workflowId", ${GROUP} AS grp
       FROM runs r JOIN workflows w ON w.id = r.workflow_id
      WHERE r.status = 'queued' AND r.node_id IS NULL
      ORDER BY r.created_at, r.position
      LIMIT $1 FOR UPDATE OF r SKIP LOCKED`,
    [limit],
  );
  if (candidates.rows.length === 0) return [];
  // Advisory locks in one order on every node: two claims cannot wait on each other.
  const groups = [
    ...new Set(candidates.rows.flatMap((row) => (row.grp === null ? [] : [row.grp]))),
  ].sort();
  for (const group of groups) {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1::text))", [group]);
  }
  const admitted = new Set<string>();
  const claimed: HeldRun[] = [];
  for (const row of candidates.rows) {
    if (row.grp !== null) {
      if (admitted.has(row.grp)) continue;
      const busy = await client.query(
        `SELECT 1 FROM runs WHERE workflow_id = $1::text AND id <> $2::text
           AND (status = ANY($3::text[]) OR (status = 'queued' AND node_id IS NOT NULL)) LIMIT 1`,
        [row.workflowId, row.id, ACTIVE],
      );
      if (busy.rowCount !== 0) continue;
      admitted.add(row.grp);
    }
    const result = await client.query<RawHeld>(
      `UPDATE runs r SET node_id = $1::text, epoch = r.epoch + 1, lease_expires_at = ${LEASE}
         FROM (SELECT NULL::text AS previous_node) t
        WHERE r.id = $3::text ${RETURNING_HELD}`,
      [nodeId, leaseMs, row.id],
    );
    const [held] = result.rows;
    if (held !== undefined) claimed.push(toHeld(held, nodeId));
  }
  return claimed;
}

/**
 * Claims one run when nobody holds it: queued and unclaimed (a `workflows.call` child, which
 * bypasses the gate, or a run about to be cancelled), or active with an expired lease or none.
 * `null` when another node holds it or it is terminal.
 */
export async function claimRun(
  client: pg.ClientBase,
  nodeId: string,
  leaseMs: number,
  runId: string,
): Promise<HeldRun | null> {
  const result = await client.query<RawHeld>(
    `WITH t AS (
       SELECT id, node_id AS previous_node FROM runs
        WHERE id = $3::text AND status = ANY($4::text[])
          AND (node_id IS NULL OR lease_expires_at IS NULL OR lease_expires_at < now())
        FOR UPDATE)
     UPDATE runs r SET node_id = $1::text, epoch = r.epoch + 1, lease_expires_at = ${LEASE}
       FROM t WHERE r.id = t.id ${RETURNING_HELD}`,
    [nodeId, leaseMs, runId, HELD_STATUSES],
  );
  const [held] = result.rows;
  return held === undefined ? null : toHeld(held, nodeId);
}

/**
 * Takes over up to `limit` runs whose holder's lease expired (or that are active with no holder:
 * left by an engine outside a cluster), oldest first; with `mine`, also the runs still recorded
 * under this node's id (the node restarted with a fixed id). Never waits on a locked row.
 */
export async function takeOverExpired(
  client: pg.ClientBase,
  nodeId: string,
  leaseMs: number,
  limit: number,
  mine: boolean,
  skip: readonly string[] = [],
): Promise<HeldRun[]> {
  const result = await client.query<RawHeld>(
    `WITH t AS (
       SELECT id, node_id AS previous_node FROM runs
        WHERE status = ANY($4::text[])
          AND ((node_id IS NOT NULL AND lease_expires_at < now())
            OR (node_id IS NULL AND status <> 'queued')
            OR ($5::boolean AND node_id = $1::text))
          AND NOT (id = ANY($6::text[]))
        ORDER BY created_at, position
        LIMIT $3 FOR UPDATE SKIP LOCKED)
     UPDATE runs r SET node_id = $1::text, epoch = r.epoch + 1, lease_expires_at = ${LEASE}
       FROM t WHERE r.id = t.id ${RETURNING_HELD}`,
    [nodeId, leaseMs, limit, HELD_STATUSES, mine, skip],
  );
  return result.rows.map((raw) => toHeld(raw, nodeId));
}

/**
 * Extends the leases of the runs this node holds (matching node and epoch, lease not yet
 * expired) and records the node's heartbeat. Returns the runs still held, with their status; a
 * run missing from the answer is lost.
 */
export async function heartbeat(
  client: pg.ClientBase,
  nodeId: string,
  leaseMs: number,
  held: ReadonlyMap<string, number>,
): Promise<HeldRun[]> {
  await client.query(
    `INSERT INTO cluster_nodes (id) VALUES ($1::text)
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
    [nodeId],
  );
  if (held.size === 0) return [];
  const ids = [...held.keys()].sort();
  const epochs = ids.map((id) => held.get(id) ?? 0);
  const result = await client.query<RawHeld>(
    `WITH t AS (
       SELECT r.id, NULL::text AS previous_node FROM runs r
         JOIN unnest($3::text[], $4::integer[]) AS h(id, epoch) ON h.id = r.id AND h.epoch = r.epoch
        WHERE r.node_id = $1::text AND r.lease_expires_at > now()
        ORDER BY r.id FOR NO KEY UPDATE OF r)
     UPDATE runs r SET lease_expires_at = ${LEASE}
       FROM t WHERE r.id = t.id ${RETURNING_HELD}`,
    [nodeId, leaseMs, ids, epochs],
  );
  return result.rows.map((raw) => toHeld(raw, nodeId));
}

/**
 * Ends this node's leases of `runIds` (at their epochs) now, so another node takes them over at
 * once; returns how many were released.
 */
export async function releaseLeases(
  client: pg.ClientBase,
  nodeId: string,
  held: ReadonlyMap<string, number>,
): Promise<number> {
  if (held.size === 0) return 0;
  const ids = [...held.keys()].sort();
  const epochs = ids.map((id) => held.get(id) ?? 0);
  const result = await client.query(
    `UPDATE runs r SET lease_expires_at = now() - interval '1 millisecond'
       FROM unnest($2::text[], $3::integer[]) AS h(id, epoch)
      WHERE r.id = h.id AND r.epoch = h.epoch AND r.node_id = $1::text`,
    [nodeId, ids, epochs],
  );
  return result.rowCount ?? 0;
}

/**
 * Records a cancel request for a run another node holds; `false` when the run is terminal or
 * unknown.
 */
export async function requestCancel(client: pg.ClientBase, runId: string): Promise<boolean> {
  const result = await client.query(
    `UPDATE runs SET cancel_requested = true WHERE id = $1::text AND status = ANY($2::text[])`,
    [runId, HELD_STATUSES],
  );
  return result.rowCount === 1;
}

/** Marks this node draining (or not) in `cluster_nodes`. */
export async function setDraining(
  client: pg.ClientBase,
  nodeId: string,
  draining: boolean,
): Promise<void> {
  await client.query(
    `INSERT INTO cluster_nodes (id, draining) VALUES ($1::text, $2::boolean)
     ON CONFLICT (id) DO UPDATE SET draining = $2::boolean, heartbeat_at = now()`,
    [nodeId, draining],
  );
}
