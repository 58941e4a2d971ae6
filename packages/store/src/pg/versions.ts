/**
 * Workflow versions on PostgreSQL: the statements of a deploy (the workflow row and, unless the
 * content hash equals the current version's, a new version numbered one past it — both in one
 * transaction, serialized per workflow by the upsert's row lock), the version reads, the
 * retention batch that deletes unused old versions, and the hashes the migration that
 * introduced versions could not compute in SQL.
 */
import type pg from "pg";
import { contentHash, type RawVersion } from "../internal/versions.ts";
import type { PruneVersionsQuery } from "../internal/prune.ts";
import type { PrunedVersion, PruneVersionsResult } from "../types.ts";
import type { WorkflowWrite } from "./args.ts";
import { INT8_AS_NUMBER, type Statement } from "./statements.ts";

/** Columns of a version summary, camel-cased. */
const SUMMARY_COLUMNS = `id, workflow_id AS "workflowId", number, hash, deployed_at AS "deployedAt"`;

/** Inserts or updates the workflow by slug (bumping its cache `version`); returns the row. */
export function upsertWorkflowStatement(id: string, w: WorkflowWrite, now: number): Statement {
  return {
    text: `INSERT INTO workflows (id, slug, manifest, program, config, version, created_at, updated_at)
  VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, 1, $6::bigint, $6::bigint)
  ON CONFLICT (slug) DO UPDATE SET manifest = EXCLUDED.manifest, program = EXCLUDED.program,
    config = EXCLUDED.config, updated_at = EXCLUDED.updated_at, version = workflows.version + 1,
    undeployed_at = NULL
  RETURNING id, slug, manifest, program, config, version, created_at AS "createdAt", updated_at AS "updatedAt",
    undeployed_at AS "undeployedAt"`,
    values: [id, w.slug, w.manifest, w.program, w.config, now],
  };
}

/** The workflow's current (highest-numbered) version's number and hash. */
export function currentVersionStatement(workflowId: string): Statement {
  return {
    text: `SELECT number, hash FROM workflow_versions WHERE workflow_id = $1
  ORDER BY number DESC LIMIT 1`,
    values: [workflowId],
  };
}

/** Inserts one version row. */
export function insertVersionStatement(row: RawVersion): Statement {
  return {
    text: `INSERT INTO workflow_versions (id, workflow_id, number, hash, manifest, program, config, skills, deployed_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    values: [
      row.id,
      row.workflowId,
      row.number,
      row.hash,
      row.manifest,
      row.program,
      row.config,
      row.skills,
      row.deployedAt,
    ],
  };
}

/** The workflow's slug, and the id of its version `number` (`null` when it has none such). */
export function versionLookupStatement(workflowId: string, number: number): Statement {
  return {
    text: `SELECT w.slug, v.id FROM workflows w
  LEFT JOIN workflow_versions v ON v.workflow_id = w.id AND v.number = $2::bigint
  WHERE w.id = $1::text`,
    values: [workflowId, number],
  };
}

/** The workflow's versions without their content, newest first. */
export function listVersionsStatement(workflowId: string): Statement {
  return {
    text: `SELECT ${SUMMARY_COLUMNS} FROM workflow_versions WHERE workflow_id = $1
  ORDER BY number DESC`,
    values: [workflowId],
  };
}

/** One version with its content. */
export function getVersionStatement(workflowId: string, number: number): Statement {
  return {
    text: `SELECT ${SUMMARY_COLUMNS}, manifest, program, config, skills FROM workflow_versions
  WHERE workflow_id = $1::text AND number = $2::bigint`,
    values: [workflowId, number],
  };
}

/**
 * One version-pruning batch; `client` is inside `BEGIN`. The candidates (not the current version,
 * no run referencing them) are locked, skipping any a concurrent run creation holds through its
 * foreign-key check; the delete then checks the references again with a fresh snapshot, so a run
 * committed in between keeps its version.
 */
export async function pruneVersionsBatch(
  client: pg.PoolClient,
  query: PruneVersionsQuery,
): Promise<PruneVersionsResult> {
  const { rows: locked } = await client.query<{ id: string }>({
    text: `SELECT v.id FROM workflow_versions v
  WHERE v.workflow_id = $1::text
    AND v.number < (SELECT MAX(number) FROM workflow_versions WHERE workflow_id = $1::text)
    AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.version_id = v.id)
  ORDER BY v.number LIMIT $2
  FOR UPDATE OF v SKIP LOCKED`,
    values: [query.workflowId, query.limit],
  });
  if (locked.length === 0) return { deleted: [], more: false };
  const { rows: deleted } = await client.query<PrunedVersion & pg.QueryResultRow>({
    text: `DELETE FROM workflow_versions v WHERE v.id = ANY($1::text[])
    AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.version_id = v.id)
  RETURNING v.id, v.workflow_id AS "workflowId", v.number`,
    values: [locked.map((row) => row.id)],
    types: INT8_AS_NUMBER,
  });
  deleted.sort((a, b) => a.number - b.number);
  return { deleted, more: locked.length === query.limit };
}

/**
 * Versions recorded by the migration that introduced them have an empty hash (it is computed
 * in the store, with the formula every deploy uses): fill each in. Idempotent, so two processes
 * opening the database at once both succeed.
 */
export async function fillMissingHashes(client: pg.PoolClient): Promise<void> {
  const { rows: table } = await client.query<{ found: string | null }>(
    "SELECT to_regclass('workflow_versions')::text AS found",
  );
  if (table[0]?.found == null) return;
  const { rows } = await client.query<
    Pick<RawVersion, "id" | "manifest" | "program" | "config" | "skills">
  >({
    text: "SELECT id, manifest, program, config, skills FROM workflow_versions WHERE hash = ''",
    types: INT8_AS_NUMBER,
  });
  for (const row of rows) {
    await client.query("UPDATE workflow_versions SET hash = $1 WHERE id = $2 AND hash = ''", [
      contentHash(row),
      row.id,
    ]);
  }
}
