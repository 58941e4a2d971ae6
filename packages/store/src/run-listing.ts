/**
 * The SQL of `listRuns` as plain better-sqlite3 statements, one per filter shape (which filters
 * are present, how many statuses, the order), prepared on first use and cached: a listing reuses
 * a statement instead of building and compiling its query again, and its rows come back flat,
 * already named as the row mapper reads them. Every shape is an index range ending in
 * `(created_at, rowid)`, so no shape sorts. Each read is reported to `logQuery` like drizzle's own
 * queries, so the query-plan checks see it.
 */
import type Database from "better-sqlite3";
import type { runs } from "./schema.ts";
import type { StoreHooks } from "./open.ts";

/** A run row as stored, with the `rowid` that breaks `created_at` ties. */
export type RunKeyRow = typeof runs.$inferSelect & { rowid: number };

/** Which filters one listing query has; the values travel separately. */
export interface ListingShape {
  /** `parent_run_id = ?` (children of one run). */
  parent: boolean;
  /** `workflow_id = ?`. */
  workflow: boolean;
  /** How many `status` values: `0` none, `1` one equality, more: an `IN` list. */
  statuses: number;
  /** `(created_at, rowid)` beyond an anchor run. */
  keyset: boolean;
  since: boolean;
  before: boolean;
  newest: boolean;
}

/** The values of one listing query, in the order its shape's SQL names them. */
export interface ListingValues {
  parentRunId?: string | undefined;
  workflowId?: string | undefined;
  statuses?: readonly string[] | undefined;
  anchor?: { createdAt: number; rowid: number } | undefined;
  since?: number | undefined;
  before?: number | undefined;
  /** Rows wanted, `-1` for all. */
  take: number;
}

const COLUMNS = `id, workflow_id AS workflowId, status, trigger_kind AS triggerKind, input, output,
  error, parent_run_id AS parentRunId, idempotency_key AS idempotencyKey, restarts,
  tokens_in AS tokensIn, tokens_out AS tokensOut, usd_micros AS usdMicros,
  created_at AS createdAt, started_at AS startedAt, ended_at AS endedAt,
  version_id AS versionId, version, active_ms AS activeMs, retries, retry_at AS retryAt,
  rowid AS rowid`;

function sqlOf(shape: ListingShape): string {
  const where: string[] = [];
  if (shape.parent) where.push("parent_run_id = ?");
  if (shape.workflow) where.push("workflow_id = ?");
  if (shape.statuses === 1) where.push("status = ?");
  if (shape.statuses > 1) {
    where.push(`status IN (${Array.from({ length: shape.statuses }, () => "?").join(", ")})`);
  }
  if (shape.keyset) where.push(`(created_at, rowid) ${shape.newest ? "<" : ">"} (?, ?)`);
  if (shape.since) where.push("created_at >= ?");
  if (shape.before) where.push("created_at < ?");
  const direction = shape.newest ? "desc" : "asc";
  return `select ${COLUMNS} from "runs"${where.length === 0 ? "" : ` where ${where.join(" and ")}`}
  order by created_at ${direction}, rowid ${direction} limit ?`;
}

function valuesOf(shape: ListingShape, v: ListingValues): unknown[] {
  const out: unknown[] = [];
  if (shape.parent) out.push(v.parentRunId);
  if (shape.workflow) out.push(v.workflowId);
  if (shape.statuses > 0) out.push(...(v.statuses ?? []));
  if (shape.keyset) out.push(v.anchor?.createdAt, v.anchor?.rowid);
  if (shape.since) out.push(v.since);
  if (shape.before) out.push(v.before);
  out.push(v.take);
  return out;
}

/** The listing statements of one connection. */
export class RunListing {
  readonly #db: Database.Database;
  readonly #logQuery: StoreHooks["logQuery"];
  readonly #statements = new Map<string, { sql: string; statement: Database.Statement }>();

  constructor(db: Database.Database, logQuery: StoreHooks["logQuery"]) {
    this.#db = db;
    this.#logQuery = logQuery;
  }

  /** The rows of one index range, in `(created_at, rowid)` order. */
  query(shape: ListingShape, values: ListingValues): RunKeyRow[] {
    const key = [
      shape.parent,
      shape.workflow,
      shape.statuses,
      shape.keyset,
      shape.since,
      shape.before,
      shape.newest,
    ].join();
    let entry = this.#statements.get(key);
    if (entry === undefined) {
      const sql = sqlOf(shape);
      entry = { sql, statement: this.#db.prepare(sql) };
      this.#statements.set(key, entry);
    }
    const params = valuesOf(shape, values);
    this.#logQuery?.(entry.sql, params);
    return entry.statement.all(...params) as RunKeyRow[];
  }
}
