/**
 * The `human_input_requests` table: the durable answer slot of each human-input gate. Opening a
 * gate finds the run's request with that key or inserts it with its `human_input_requested`
 * event; settling it (an answer or a timeout) updates it only while it is still pending, with
 * its `human_input_resolved` event — so the first answer wins; a run that ends cancels what is
 * still pending. Each of these is one transaction (or savepoint) with the pass's pending events.
 * Statements are prepared on first use: a store opened on an older schema must still open.
 */
import type Database from "better-sqlite3";
import { EngineError } from "@promenade/workflow/errors";
import type { HumanInputRequestRow, ListInputRequestsFilter } from "@promenade/workflow/records";
import type { EventTable, PreparedEvent } from "./events.ts";
import { sizedJson } from "./internal/args.ts";
import type { TableContext } from "./internal/context.ts";
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
} from "./internal/input-requests.ts";
import { requireString } from "./internal/args.ts";
import type { RunEvent } from "./internal/sdk.ts";
import type { CreateInputRequestArgs, InputRequestSettlement } from "./types.ts";

const COLUMNS =
  "id, run_id AS runId, seq, key, prompt, input_spec AS inputSpec, assignees, status, response, responded_by AS respondedBy, created_at AS createdAt, expires_at AS expiresAt, responded_at AS respondedAt";

interface Statements {
  byKey: Database.Statement<[string, string], RawInputRequest>;
  nextSeq: Database.Statement<[string], { seq: number }>;
  insert: Database.Statement<
    [string, string, number, string, string, string, string | null, number, number | null]
  >;
  settle: Database.Statement<
    [string, string | null, string | null, number, string, string],
    RawInputRequest
  >;
  cancelPending: Database.Statement<[number, string]>;
}

export class InputRequestTable {
  readonly #c: TableContext;
  readonly #events: EventTable;
  readonly #runExists: (runId: string) => boolean;
  #s: Statements | undefined;

  constructor(context: TableContext, events: EventTable, runExists: (runId: string) => boolean) {
    this.#c = context;
    this.#events = events;
    this.#runExists = runExists;
  }

  get #statements(): Statements {
    if (this.#s !== undefined) return this.#s;
    const { db } = this.#c;
    this.#s = {
      byKey: db.prepare(`SELECT ${COLUMNS} FROM human_input_requests WHERE run_id = ? AND key = ?`),
      nextSeq: db.prepare(
        "SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM human_input_requests WHERE run_id = ?",
      ),
      insert: db.prepare(
        "INSERT INTO human_input_requests (id, run_id, seq, key, prompt, input_spec, assignees, status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
      ),
      settle: db.prepare(
        `UPDATE human_input_requests SET status = ?, response = ?, responded_by = ?, responded_at = ? WHERE run_id = ? AND key = ? AND status = 'pending' RETURNING ${COLUMNS}`,
      ),
      cancelPending: db.prepare(
        "UPDATE human_input_requests SET status = 'cancelled', responded_at = ? WHERE run_id = ? AND status = 'pending'",
      ),
    };
    return this.#s;
  }

  /** The run's request with `key`, or `null`. */
  get(runId: string, key: string): HumanInputRequestRow | null {
    requireString(runId, "getInputRequest: runId");
    requireInputKey(key, "getInputRequest: key");
    const raw = this.#statements.byKey.get(runId, key);
    return raw === undefined ? null : toInputRequestRow(raw);
  }

  /** Requests matching `filter`, newest first (creation time, then insertion order). */
  list(filter?: ListInputRequestsFilter): HumanInputRequestRow[] {
    const f = readInputFilter(filter);
    if (f.statuses?.length === 0) return [];
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.runId !== undefined) {
      where.push("run_id = ?");
      params.push(f.runId);
    }
    if (f.statuses !== undefined) {
      where.push(`status IN (${f.statuses.map(() => "?").join(", ")})`);
      params.push(...f.statuses);
    }
    const sql = `SELECT ${COLUMNS} FROM human_input_requests${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`} ORDER BY created_at DESC, rowid DESC`;
    this.#c.logQuery?.(sql, params);
    const rows = this.#c.db.prepare<unknown[], RawInputRequest>(sql).all(...params);
    return rows.map(toInputRequestRow);
  }

  /** Finds the request with `args.key` or inserts it with its event; see `Store.createInputRequest`. */
  create(
    runId: string,
    args: CreateInputRequestArgs,
  ): { request: HumanInputRequestRow; created: boolean } {
    const maxBytes = this.#c.settings.maxValueBytes;
    const r = readCreateInputRequest(runId, args, maxBytes);
    const pending = this.#events.prepare("createInputRequest", runId, r.pending, "pending");
    return this.#c.tx.atomic(() => {
      this.#events.insert(runId, pending);
      if (!this.#runExists(runId)) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
      const s = this.#statements;
      const found = s.byKey.get(runId, r.key);
      if (found !== undefined) return { request: toInputRequestRow(found), created: false };
      const now = this.#c.settings.now();
      const id = this.#c.newId();
      const seq = s.nextSeq.get(runId)?.seq ?? 1;
      s.insert.run(
        id,
        runId,
        seq,
        r.key,
        r.prompt,
        r.inputSpec,
        r.assignees,
        now,
        r.timeoutMs === null ? null : now + r.timeoutMs,
      );
      const stamp = r.stamp ?? freshStamp(this.#events.maxCursor(runId));
      const event = requestedEvent({ id, runId, key: r.key, prompt: r.prompt }, stamp, now);
      this.#events.insert(runId, [this.#prepared(runId, stamp.cursor, event)]);
      const raw = s.byKey.get(runId, r.key);
      if (raw === undefined) throw new EngineError("INTERNAL", `Request ${id} vanished.`);
      return { request: toInputRequestRow(raw), created: true };
    });
  }

  /** Closes a pending request with its event; `null` when none is pending. */
  settle(
    runId: string,
    key: string,
    settlement: InputRequestSettlement,
  ): HumanInputRequestRow | null {
    const maxBytes = this.#c.settings.maxValueBytes;
    const r = readSettlement(runId, key, settlement, maxBytes);
    const pending = this.#events.prepare("settleInputRequest", runId, r.pending, "pending");
    return this.#c.tx.atomic(() => {
      this.#events.insert(runId, pending);
      const now = this.#c.settings.now();
      const raw = this.#statements.settle.get(r.status, r.response, r.respondedBy, now, runId, key);
      if (raw === undefined) {
        if (!this.#runExists(runId)) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
        return null;
      }
      const stamp = r.stamp ?? freshStamp(this.#events.maxCursor(runId));
      const event = resolvedEvent({ id: raw.id, runId, key }, stamp, now);
      this.#events.insert(runId, [this.#prepared(runId, stamp.cursor, event)]);
      return toInputRequestRow(raw);
    });
  }

  /** Cancels the run's pending requests (the run ended). Call inside its transaction. */
  cancelPending(runId: string): void {
    this.#statements.cancelPending.run(this.#c.settings.now(), runId);
  }

  #prepared(runId: string, cursor: number, event: RunEvent): PreparedEvent {
    const text = sizedJson(
      event,
      `human-input event of run ${runId}`,
      this.#c.settings.maxValueBytes,
    );
    return { cursor, event, text };
  }
}
