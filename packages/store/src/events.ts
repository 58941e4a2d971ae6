/**
 * The `run_events` table: validated, atomic appends (every appended event is queued for the
 * feed) and the cursor-ordered reads. The append and read paths run straight on better-sqlite3
 * statements prepared once, with SQL drizzle writes from the typed table: they are the hottest
 * paths of the store.
 */
import type Database from "better-sqlite3";
import { desc, eq, sql } from "drizzle-orm";
import { EngineError } from "@promenade/workflow/errors";
import type { EventRow, ListEventsOptions } from "@promenade/workflow/records";
import { describe, requireInteger, sizedJson, sqliteCode, validation } from "./internal/args.ts";
import type { TableContext } from "./internal/context.ts";
import { toJsonText } from "./internal/json.ts";
import { describeIssues, toEventRow } from "./internal/rows.ts";
import { CHANNELS, runEventSchema, type Channel, type RunEvent } from "./internal/sdk.ts";
import type { StoreHooks } from "./open.ts";
import { runEvents } from "./schema.ts";
import type { EventAppend } from "./types.ts";

/** One validated event ready to insert: its cursor, the event, and its JSON text. */
export interface PreparedEvent {
  cursor: number;
  event: RunEvent;
  text: string;
}

// Must stay identical to the expression of the run_events_channel index (migrations.ts).
const CHANNEL_EXPRESSION =
  "(CASE json_extract(event, '$.kind') WHEN 'run_status' THEN 'lifecycle' WHEN 'human_input_requested' THEN 'lifecycle' WHEN 'human_input_resolved' THEN 'lifecycle' WHEN 'suspended' THEN 'lifecycle' WHEN 'resumed' THEN 'lifecycle' WHEN 'phase' THEN 'phase' WHEN 'output' THEN 'output' WHEN 'program_output' THEN 'log' WHEN 'egress_denied' THEN 'log' ELSE 'agent' END)";

// Event kinds with free-form (`unknown`) fields the event schema cannot vouch for; every other
// kind is strings, finite integers and enums once parsed (zod's output is a fresh plain object
// with only the schema's keys), so it skips the JSON-tree walk.
const FREE_FORM_KINDS: ReadonlySet<string> = new Set([
  "output",
  "tool_call_input_complete",
  "tool_call_result",
]);

const CHANNEL_SET: ReadonlySet<string> = new Set(CHANNELS);

/** A `run_events` row as the event reads return it. */
type RawEventRow = typeof runEvents.$inferSelect;

/** The two event reads behind `listEvents`; `limit` -1 means no limit. */
interface EventReads {
  all(runId: string, after: number, limit: number): RawEventRow[];
  inChannel(runId: string, channel: Channel, after: number, limit: number): RawEventRow[];
}

/**
 * `listEvents` reads as plain better-sqlite3 statements, prepared once: they serve every event
 * page (API paging, WebSocket replay), and drizzle's per-row result mapping cost about a third of
 * a 1,000-event page. Each read is reported to `logQuery` like drizzle's own queries, so the
 * query-plan checks still see it.
 */
function prepareEventReads(db: Database.Database, logQuery: StoreHooks["logQuery"]): EventReads {
  const allSql =
    "SELECT run_id AS runId, cursor, event FROM run_events WHERE run_id = ? AND cursor > ? ORDER BY cursor LIMIT ?";
  // INDEXED BY: without statistics the planner would pick the primary key and filter the whole
  // run; the channel index makes a sparse channel a range read.
  const channelSql = `SELECT run_id AS runId, cursor, event FROM run_events INDEXED BY run_events_channel WHERE run_id = ? AND ${CHANNEL_EXPRESSION} = ? AND cursor > ? ORDER BY cursor LIMIT ?`;
  const all = db.prepare<[string, number, number], RawEventRow>(allSql);
  // Prepared on first use: a store opened on an older schema (no channel index yet) must open.
  let inChannel: Database.Statement<[string, string, number, number], RawEventRow> | undefined;
  return {
    all(runId, after, limit) {
      logQuery?.(allSql, [runId, after, limit]);
      return all.all(runId, after, limit);
    },
    inChannel(runId, channel, after, limit) {
      logQuery?.(channelSql, [runId, channel, after, limit]);
      inChannel ??= db.prepare<[string, string, number, number], RawEventRow>(channelSql);
      return inChannel.all(runId, channel, after, limit);
    },
  };
}

export class EventTable {
  readonly #c: TableContext;
  readonly #insert: Database.Statement<[string, number, string]>;
  readonly #maxCursor;
  readonly #reads: EventReads;

