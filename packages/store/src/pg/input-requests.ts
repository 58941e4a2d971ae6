/**
 * The `human_input_requests` table on PostgreSQL: the durable answer slot of each human-input
 * gate, with the same rules as the SQLite table. Opening a gate and settling it are each one
 * transaction together with the pass's pending events and the gate's event; a settlement updates
 * the row only while it is `pending` (the row lock makes concurrent answers, from any process,
 * wait and then find it answered), so the first answer wins. Events are published after COMMIT.
 */
import type pg from "pg";
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import type { HumanInputRequestRow, ListInputRequestsFilter } from "@promenade/workflow/records";
import {
  freshStamp,
  readCreateInputRequest,
  readInputFilter,
  readSettlement,
  requestedEvent,
  requireInputKey,
  resolvedEvent,
  toInputRequestRow,
  type RawInputRequest,
} from "../internal/input-requests.ts";
import { requireString, sizedJson } from "../internal/args.ts";
import type { RunEvent } from "../internal/sdk.ts";
import type { CreateInputRequestArgs, EventAppend, InputRequestSettlement } from "../types.ts";
import type { JsonValue } from "../internal/sdk.ts";
import { prepareEvents, type Limits, type PreparedEvent } from "./args.ts";
import { driverError, eventWriteError } from "./errors.ts";
import { SIGNALS_CHANNEL } from "./notify-feed.ts";
import { INT8_AS_NUMBER, insertEventsStatement } from "./statements.ts";

const COLUMNS = `id, run_id AS "runId", seq, key, prompt, input_spec AS "inputSpec", assignees,
  status, response, responded_by AS "respondedBy", created_at AS "createdAt",
  expires_at AS "expiresAt", responded_at AS "respondedAt"`;

/** What the table needs from its store. */
export interface InputRequestContext {
  pool: pg.Pool;
  limits: Limits;
  now(): number;
  newId(): string;
  /** Runs `fn` after every earlier write of the store to `runId` has settled. */
  serial<T>(runId: string, fn: () => Promise<T>): Promise<T>;
  /** Hands committed events of `runId` to the store's listeners (in the order given). */
  publish(runId: string, rows: readonly PreparedEvent[]): Promise<void>;
  /**
   * In a cluster: checks, inside the write's transaction, that this node still holds the run's
   * lease (throws when it does not). Nothing to check outside a cluster.
   */
  fence(client: pg.PoolClient, runId: string): Promise<void>;
}

type Query = (text: string, values: unknown[]) => Promise<RawInputRequest[]>;

export class PgInputRequests {
  readonly #c: InputRequestContext;

  constructor(context: InputRequestContext) {
    this.#c = context;
  }

