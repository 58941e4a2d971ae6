/**
 * Retention on PostgreSQL: one `pruneRuns` batch on one pooled connection inside the caller's
 * transaction — the candidates outside the policy, their families, the rows that hold them back,
 * then every row of the deletable families. Same rules as the SQLite store.
 */
import type pg from "pg";
import {
  deletableMembers,
  PRUNABLE_STATUSES,
  prunedRuns,
  RUN_TABLES,
  type FamilyRow,
  type PruneQuery,
} from "../internal/prune.ts";
import { REQUEST_KEY_TTL_MS } from "../internal/request-keys.ts";
import type { PruneCursor, PruneRunsResult } from "../types.ts";
import { INT8_AS_NUMBER } from "./statements.ts";

async function rows<T extends object>(
  client: pg.PoolClient,
  text: string,
  values: unknown[],
): Promise<T[]> {
  return (await client.query<T & pg.QueryResultRow>({ text, values, types: INT8_AS_NUMBER })).rows;
}

/** One retention batch; `client` is inside `BEGIN`, `now` the store's clock. */
export async function pruneBatch(
  client: pg.PoolClient,
  query: PruneQuery,
  now: number,
): Promise<PruneRunsResult> {
  const terminal = [...PRUNABLE_STATUSES];
  let keep: PruneCursor | undefined;
  if (query.keepLast !== null) {
    [keep] = await rows<PruneCursor>(
      client,
      `SELECT created_at AS "createdAt", id FROM runs
       WHERE workflow_id = $1 AND parent_run_id IS NULL AND status = ANY($2::text[])
       ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT 1 OFFSET $3`,
      [query.workflowId, terminal, query.keepLast - 1],
    );
  }
  if (query.endedBefore === null && keep === undefined) {
    return { deleted: [], artifactPaths: [], next: null };
  }
  // Row locks on the candidates: a concurrent batch of another sweep waits instead of racing.
  const candidates = await rows<PruneCursor>(
    client,
    `SELECT id, created_at AS "createdAt" FROM runs
     WHERE workflow_id = $1 AND parent_run_id IS NULL AND status = ANY($2::text[])
       AND (created_at > $3 OR (created_at = $3 AND id COLLATE "C" > $4))
       AND (($5::bigint IS NOT NULL AND COALESCE(ended_at, created_at) < $5::bigint)
         OR ($6::bigint IS NOT NULL AND (created_at < $6::bigint
              OR (created_at = $6::bigint AND id COLLATE "C" < $7::text))))
     ORDER BY created_at, id COLLATE "C" LIMIT $8
     FOR UPDATE`,
    [
      query.workflowId,
      terminal,
      query.after?.createdAt ?? -1,
      query.after?.id ?? "",
      query.endedBefore,
      keep?.createdAt ?? null,
      keep?.id ?? null,
      query.limit,
    ],
  );
  const last = candidates.at(-1);
  const next = candidates.length === query.limit && last !== undefined ? last : null;
  if (candidates.length === 0) return { deleted: [], artifactPaths: [], next };
  const family = await rows<FamilyRow>(
    client,
    `WITH RECURSIVE family(position, root, id, depth) AS (
       SELECT position, root, root, 0 FROM unnest($1::text[]) WITH ORDINALITY AS roots(root, position)
       UNION ALL
       SELECT family.position, family.root, runs.id, family.depth + 1
       FROM runs JOIN family ON runs.parent_run_id = family.id
     )
     SELECT family.root, family.id, family.depth, runs.status, runs.workflow_id AS "workflowId",
            runs.parent_run_id AS "parentRunId"
     FROM family JOIN runs ON runs.id = family.id
     ORDER BY family.depth, family.position, runs.created_at, runs.id COLLATE "C"`,
    [candidates.map((c) => c.id)],
  );
  const members = family.map((row) => row.id);
  const held = new Set(
    (
      await rows<{ id: string }>(
        client,
        `SELECT run_id AS id FROM run_request_keys WHERE run_id = ANY($1::text[]) AND created_at > $2
         UNION SELECT run_id FROM webhook_deliveries WHERE run_id = ANY($1::text[]) AND expires_at > $3
         UNION SELECT fire.run_id FROM cron_fires AS fire WHERE fire.run_id = ANY($1::text[])
           AND fire.fire_time = (SELECT MAX(other.fire_time) FROM cron_fires AS other
             WHERE other.workflow_id = fire.workflow_id AND other.trigger_index = fire.trigger_index)`,
        [members, now - REQUEST_KEY_TTL_MS, now],
      )
    ).map((row) => row.id),
  );
  const doomed = deletableMembers(family, held);
  if (doomed.length === 0) return { deleted: [], artifactPaths: [], next };
  const ids = doomed.map((row) => row.id);
  const artifactPaths = (
    await rows<{ path: string }>(
      client,
      "SELECT path FROM artifacts WHERE run_id = ANY($1::text[]) ORDER BY position",
      [ids],
    )
  ).map((row) => row.path);
  for (const table of RUN_TABLES) {
    await client.query(`DELETE FROM ${table} WHERE run_id = ANY($1::text[])`, [ids]);
  }
  // Deepest first: a child goes before the parent its row references.
  const depths = [...new Set(doomed.map((row) => row.depth))].reverse();
  for (const depth of depths) {
    await client.query("DELETE FROM runs WHERE id = ANY($1::text[])", [
      doomed.filter((row) => row.depth === depth).map((row) => row.id),
    ]);
  }
  const deleted = prunedRuns(doomed);
  return { deleted, artifactPaths, next };
}