  constructor(context: TableContext) {
    this.#c = context;
    const { db, orm } = context;
    const p = sql.placeholder;
    // The append hot path: drizzle writes the SQL from the typed table, better-sqlite3 runs it
    // directly (drizzle's per-call parameter mapping costs ~1 µs per event).
    this.#insert = db.prepare<[string, number, string]>(
      orm
        .insert(runEvents)
        .values({ runId: p("runId"), cursor: p("cursor"), event: p("event") })
        .toSQL().sql,
    );
    this.#maxCursor = orm
      .select({ cursor: runEvents.cursor })
      .from(runEvents)
      .where(eq(runEvents.runId, p("runId")))
      .orderBy(desc(runEvents.cursor))
      .limit(1)
      .prepare();
    this.#reads = prepareEventReads(db, context.logQuery);
  }

  /** Appends a batch atomically and publishes it after the COMMIT. */
  append(runId: string, rows: readonly EventAppend[]): void {
    const prepared = this.prepare("appendEvents", runId, rows, "rows");
    if (prepared.length === 0) return;
    // A single INSERT is atomic on its own; a batch needs a transaction (or savepoint).
    if (prepared.length > 1 || this.#c.tx.open) {
      this.#c.tx.atomic(() => this.insert(runId, prepared));
      return;
    }
    this.insert(runId, prepared);
    this.#c.tx.committed();
  }

  /**
   * Validates a batch of events of `runId` into their JSON text, in cursor order. A cursor
   * twice in the batch ⇒ `CONFLICT`; anything malformed ⇒ `VALIDATION`.
   */
  prepare(
    method: string,
    runId: string,
    rows: readonly EventAppend[],
    what: string,
  ): PreparedEvent[] {
    const batch: unknown = rows;
    if (!Array.isArray(batch))
      throw validation(`${method}: ${what} must be an array of { cursor, event }.`);
    const maxBytes = this.#c.settings.maxValueBytes;
    const prepared: PreparedEvent[] = [];
    const seen = new Set<number>();
    let sorted = true;
    for (const [index, row] of rows.entries()) {
      const where = `${method}(${runId}): ${what}[${String(index)}]`;
      if (typeof row !== "object" || row === null)
        throw validation(`${where} must be { cursor, event }.`);
      const cursor = requireInteger(row.cursor, `${where}.cursor`, 1);
      if (seen.has(cursor)) {
        throw new EngineError(
          "CONFLICT",
          `${where}: cursor ${String(cursor)} appears twice in the batch; nothing was written.`,
        );
      }
      seen.add(cursor);
      const parsed = runEventSchema.safeParse(row.event);
      if (!parsed.success) {
        throw validation(
          `${where}.event is not a valid run event: ${describeIssues(parsed.error)}.`,
        );
      }
      if (parsed.data.runId !== runId) {
        throw validation(
          `${where}.event.runId is "${parsed.data.runId}", not the run it is appended to.`,
        );
      }
      const last = prepared[prepared.length - 1];
      if (last !== undefined && last.cursor > cursor) sorted = false;
      prepared.push({
        cursor,
        event: parsed.data,
        text: FREE_FORM_KINDS.has(parsed.data.kind)
          ? toJsonText(parsed.data, `${where}.event`, maxBytes)
          : sizedJson(parsed.data, `${where}.event`, maxBytes),
      });
    }
    // Written and published in cursor order, whatever order the caller listed them in.
    if (!sorted) prepared.sort((a, b) => a.cursor - b.cursor);
    return prepared;
  }

  /**
   * Inserts prepared events and queues them for the feed. The caller provides atomicity (a
   * transaction, or a single row). Taken cursor ⇒ `CONFLICT`; unknown run ⇒ `NOT_FOUND`.
   */
  insert(runId: string, rows: readonly PreparedEvent[]): void {
    for (const row of rows) {
      try {
        this.#insert.run(runId, row.cursor, row.text);
      } catch (error) {
        const code = sqliteCode(error);
        if (code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
          throw new EngineError(
            "CONFLICT",
            `Run ${runId} already has an event at cursor ${String(row.cursor)}; nothing of the batch was written.`,
            "Allocate cursors past maxCursor(runId).",
          );
        }
        if (code === "SQLITE_CONSTRAINT_FOREIGNKEY")
          throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
        throw error;
      }
    }
    this.#c.feed.publish(runId, rows);
  }

  /** Events with `cursor > afterCursor`, ascending, optionally of some channels only. */
  list(runId: string, options?: ListEventsOptions): EventRow[] {
    if (typeof runId !== "string")
      throw validation(`listEvents(runId): runId must be a string, got ${describe(runId)}.`);
    const o = options ?? {};
    const after =
      o.afterCursor === undefined ? 0 : requireInteger(o.afterCursor, "listEvents: afterCursor", 0);
    const limit = o.limit === undefined ? -1 : requireInteger(o.limit, "listEvents: limit", 0);
    if (limit === 0) return [];
    let channels: Channel[] | undefined;
    if (o.channels !== undefined) {
      if (!Array.isArray(o.channels))
        throw validation("listEvents: channels must be an array of channel names.");
      channels = [];
      for (const channel of o.channels as readonly unknown[]) {
        if (typeof channel !== "string" || !CHANNEL_SET.has(channel)) {
          throw new EngineError(
            "VALIDATION",
            `Unknown channel ${describe(channel)}.`,
            `Valid channels: ${CHANNELS.join(", ")}.`,
          );
        }
        if (!channels.includes(channel as Channel)) channels.push(channel as Channel);
      }
      if (channels.length === 0) return [];
      if (channels.length === CHANNELS.length) channels = undefined;
    }
    if (channels === undefined) return this.#reads.all(runId, after, limit).map(toEventRow);
    // One index range per channel, merged by cursor: SQLite cannot merge the ranges of an IN
    // list itself and would sort the whole match set.
    const lists = channels.map((channel) => this.#reads.inChannel(runId, channel, after, limit));
    const merged =
      lists.length === 1 ? (lists[0] ?? []) : lists.flat().sort((a, b) => a.cursor - b.cursor);
    return (limit < 0 ? merged : merged.slice(0, limit)).map(toEventRow);
  }

  /** The run's highest cursor, `0` when it has no events (or is unknown). */
  maxCursor(runId: string): number {
    if (typeof runId !== "string")
      throw validation(`maxCursor(runId): runId must be a string, got ${describe(runId)}.`);
    return this.#maxCursor.get({ runId })?.cursor ?? 0;
  }
}
