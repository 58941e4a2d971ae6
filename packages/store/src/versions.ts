/**
 * The `workflow_versions` table: one immutable row per deploy that changed a workflow's content,
 * numbered 1, 2, 3… per workflow, and the lookups runs are created with. A deploy whose content
 * hash equals the current (highest-numbered) version's creates no row. Rows never change, so
 * full rows (programs can be megabytes) are cached by id, a bounded number of them. Retention
 * deletes the versions no run references, except the current one.
 */
import type Database from "better-sqlite3";
import { and, desc, eq, sql } from "drizzle-orm";
import type { WorkflowVersionRow, WorkflowVersionSummary } from "@promenade/workflow/records";
import { describe, requireString, validation } from "./internal/args.ts";
import type { TableContext } from "./internal/context.ts";
import { readPruneVersionsArgs } from "./internal/prune.ts";
import {
  contentHash,
  toVersionRow,
  toVersionSummary,
  type RawVersion,
} from "./internal/versions.ts";
import { workflowVersions } from "./schema.ts";
import type { PrunedVersion, PruneVersionsArgs, PruneVersionsResult } from "./types.ts";

/** Full rows kept in memory (the versions current runs execute). */
const CACHED_ROWS = 32;

/** A version as runs reference it. */
export interface VersionKey {
  id: string;
  number: number;
}

/** The stored texts of a deploy's content. */
export interface VersionContent {
  manifest: string;
  program: string;
  config: string;
  skills: string;
}

export class VersionTable {
  readonly #c: TableContext;
  readonly #s;
  readonly #rows = new Map<string, WorkflowVersionRow>();
  #prune: { unused: Database.Statement; delete: Database.Statement } | undefined;

  constructor(context: TableContext) {
    this.#c = context;
    const p = sql.placeholder;
    const { orm } = context;
    const key = { id: workflowVersions.id, number: workflowVersions.number };
    this.#s = {
      current: orm
        .select({ ...key, hash: workflowVersions.hash })
        .from(workflowVersions)
        .where(eq(workflowVersions.workflowId, p("workflowId")))
        .orderBy(desc(workflowVersions.number))
        .limit(1)
        .prepare(),
      keyByNumber: orm
        .select(key)
        .from(workflowVersions)
        .where(
          and(
            eq(workflowVersions.workflowId, p("workflowId")),
            eq(workflowVersions.number, p("number")),
          ),
        )
        .prepare(),
      idByNumber: orm
        .select({ id: workflowVersions.id })
        .from(workflowVersions)
        .where(
          and(
            eq(workflowVersions.workflowId, p("workflowId")),
            eq(workflowVersions.number, p("number")),
          ),
        )
        .prepare(),
      byId: orm
        .select()
        .from(workflowVersions)
        .where(eq(workflowVersions.id, p("id")))
        .prepare(),
      list: orm
        .select({
          id: workflowVersions.id,
          workflowId: workflowVersions.workflowId,
          number: workflowVersions.number,
          hash: workflowVersions.hash,
          deployedAt: workflowVersions.deployedAt,
        })
        .from(workflowVersions)
        .where(eq(workflowVersions.workflowId, p("workflowId")))
        .orderBy(desc(workflowVersions.number))
        .prepare(),
    };
  }

  /**
   * Inside the deploy's transaction: the current version when its hash equals this content's,
   * else a new version numbered one past it.
   */
  record(workflowId: string, content: VersionContent, deployedAt: number): VersionKey {
    const hash = contentHash(content);
    const current = this.#s.current.get({ workflowId });
    if (current !== undefined && current.hash === hash) {
      return { id: current.id, number: current.number };
    }
    const row = {
      id: this.#c.newId(),
      workflowId,
      number: (current?.number ?? 0) + 1,
      hash,
      ...content,
      deployedAt,
    };
    this.#c.orm.insert(workflowVersions).values(row).run();
    return { id: row.id, number: row.number };
  }

  /** The workflow's current (highest-numbered) version, or `undefined` when it has none. */
  current(workflowId: string): VersionKey | undefined {
    const row = this.#s.current.get({ workflowId });
    return row === undefined ? undefined : { id: row.id, number: row.number };
  }

  /** The workflow's version with this number, or `undefined`. */
  key(workflowId: string, number: number): VersionKey | undefined {
    return this.#s.keyByNumber.get({ workflowId, number });
  }

  /** The workflow's versions, newest first (`[]` for an unknown workflow). */
  list(workflowId: string): WorkflowVersionSummary[] {
    requireString(workflowId, "listWorkflowVersions: workflowId");
    return this.#s.list.all({ workflowId }).map(toVersionSummary);
  }

  /** The workflow's version with this number and its content, or `null`. */
  get(workflowId: string, number: number): WorkflowVersionRow | null {
    requireString(workflowId, "getWorkflowVersion: workflowId");
    if (typeof number !== "number" || !Number.isSafeInteger(number)) {
      throw validation(`getWorkflowVersion: version must be an integer, got ${describe(number)}.`);
    }
    const found = this.#s.idByNumber.get({ workflowId, number });
    if (found === undefined) return null;
    const cached = this.#rows.get(found.id);
    if (cached !== undefined) return cached;
    const raw = this.#s.byId.get({ id: found.id });
    if (raw === undefined) return null;
    const row = Object.freeze(toVersionRow(raw));
    if (this.#rows.size >= CACHED_ROWS) {
      const oldest = this.#rows.keys().next().value;
      if (oldest !== undefined) this.#rows.delete(oldest);
    }
    this.#rows.set(row.id, row);
    return row;
  }

  /**
   * One batch in one transaction: deletes up to `limit` of the workflow's versions that are not
   * its current (highest-numbered) version and that no run references, lowest number first.
   */
  prune(args: PruneVersionsArgs): PruneVersionsResult {
    const { workflowId, limit } = readPruneVersionsArgs(args);
    const s = (this.#prune ??= {
      unused: this.#c.db.prepare(
        `SELECT v.id, v.workflow_id AS workflowId, v.number FROM workflow_versions AS v
         WHERE v.workflow_id = @workflowId
           AND v.number < (SELECT MAX(number) FROM workflow_versions WHERE workflow_id = @workflowId)
           AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.version_id = v.id)
         ORDER BY v.number LIMIT @limit`,
      ),
      delete: this.#c.db.prepare("DELETE FROM workflow_versions WHERE id = ?"),
    });
    return this.#c.tx.run(() => {
      const deleted = s.unused.all({ workflowId, limit }) as PrunedVersion[];
      for (const version of deleted) {
        s.delete.run(version.id);
        this.#rows.delete(version.id);
      }
      return { deleted, more: deleted.length === limit };
    });
  }
}

/**
 * Versions recorded by the migration that introduced them have an empty hash (SQL cannot compute
 * it): fill each in with the deploy formula. Runs once per such row, at open.
 */
export function fillMissingHashes(db: Database.Database): void {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'workflow_versions'")
    .get();
  if (table === undefined) return;
  const missing = db
    .prepare("SELECT id, manifest, program, config, skills FROM workflow_versions WHERE hash = ''")
    .all() as Pick<RawVersion, "id" | "manifest" | "program" | "config" | "skills">[];
  if (missing.length === 0) return;
  const update = db.prepare("UPDATE workflow_versions SET hash = ? WHERE id = ?");
  db.transaction(() => {
    for (const row of missing) update.run(contentHash(row), row.id);
  })();
}
