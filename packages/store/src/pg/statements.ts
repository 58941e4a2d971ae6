/**
 * The hand-written SQL of the PostgreSQL store's multi-row writes. Each invariant that spans
 * tables — a run with its `queued` event, a cron fire with its run and event, a status change
 * with its pending events and its `run_status` event — is ONE statement (data-modifying CTEs):
 * atomic by itself and one round trip, where a BEGIN … COMMIT transaction would take five.
 * A statement that writes nothing tells the caller so (no row back), and the caller then finds
 * out why with plain reads. Everything else the store runs is built with drizzle.
 */
import type { CustomTypesConfig } from "pg";
import pg from "pg";

/** A statement and its parameters, for `pool.query`. */
export interface Statement {
  /** Set for fixed texts run often: each connection then parses and plans them once. */
  name?: string;
  text: string;
  values: unknown[];
}

const INT8 = 20;

/**
 * Result parsing for these statements: `bigint` columns (epoch ms, cursors, tallies) as numbers.
 * Every stored value is a safe integer (the store validates them), so nothing is lost.
 */
export const INT8_AS_NUMBER: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8
      ? (value: string) => Number(value)
      : (pg.types.getTypeParser(oid, format ?? "text") as (
          value: string,
        ) => unknown)) as CustomTypesConfig["getTypeParser"],
};

/** The `runs` columns under the names of the drizzle row (`RETURNING` / `SELECT` list). */
export const RUN_COLUMNS = `id, workflow_id AS "workflowId", status, trigger_kind AS "triggerKind", input, output,
  error, parent_run_id AS "parentRunId", idempotency_key AS "idempotencyKey", restarts,
  tokens_in AS "tokensIn", tokens_out AS "tokensOut", usd_micros AS "usdMicros",
  created_at AS "createdAt", started_at AS "startedAt", ended_at AS "endedAt",
  active_ms AS "activeMs", retries, retry_at AS "retryAt",
  version_id AS "versionId", version, node_id AS "nodeId"`;

/** The raw run row these statements return. */
export interface RunRecord {
  id: string;
  workflowId: string;
  status: string;
  triggerKind: string;
  input: string | null;
  output: string | null;
  error: string | null;
  parentRunId: string | null;
  idempotencyKey: string | null;
  restarts: number;
  tokensIn: number;
  tokensOut: number;
  usdMicros: number;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  activeMs: number;
  retries: number;
  retryAt: number | null;
  versionId: string | null;
  version: number | null;
  nodeId: string | null;
}

/** Inserts a batch of events of one run: three parallel arrays, one statement. */
export const INSERT_EVENTS = `INSERT INTO run_events (run_id, cursor, channel, event)
  SELECT $1::text, c, ch, e FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(c, ch, e)`;

/** The arrays of {@link INSERT_EVENTS} for `rows`. */
export function eventArrays(
  rows: readonly { cursor: number; channel: string; text: string }[],
): [number[], string[], string[]] {
  const cursors: number[] = [];
  const channels: string[] = [];
  const texts: string[] = [];
  for (const row of rows) {
    cursors.push(row.cursor);
    channels.push(row.channel);
    texts.push(row.text);
  }
  return [cursors, channels, texts];
}

/** {@link INSERT_EVENTS} for a batch of one run. */
export function insertEventsStatement(
  runId: string,
  rows: readonly { cursor: number; channel: string; text: string }[],
): Statement {
  return {
    name: "promenade_insert_events",
    text: INSERT_EVENTS,
    values: [runId, ...eventArrays(rows)],
  };
}

/** A new queued run's values; the statement adds its `queued` event at cursor 1. */
export interface QueuedRun {
  id: string;
  workflowId: string;
  triggerKind: string;
  input: string | null;
  parentRunId: string | null;
  key: string | null;
  /** The requested version number; `null`: the workflow's current version. */
  version: number | null;
  createdAt: number;
  /** The `queued` event's JSON text. */
  event: string;
}

/**
 * The run's version: number `$9` of workflow `$1`, or its current (highest-numbered) version
 * when `$9` is null.
 */
