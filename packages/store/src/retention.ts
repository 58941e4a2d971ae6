/**
 * Retention on SQLite: one `pruneRuns` batch (candidates outside the policy, their families, the
 * rows that hold them back, then every row of the deletable families, in one transaction), and
 * reclaiming the freed pages in small incremental-vacuum steps.
 */
import type Database from "better-sqlite3";
import type { TableContext } from "./internal/context.ts";
import {
  deletableMembers,
  PRUNABLE_STATUSES,
  prunedRuns,
  readPruneArgs,
  RUN_TABLES,
} from "./internal/prune.ts";
import type { FamilyRow } from "./internal/prune.ts";
import { REQUEST_KEY_TTL_MS } from "./internal/request-keys.ts";
import type { PruneCursor, PruneRunsArgs, PruneRunsResult } from "./types.ts";

const TERMINAL = PRUNABLE_STATUSES.map((status) => `'${status}'`).join(", ");

/** The prepared statements of a batch (prepared on first use: older schemas lack some tables). */
interface Statements {
  boundary: Database.Statement;
  candidates: Database.Statement;
  family: Database.Statement;
  held: Database.Statement;
  paths: Database.Statement;
  deletes: Database.Statement[];
  deleteRun: Database.Statement;
}

function prepare(db: Database.Database): Statements {
  const ids = "(SELECT value FROM json_each(@ids))";
  return {
    boundary: db.prepare(
      `SELECT created_at AS createdAt, id FROM runs
       WHERE workflow_id = ? AND parent_run_id IS NULL AND status IN (${TERMINAL})
       ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?`,
    ),
    candidates: db.prepare(
      `SELECT id, created_at AS createdAt FROM runs
       WHERE workflow_id = @workflowId AND parent_run_id IS NULL AND status IN (${TERMINAL})
         AND (created_at > @afterAt OR (created_at = @afterAt AND id > @afterId))
         AND ((@endedBefore IS NOT NULL AND COALESCE(ended_at, created_at) < @endedBefore)
           OR (@keepAt IS NOT NULL AND (created_at < @keepAt OR (created_at = @keepAt AND id < @keepId))))
       ORDER BY created_at, id LIMIT @limit`,
    ),
    family: db.prepare(
      `WITH RECURSIVE family(position, root, id, depth) AS (
         SELECT key, value, value, 0 FROM json_each(@ids)
         UNION ALL
         SELECT family.position, family.root, runs.id, family.depth + 1
         FROM runs JOIN family ON runs.parent_run_id = family.id
       )
       SELECT family.root AS root, family.id AS id, family.depth AS depth, runs.status AS status,
              runs.workflow_id AS workflowId, runs.parent_run_id AS parentRunId
       FROM family JOIN runs ON runs.id = family.id
       ORDER BY family.depth, family.position, runs.created_at, runs.id`,
    ),
    held: db.prepare(
      `SELECT run_id AS id FROM run_request_keys WHERE run_id IN ${ids} AND created_at > @keyCutoff
       UNION SELECT run_id FROM webhook_deliveries WHERE run_id IN ${ids} AND expires_at > @now
       UNION SELECT fire.run_id FROM cron_fires AS fire WHERE fire.run_id IN ${ids}
         AND fire.fire_time = (SELECT MAX(other.fire_time) FROM cron_fires AS other
           WHERE other.workflow_id = fire.workflow_id AND other.trigger_index = fire.trigger_index)`,
    ),
    paths: db.prepare(`SELECT path FROM artifacts WHERE run_id IN ${ids} ORDER BY rowid`),
    deletes: RUN_TABLES.map((table) => db.prepare(`DELETE FROM ${table} WHERE run_id IN ${ids}`)),
    deleteRun: db.prepare("DELETE FROM runs WHERE id = ?"),
  };
}

export class Retention {
  readonly #c: TableContext;
  #statements: Statements | undefined;

  constructor(context: TableContext) {
    this.#c = context;
  }

  /** One retention batch in one transaction (see `AsyncStore.pruneRuns`). */
  prune(args: PruneRunsArgs): PruneRunsResult {
    const query = readPruneArgs(args);
    const s = (this.#statements ??= prepare(this.#c.db));
    return this.#c.tx.run(() => {
      let keep: PruneCursor | undefined;
      if (query.keepLast !== null) {
        keep = s.boundary.get(query.workflowId, query.keepLast - 1) as PruneCursor | undefined;
      }
      if (query.endedBefore === null && keep === undefined) {
        return { deleted: [], artifactPaths: [], next: null };
      }
      const candidates = s.candidates.all({
        workflowId: query.workflowId,
        afterAt: query.after?.createdAt ?? -1,
        afterId: query.after?.id ?? "",
        endedBefore: query.endedBefore,
        keepAt: keep?.createdAt ?? null,
        keepId: keep?.id ?? null,
        limit: query.limit,
      }) as PruneCursor[];
      const last = candidates.at(-1);
      const next = candidates.length === query.limit && last !== undefined ? last : null;
      if (candidates.length === 0) return { deleted: [], artifactPaths: [], next };
      const family = s.family.all({
        ids: JSON.stringify(candidates.map((c) => c.id)),
      }) as FamilyRow[];
      const now = this.#c.settings.now();
      const held = new Set(
        (
          s.held.all({
            ids: JSON.stringify(family.map((row) => row.id)),
            keyCutoff: now - REQUEST_KEY_TTL_MS,
            now,
          }) as { id: string }[]
        ).map((row) => row.id),
      );
      // Deleted deepest first below, so a child goes before the parent its row references.
      const doomed = deletableMembers(family, held);
      if (doomed.length === 0) return { deleted: [], artifactPaths: [], next };
      const ids = JSON.stringify(doomed.map((row) => row.id));
      const artifactPaths = (s.paths.all({ ids }) as { path: string }[]).map((r) => r.path);
      for (const statement of s.deletes) statement.run({ ids });
      for (const row of doomed.toReversed()) s.deleteRun.run(row.id);
      const deleted = prunedRuns(doomed);
      return { deleted, artifactPaths, next };
    });
  }

  /**
   * Returns up to `pages` free pages to the file system (`PRAGMA incremental_vacuum`) and how many
   * were freed; `0` when the database was not created with incremental auto-vacuum.
   */
  reclaim(pages: number): number {
    const { db } = this.#c;
    if (db.pragma("auto_vacuum", { simple: true }) !== 2) return 0;
    const before = db.pragma("freelist_count", { simple: true }) as number;
    if (before === 0) return 0;
    db.pragma(`incremental_vacuum(${String(pages)})`);
    const after = db.pragma("freelist_count", { simple: true }) as number;
    return before - after;
  }
}
