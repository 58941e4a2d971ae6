/**
 * What both stores share about retention batches: reading `pruneRuns` and `pruneVersions`
 * arguments (each check throws `VALIDATION` naming the argument), the terminal statuses a
 * candidate must have, the tables that hold a run's rows, and which members of the candidates'
 * families may go.
 */
import { TERMINAL_STATUSES } from "@promenade/workflow/records";
import type { PruneCursor, PrunedRun, PruneRunsArgs, PruneVersionsArgs } from "../types.ts";
import { describe, requireInteger, requireString, validation } from "./args.ts";

/** Top-level runs examined per batch when `limit` is absent. */
export const DEFAULT_PRUNE_LIMIT = 200;
const MAX_PRUNE_LIMIT = 1000;

/** The terminal statuses, in the order the SQL lists them. */
export const PRUNABLE_STATUSES: readonly string[] = TERMINAL_STATUSES;

/** {@link PruneRunsArgs} checked, with the default limit applied. */
export interface PruneQuery {
  workflowId: string;
  endedBefore: number | null;
  keepLast: number | null;
  limit: number;
  after: PruneCursor | null;
}

/** Checks `pruneRuns` arguments; throws `VALIDATION` naming the bad one. */
export function readPruneArgs(args: PruneRunsArgs): PruneQuery {
  if (typeof args !== "object" || args === null) {
    throw validation("pruneRuns(args): args must be an object.");
  }
  const workflowId = requireString(args.workflowId, "pruneRuns: workflowId");
  const endedBefore =
    args.endedBefore === undefined
      ? null
      : requireInteger(args.endedBefore, "pruneRuns: endedBefore", 0);
  const keepLast =
    args.keepLast === undefined ? null : requireInteger(args.keepLast, "pruneRuns: keepLast", 1);
  if (endedBefore === null && keepLast === null) {
    throw validation(
      "pruneRuns: give endedBefore, keepLast or both.",
      "A retention batch needs a policy: an age limit, a count limit, or both.",
    );
  }
  const limit =
    args.limit === undefined
      ? DEFAULT_PRUNE_LIMIT
      : requireInteger(args.limit, "pruneRuns: limit", 1);
  if (limit > MAX_PRUNE_LIMIT) {
    throw validation(
      `pruneRuns: limit must be at most ${String(MAX_PRUNE_LIMIT)}, got ${String(limit)}.`,
    );
  }
  let after: PruneCursor | null = null;
  if (args.after !== undefined && args.after !== null) {
    if (typeof args.after !== "object") {
      throw validation(`pruneRuns: after must be a cursor object, got ${describe(args.after)}.`);
    }
    after = {
      createdAt: requireInteger(args.after.createdAt, "pruneRuns: after.createdAt", 0),
      id: requireString(args.after.id, "pruneRuns: after.id"),
    };
  }
  return { workflowId, endedBefore, keepLast, limit, after };
}

/** {@link PruneVersionsArgs} checked, with the default limit applied. */
export interface PruneVersionsQuery {
  workflowId: string;
  limit: number;
}

/** Checks `pruneVersions` arguments; throws `VALIDATION` naming the bad one. */
export function readPruneVersionsArgs(args: PruneVersionsArgs): PruneVersionsQuery {
  if (typeof args !== "object" || args === null) {
    throw validation("pruneVersions(args): args must be an object.");
  }
  const workflowId = requireString(args.workflowId, "pruneVersions: workflowId");
  const limit =
    args.limit === undefined
      ? DEFAULT_PRUNE_LIMIT
      : requireInteger(args.limit, "pruneVersions: limit", 1);
  if (limit > MAX_PRUNE_LIMIT) {
    throw validation(
      `pruneVersions: limit must be at most ${String(MAX_PRUNE_LIMIT)}, got ${String(limit)}.`,
    );
  }
  return { workflowId, limit };
}

/** Tables whose rows belong to one run (`run_id`), deleted before the run rows. */
export const RUN_TABLES = [
  "artifacts",
  "run_events",
  "human_input_requests",
  "run_request_keys",
  "webhook_deliveries",
  "cron_fires",
] as const;

/** One member of a candidate's family (the candidate itself at depth 0). */
export interface FamilyRow {
  root: string;
  id: string;
  depth: number;
  status: string;
  workflowId: string;
  parentRunId: string | null;
}

/**
 * The members of the families that may be deleted, shallowest first (candidate order within a
 * depth): a family goes only as a whole, and stays while any member is not terminal or is `held`.
 */
export function deletableMembers(
  family: readonly FamilyRow[],
  held: ReadonlySet<string>,
): FamilyRow[] {
  const blocked = new Set<string>();
  for (const row of family) {
    if (!PRUNABLE_STATUSES.includes(row.status) || held.has(row.id)) blocked.add(row.root);
  }
  return family.filter((row) => !blocked.has(row.root)).sort((a, b) => a.depth - b.depth);
}

/** The deleted runs as a batch reports them. */
export function prunedRuns(doomed: readonly FamilyRow[]): PrunedRun[] {
  return doomed.map((row) => ({
    id: row.id,
    workflowId: row.workflowId,
    parentRunId: row.parentRunId,
  }));
}