const VERSION_OF_RUN = `SELECT id, number FROM workflow_versions
    WHERE workflow_id = $1::text AND ($9::bigint IS NULL OR number = $9::bigint)
    ORDER BY number DESC LIMIT 1`;

/**
 * Inserts the run and its queued event when the workflow (and the parent, if any) exist and no
 * run holds the idempotency key; returns the run plus `"workflowSlug"`, or no row when it wrote
 * nothing.
 */
export function createRunStatement(run: QueuedRun): Statement {
  return {
    text: `WITH w AS (SELECT id, slug FROM workflows WHERE id = $1::text),
  v AS (${VERSION_OF_RUN}),
  p AS (SELECT 1 WHERE $5::text IS NULL UNION ALL SELECT 1 FROM runs WHERE id = $5::text),
  r AS (
    INSERT INTO runs (id, workflow_id, status, trigger_kind, input, parent_run_id, idempotency_key, created_at, version_id, version)
    SELECT $2::text, w.id, 'queued', $3::text, $4::text, $5::text, $6::text, $7::bigint,
      (SELECT id FROM v), (SELECT number FROM v)
    FROM w, p WHERE $9::bigint IS NULL OR EXISTS (SELECT 1 FROM v)
    ON CONFLICT DO NOTHING
    RETURNING ${RUN_COLUMNS}
  ),
  e AS (
    INSERT INTO run_events (run_id, cursor, channel, event)
    SELECT r.id, 1, 'lifecycle', $8::text FROM r
  )
SELECT r.*, (SELECT slug FROM w) AS "workflowSlug" FROM r`,
    values: [
      run.workflowId,
      run.id,
      run.triggerKind,
      run.input,
      run.parentRunId,
      run.key,
      run.createdAt,
      run.event,
      run.version,
    ],
  };
}

/** Why {@link createRunStatement} wrote nothing: the workflow's slug and whether the parent exists. */
export function createRunDiagnosis(workflowId: string, parentRunId: string | null): Statement {
  return {
    text: `SELECT (SELECT slug FROM workflows WHERE id = $1) AS slug,
  ($2::text IS NULL OR EXISTS (SELECT 1 FROM runs WHERE id = $2)) AS "parentExists"`,
    values: [workflowId, parentRunId],
  };
}

/** The run holding an idempotency key under a parent (or none). */
export function runByKeyStatement(parentRunId: string | null, key: string): Statement {
  return {
    text: `SELECT ${RUN_COLUMNS} FROM runs WHERE COALESCE(parent_run_id, '') = $1 AND idempotency_key = $2`,
    values: [parentRunId ?? "", key],
  };
}

/**
 * Records a cron instant, its `cron` run and the run's queued event, unless the instant is
 * already recorded (no row back). Two processes firing the same instant at once: the loser's
 * whole statement fails on the `cron_fires` primary key (the caller reports `null`).
 */
export function fireCronStatement(
  fire: { workflowId: string; triggerIndex: number; fireTime: number },
  run: QueuedRun,
): Statement {
  return {
    text: `WITH w AS (SELECT id, slug FROM workflows WHERE id = $1::text),
  v AS (SELECT id, number FROM workflow_versions WHERE workflow_id = $1::text ORDER BY number DESC LIMIT 1),
  r AS (
    INSERT INTO runs (id, workflow_id, status, trigger_kind, input, created_at, version_id, version)
    SELECT $4::text, w.id, 'queued', 'cron', $5::text, $6::bigint, (SELECT id FROM v), (SELECT number FROM v) FROM w
    WHERE NOT EXISTS (
      SELECT 1 FROM cron_fires
      WHERE workflow_id = $1::text AND trigger_index = $2::integer AND fire_time = $3::bigint
    )
    RETURNING ${RUN_COLUMNS}
  ),
  c AS (
    INSERT INTO cron_fires (workflow_id, trigger_index, fire_time, run_id, created_at)
    SELECT $1::text, $2::integer, $3::bigint, r.id, $6::bigint FROM r
  ),
  e AS (
    INSERT INTO run_events (run_id, cursor, channel, event)
    SELECT r.id, 1, 'lifecycle', $7::text FROM r
  )
SELECT r.*, (SELECT slug FROM w) AS "workflowSlug" FROM r`,
    values: [
      fire.workflowId,
      fire.triggerIndex,
      fire.fireTime,
      run.id,
      run.input,
      run.createdAt,
      run.event,
    ],
  };
}

