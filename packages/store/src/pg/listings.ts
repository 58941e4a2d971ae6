/**
 * The hot listings of the PostgreSQL store as plain SQL, one fixed text per filter shape, each a
 * named statement: a connection parses and plans a shape once and every later listing of that
 * shape only binds its values, instead of building the query with drizzle on every call. Rows
 * come back under the names the row mappers read.
 */
import type { EventQuery, RunQuery } from "./args.ts";
import { RUN_COLUMNS, type Statement } from "./statements.ts";

/** The position of the run a keyset page starts after. */
export function runAnchorStatement(id: string): Statement {
  return {
    name: "runs_anchor",
    text: `SELECT created_at AS "createdAt", position FROM runs WHERE id = $1::text`,
    values: [id],
  };
}

/**
 * One page of runs matching `q`, newest (or oldest) first by `(created_at, position)`; `anchor`
 * is the run of the previous page for a keyset page.
 */
export function listRunsStatement(
  q: RunQuery,
  anchor: { createdAt: number; position: number } | undefined,
): Statement {
  const where: string[] = [];
  const values: unknown[] = [];
  let shape = q.newest ? "n" : "o";
  const param = (value: unknown, cast: string): string => {
    values.push(value);
    return `$${String(values.length)}::${cast}`;
  };
  if (q.workflowId !== undefined) {
    where.push(`workflow_id = ${param(q.workflowId, "text")}`);
    shape += "w";
  }
  if (q.parentRunId !== undefined) {
    where.push(`parent_run_id = ${param(q.parentRunId, "text")}`);
    shape += "p";
  }
  if (q.statuses !== undefined) {
    where.push(`status = ANY(${param(q.statuses, "text[]")})`);
    shape += "s";
  }
  if (q.createdSince !== undefined) {
    where.push(`created_at >= ${param(q.createdSince, "bigint")}`);
    shape += "f";
  }
  if (q.createdBefore !== undefined) {
    where.push(`created_at < ${param(q.createdBefore, "bigint")}`);
    shape += "b";
  }
  if (anchor !== undefined) {
    const at = param(anchor.createdAt, "bigint");
    const position = param(anchor.position, "bigint");
    where.push(`(created_at, position) ${q.newest ? "<" : ">"} (${at}, ${position})`);
    shape += "k";
  }
  const direction = q.newest ? "DESC" : "ASC";
  const limit = param(q.limit ?? null, "bigint");
  const offset = param(q.offset, "bigint");
  return {
    name: `runs_list_${shape}`,
    text: `SELECT ${RUN_COLUMNS} FROM runs${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`}
  ORDER BY created_at ${direction}, position ${direction} LIMIT ${limit} OFFSET ${offset}`,
    values,
  };
}

/** A run's events after `q.after`, ascending, optionally of some channels only. */
export function listEventsStatement(runId: string, q: EventQuery): Statement {
  const channels = q.channels !== undefined;
  return {
    name: channels ? "events_list_channels" : "events_list",
    text: `SELECT cursor, event FROM run_events WHERE run_id = $1::text AND cursor > $2::bigint${
      channels ? " AND channel = ANY($4::text[])" : ""
    } ORDER BY cursor LIMIT $3::bigint`,
    values: channels
      ? [runId, q.after, q.limit ?? null, q.channels]
      : [runId, q.after, q.limit ?? null],
  };
}
