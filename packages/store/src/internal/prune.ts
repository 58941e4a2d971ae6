/**
 * What both stores share about retention batches: reading `pruneRuns` arguments (each check
 * throws `VALIDATION` naming the argument) and the terminal statuses a candidate must have.
 */
import { TERMINAL_STATUSES } from "@promenade/workflow/records";
import type { PruneCursor, PruneRunsArgs } from "../types.ts";
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