/** One status transition, validated. */
export interface StatusStatementArgs {
  runId: string;
  to: string;
  expect: readonly string[];
  output: string | undefined;
  error: string | undefined;
  startedAt: number | undefined;
  endedAt: number | undefined;
  /** The events to append first (committed whether or not the status applies). */
  pending: readonly { cursor: number; channel: string; text: string }[];
  /** The status event's cursor; absent: seq 1 of a fresh block after the highest cursor. */
  cursor: number | undefined;
  /** The status event's JSON text. */
  event: string;
  stride: number;
  /**
   * Set for a terminal status: the run's pending human-input requests are cancelled at this time
   * (epoch ms) in the same statement, when the status applies.
   */
  cancelRequestsAt?: number;
}

/**
 * Appends the pending events, then — when the status is one of `expect` — updates the run and
 * appends its `run_status` event (and, for a terminal status, cancels the run's pending
 * human-input requests). Always returns one row: the updated run's columns (all null
 * when the status did not apply), `"known"` (whether the run exists) and `"stampCursor"`.
 */
export function commitStatusStatement(args: StatusStatementArgs): Statement {
  const values: unknown[] = [args.runId, args.to, args.expect];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${String(values.length)}`;
  };
  const set = ["status = $2::text"];
  if (args.output !== undefined) set.push(`output = ${param(args.output)}::text`);
  if (args.error !== undefined) set.push(`error = ${param(args.error)}::text`);
  // The first pass's start wins: a later pass never resets it.
  if (args.startedAt !== undefined)
    set.push(`started_at = COALESCE(started_at, ${param(args.startedAt)}::bigint)`);
  if (args.endedAt !== undefined) set.push(`ended_at = ${param(args.endedAt)}::bigint`);
  const ctes: string[] = [];
  let pendingTop = 0;
  if (args.pending.length > 0) {
    const [cursors, channels, texts] = eventArrays(args.pending);
    pendingTop = Math.max(...cursors);
    ctes.push(`p AS (INSERT INTO run_events (run_id, cursor, channel, event)
    SELECT $1::text, c, ch, e FROM unnest(${param(cursors)}::bigint[], ${param(channels)}::text[], ${param(texts)}::text[]) AS t(c, ch, e))`);
  }
  ctes.push(
    `u AS (UPDATE runs SET ${set.join(", ")} WHERE id = $1::text AND status = ANY($3::text[]) RETURNING ${RUN_COLUMNS})`,
  );
  if (args.cancelRequestsAt !== undefined) {
    ctes.push(`x AS (UPDATE human_input_requests SET status = 'cancelled', responded_at = ${param(args.cancelRequestsAt)}::bigint
    WHERE run_id = $1::text AND status = 'pending' AND EXISTS (SELECT 1 FROM u))`);
  }
  // Rows the pending CTE inserts are invisible to this statement's reads: their top cursor
  // comes in as a parameter.
  const cursor =
    args.cursor === undefined
      ? `(GREATEST((SELECT COALESCE(MAX(cursor), 0) FROM run_events WHERE run_id = $1::text), ${param(pendingTop)}::bigint) / ${param(args.stride)}::bigint + 1) * $${String(values.length)}::bigint + 1`
      : `${param(args.cursor)}::bigint`;
  ctes.push(`s AS (INSERT INTO run_events (run_id, cursor, channel, event)
    SELECT u.id, ${cursor}, 'lifecycle', ${param(args.event)}::text FROM u RETURNING cursor)`);
  return {
    text: `WITH ${ctes.join(",\n  ")}
SELECT u.*, EXISTS (SELECT 1 FROM runs WHERE id = $1::text) AS known, (SELECT cursor FROM s) AS "stampCursor"
FROM (SELECT 1) AS one LEFT JOIN u ON true`,
    values,
  };
}