  /** The run's request with `key`, or `null`. */
  async get(runId: string, key: string): Promise<HumanInputRequestRow | null> {
    requireString(runId, "getInputRequest: runId");
    requireInputKey(key, "getInputRequest: key");
    const [raw] = await this.#read(
      `SELECT ${COLUMNS} FROM human_input_requests WHERE run_id = $1 AND key = $2`,
      [runId, key],
    );
    return raw === undefined ? null : toInputRequestRow(raw);
  }

  /** Requests matching `filter`, newest first (creation time, then insertion order). */
  async list(filter?: ListInputRequestsFilter): Promise<HumanInputRequestRow[]> {
    const f = readInputFilter(filter);
    if (f.statuses?.length === 0) return [];
    const where: string[] = [];
    const values: unknown[] = [];
    if (f.runId !== undefined) {
      values.push(f.runId);
      where.push(`run_id = $${String(values.length)}`);
    }
    if (f.statuses !== undefined) {
      values.push(f.statuses);
      where.push(`status = ANY($${String(values.length)}::text[])`);
    }
    const rows = await this.#read(
      `SELECT ${COLUMNS} FROM human_input_requests${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`} ORDER BY created_at DESC, position DESC`,
      values,
    );
    return rows.map(toInputRequestRow);
  }

  /** Finds the request with `args.key` or inserts it with its event; see `Store.createInputRequest`. */
  create(
    runId: string,
    args: CreateInputRequestArgs,
  ): Promise<{ request: HumanInputRequestRow; created: boolean }> {
    const r = readCreateInputRequest(runId, args, this.#c.limits.maxValueBytes);
    const pending = prepareEvents(
      "createInputRequest",
      runId,
      r.pending,
      "pending",
      this.#c.limits,
    );
    return this.#c.serial(runId, async () => {
      const now = this.#c.now();
      const id = this.#c.newId();
      let written: PreparedEvent[] = pending;
      const result = await this.#transaction(runId, async (query, client) => {
        if (pending.length > 0) await client.query(insertEventsStatement(runId, pending));
        const [inserted] = await query(
          `INSERT INTO human_input_requests (id, run_id, seq, key, prompt, input_spec, assignees, status, created_at, expires_at)
  SELECT $1::text, r.id, COALESCE((SELECT MAX(seq) FROM human_input_requests WHERE run_id = r.id), 0) + 1,
    $3::text, $4::text, $5::text, $6::text, 'pending', $7::bigint, $8::bigint
  FROM runs r WHERE r.id = $2::text
  ON CONFLICT (run_id, key) DO NOTHING
  RETURNING ${COLUMNS}`,
          [
            id,
            runId,
            r.key,
            r.prompt,
            r.inputSpec,
            r.assignees,
            now,
            r.timeoutMs === null ? null : now + r.timeoutMs,
          ],
        );
        if (inserted !== undefined) {
          const stamp = r.stamp ?? freshStamp(await maxCursor(client, runId));
          const event = this.#prepared(stamp.cursor, requestedEvent(inserted, stamp, now));
          await client.query(insertEventsStatement(runId, [event]));
          written = [...pending, event];
          return { request: toInputRequestRow(inserted), created: true };
        }
        const [found] = await query(
          `SELECT ${COLUMNS} FROM human_input_requests WHERE run_id = $1 AND key = $2`,
          [runId, r.key],
        );
        if (found === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
        return { request: toInputRequestRow(found), created: false };
      });
      await this.#c.publish(runId, written);
      return result;
    });
  }

  /** Closes a pending request with its event; `null` when none is pending. */
  settle(
    runId: string,
    key: string,
    settlement: InputRequestSettlement,
  ): Promise<HumanInputRequestRow | null> {
    const r = readSettlement(runId, key, settlement, this.#c.limits.maxValueBytes);
    const pending = prepareEvents(
      "settleInputRequest",
      runId,
      r.pending,
      "pending",
      this.#c.limits,
    );
    return this.#c.serial(runId, async () => {
      const now = this.#c.now();
      let written: PreparedEvent[] = pending;
      const result = await this.#transaction(runId, async (query, client) => {
        if (pending.length > 0) await client.query(insertEventsStatement(runId, pending));
        const [raw] = await query(
          `UPDATE human_input_requests SET status = $1, response = $2, responded_by = $3, responded_at = $4
  WHERE run_id = $5 AND key = $6 AND status = 'pending'
  RETURNING ${COLUMNS}`,
          [r.status, r.response, r.respondedBy, now, runId, key],
        );
        if (raw === undefined) {
          const known = await client.query("SELECT 1 FROM runs WHERE id = $1", [runId]);
          if (known.rowCount === 0) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
          return null;
        }
        const stamp = r.stamp ?? freshStamp(await maxCursor(client, runId));
        const event = this.#prepared(stamp.cursor, resolvedEvent(raw, stamp, now));
        await client.query(insertEventsStatement(runId, [event]));
        written = [...pending, event];
        return toInputRequestRow(raw);
      });
      await this.#c.publish(runId, written);
      return result;
    });
  }

  /**
   * Stores an answer taken by a node that does not execute the run: the request is closed with
   * it (only while `pending`, so the first answer wins) and marked unannounced, without an
   * event — the run's holder writes `human_input_resolved` ({@link PgInputRequests.announce});
   * the holder is told on channel `promenade_signals`. `null` when no request is pending.
   */
  async answerRemotely(
    runId: string,
    key: string,
    settlement: { response: JsonValue; respondedBy: string | null },
  ): Promise<HumanInputRequestRow | null> {
    const r = readSettlement(
      runId,
      key,
      { status: "resolved", response: settlement.response, respondedBy: settlement.respondedBy },
      this.#c.limits.maxValueBytes,
    );
    const now = this.#c.now();
    // Not fenced: this node does not hold the run; the holder writes the answer's event.
    const [raw] = await this.#transaction(
      runId,
      async (query, client) => {
        const rows = await query(
          `UPDATE human_input_requests
  SET status = 'resolved', response = $1, responded_by = $2, responded_at = $3, unannounced = true
  WHERE run_id = $4 AND key = $5 AND status = 'pending'
  RETURNING ${COLUMNS}`,
          [r.response, r.respondedBy, now, runId, key],
        );
        if (rows[0] !== undefined) {
          await client.query("SELECT pg_notify($1, $2)", [SIGNALS_CHANNEL, runId]);
        }
        return rows;
      },
      false,
    );
    return raw === undefined ? null : toInputRequestRow(raw);
  }

  /** The unannounced answers of `runIds`: `[runId, key]` pairs, oldest first. */
  async unannounced(runIds: readonly string[]): Promise<{ runId: string; key: string }[]> {
    if (runIds.length === 0) return [];
    const result = await this.#c.pool.query<{ runId: string; key: string }>(
      `SELECT run_id AS "runId", key FROM human_input_requests
  WHERE unannounced AND run_id = ANY($1::text[]) ORDER BY responded_at, position`,
      [runIds],
    );
    return result.rows;
  }

  /**
   * The holder's half of a remote answer: writes its `human_input_resolved` event (after the
   * pass's pending events, at `stamp` or a fresh block) and clears the mark, in one fenced
   * transaction. `null` when the request has no unannounced answer (nothing is written).
   */
  announce(
    runId: string,
    key: string,
    options: { pending?: readonly EventAppend[]; stamp?: { cursor: number; seq: number } },
  ): Promise<HumanInputRequestRow | null> {
    requireInputKey(key, "announceInputAnswer: key");
    const pending = prepareEvents(
      "announceInputAnswer",
      runId,
      options.pending ?? [],
      "pending",
      this.#c.limits,
    );
    return this.#c.serial(runId, async () => {
      const now = this.#c.now();
      let written: PreparedEvent[] = pending;
      const result = await this.#transaction(runId, async (query, client) => {
        if (pending.length > 0) await client.query(insertEventsStatement(runId, pending));
        const [raw] = await query(
          `UPDATE human_input_requests SET unannounced = false
  WHERE run_id = $1 AND key = $2 AND unannounced
  RETURNING ${COLUMNS}`,
          [runId, key],
        );
        if (raw === undefined) return null;
        const stamp = options.stamp ?? freshStamp(await maxCursor(client, runId));
        const event = this.#prepared(stamp.cursor, resolvedEvent(raw, stamp, now));
        await client.query(insertEventsStatement(runId, [event]));
        written = [...pending, event];
        return toInputRequestRow(raw);
      });
      await this.#c.publish(runId, written);
      return result;
    });
  }

  async #read(text: string, values: unknown[]): Promise<RawInputRequest[]> {
    const result = await this.#c.pool.query<RawInputRequest>({
      text,
      values,
      types: INT8_AS_NUMBER,
    });
    return result.rows;
  }

  /**
   * `BEGIN … COMMIT` on one pooled connection, fenced (in a cluster, refused unless this node
   * holds the run) unless `fenced` is false; event-write failures in the store's words.
   */
  async #transaction<T>(
    runId: string,
    fn: (query: Query, client: pg.PoolClient) => Promise<T>,
    fenced = true,
  ): Promise<T> {
    const client = await this.#c.pool.connect();
    const query: Query = async (text, values) =>
      (await client.query<RawInputRequest>({ text, values, types: INT8_AS_NUMBER })).rows;
    let broken = false;
    try {
      await client.query("BEGIN");
      if (fenced) await this.#c.fence(client, runId);
      const result = await fn(query, client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      if (isEngineError(error)) throw error;
      if (driverError(error)?.code === "23503") {
        throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
      }
      throw eventWriteError(error, runId);
    } finally {
      client.release(broken);
    }
  }

  #prepared(cursor: number, event: RunEvent): PreparedEvent {
    const text = sizedJson(event, `human-input event`, this.#c.limits.maxValueBytes);
    return { cursor, event, channel: "lifecycle", text };
  }
}

async function maxCursor(client: pg.PoolClient, runId: string): Promise<number> {
  const result = await client.query<{ cursor: number | null }>({
    text: "SELECT MAX(cursor) AS cursor FROM run_events WHERE run_id = $1",
    values: [runId],
    types: INT8_AS_NUMBER,
  });
  return Number(result.rows[0]?.cursor ?? 0);
}
