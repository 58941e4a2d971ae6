/**
 * `openStore`: the one SQLite-backed implementation of `Store` (spec 02 §4). Owns the
 * connection, its pragmas, the process lock, transactions and every query. Knows nothing about
 * supervision, scheduling or HTTP. Invariants: every multi-row write is one transaction (or one
 * savepoint inside the caller's); `afterCommit` callbacks run only once their writes are
 * durable; bad arguments are rejected before anything is written.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";
import { inspect } from "node:util";
import Database from "better-sqlite3";
import { and, asc, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import { migrate } from "./migrate.ts";
import { MIGRATIONS, type Migration } from "./migrations.ts";
import { artifacts, cronFires, runEvents, runs, workflows } from "./schema.ts";
import { checkSize, toJsonText } from "./internal/json.ts";
import {
  describeIssues,
  runErrorSchema,
  toArtifactRow,
  toEventRow,
  toRunRow,
  toWorkflowRow,
} from "./internal/rows.ts";
import {
  CHANNELS,
  manifestSchema,
  RUN_STATUSES,
  runEventSchema,
  TRIGGER_KINDS,
  TURN_CURSOR_STRIDE,
  type Channel,
  type RunEvent,
  type RunStatus,
} from "./internal/sdk.ts";
import { createUlidFactory } from "./internal/ulid.ts";
import type {
  ArtifactRow,
  CreateArtifactArgs,
  CreateRunArgs,
  CronFireArgs,
  EventAppend,
  EventRow,
  ListEventsOptions,
  ListRunsFilter,
  RunRow,
  EventListener,
  FireCronArgs,
  PublishedEvent,
  RunUsage,
  RunUsageDelta,
  StatusChange,
  Store,
  UpdateRunStatusOptions,
  UpsertWorkflowArgs,
  WorkflowRow,
} from "./types.ts";

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Database file (`<dataDir>/promenade.db` in an engine), or `":memory:"` for tests. */
  path: string;
  /** Clock for every persisted timestamp and ULID (epoch ms). Default `Date.now`. */
  now?: () => number;
  /**
   * Largest JSON text accepted for one value (run input/output, event, config, metadata), in
   * UTF-8 bytes. Default 4 MiB (4_194_304).
   */
  maxValueBytes?: number;
  /** Largest workflow program source accepted, in UTF-8 bytes. Default 32 MiB (33_554_432). */
  maxProgramBytes?: number;
  /**
   * Sees every error a `subscribe` listener throws, with the event it was handling. The store
   * has no logger: without this option such errors are dropped, so one failing listener can
   * neither break the write that committed the event nor stop the other listeners. An error
   * thrown by this function is dropped too.
   */
  onListenerError?: (error: unknown, row: PublishedEvent) => void;
}

const DEFAULT_MAX_VALUE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_PROGRAM_BYTES = 32 * 1024 * 1024;
const MAX_KEY_LENGTH = 1024;
const MAX_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;
/** Cached run → workflow routes of the feed before the cache is emptied. */
const MAX_ROUTES = 10_000;

// Must stay identical to the expression of the run_events_channel index (migrations.ts).
const CHANNEL_EXPRESSION =
  "(CASE json_extract(event, '$.kind') WHEN 'run_status' THEN 'lifecycle' WHEN 'phase' THEN 'phase' WHEN 'output' THEN 'output' WHEN 'program_output' THEN 'log' ELSE 'agent' END)";

// Event kinds with free-form (`unknown`) fields the event schema cannot vouch for; every other
// kind is strings, finite integers and enums once parsed (zod's output is a fresh plain object
// with only the schema's keys), so it skips the JSON-tree walk.
const FREE_FORM_KINDS: ReadonlySet<string> = new Set([
  "output",
  "tool_call_input_complete",
  "tool_call_result",
]);

function sizedJson(value: unknown, what: string, maxBytes: number): string {
  const text = JSON.stringify(value);
  checkSize(text, what, maxBytes);
  return text;
}

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

const STATUS_SET: ReadonlySet<string> = new Set(RUN_STATUSES);
const TRIGGER_SET: ReadonlySet<string> = new Set(TRIGGER_KINDS);
const CHANNEL_SET: ReadonlySet<string> = new Set(CHANNELS);

/**
 * Opens (creating if needed) and migrates the database at `options.path`, and returns the
 * store. Sets WAL, `foreign_keys`, `busy_timeout = 5000`, `synchronous = NORMAL`, and holds an
 * exclusive lock on the file until `close()`.
 *
 * Throws `VALIDATION` (bad options, missing directory), `CONFLICT` (the database is open in
 * another process or connection), `INTERNAL` (database newer than this package, failed
 * migration, unreadable file).
 */
export function openStore(options: OpenStoreOptions): Store {
  return openStoreWith(options, MIGRATIONS);
}

/** Test seams of {@link openStoreWith}; not part of the public API. */
export interface StoreHooks {
  /** Sees every SQL statement drizzle runs, with its parameters (query-plan tests). */
  logQuery?: (query: string, params: unknown[]) => void;
}

/** {@link openStore} with an explicit migration list and test hooks (this package's tests). */
export function openStoreWith(
  options: OpenStoreOptions,
  migrations: readonly Migration[],
  hooks: StoreHooks = {},
): Store {
  const settings = readOptions(options);
  const db = openDatabase(settings.path);
  try {
    migrate(db, migrations, { now: settings.now, label: settings.path });
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteStore(db, settings, hooks);
}

interface Settings {
  path: string;
  now: () => number;
  maxValueBytes: number;
  maxProgramBytes: number;
  onListenerError: ((error: unknown, row: PublishedEvent) => void) | undefined;
}

function readOptions(options: OpenStoreOptions): Settings {
  if (typeof options !== "object" || options === null) {
    throw new EngineError("VALIDATION", "openStore() needs an options object with a path.");
  }
  const { path } = options;
  if (typeof path !== "string" || path.length === 0) {
    throw new EngineError(
      "VALIDATION",
      "openStore(): path must be a non-empty string.",
      'Pass the database file, e.g. "<dataDir>/promenade.db", or ":memory:".',
    );
  }
  const now = options.now ?? Date.now;
  if (typeof now !== "function") {
    throw new EngineError("VALIDATION", "openStore(): now must be a function returning epoch ms.");
  }
  const limit = (value: number | undefined, name: string, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new EngineError(
        "VALIDATION",
        `openStore(): ${name} must be a positive integer, got ${String(value)}.`,
      );
    }
    return value;
  };
  const { onListenerError } = options;
  if (onListenerError !== undefined && typeof onListenerError !== "function") {
    throw new EngineError("VALIDATION", "openStore(): onListenerError must be a function.");
  }
  return {
    path,
    now,
    onListenerError,
    maxValueBytes: limit(options.maxValueBytes, "maxValueBytes", DEFAULT_MAX_VALUE_BYTES),
    maxProgramBytes: limit(options.maxProgramBytes, "maxProgramBytes", DEFAULT_MAX_PROGRAM_BYTES),
  };
}

function sqliteCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String(error.code)
    : undefined;
}

function openDatabase(path: string): Database.Database {
  const memory = path === ":memory:";
  if (!memory && !existsSync(dirname(path))) {
    throw new EngineError(
      "VALIDATION",
      `Cannot open database ${path}: directory ${dirname(path)} does not exist.`,
      "Create the data dir first (the engine does this for you).",
    );
  }
  if (!memory && existsSync(path) && statSync(path).isDirectory()) {
    throw new EngineError(
      "VALIDATION",
      `Cannot open database ${path}: it is a directory.`,
      'Pass the database file inside the data dir, e.g. "<dataDir>/promenade.db".',
    );
  }
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (error) {
    throw new EngineError(
      "INTERNAL",
      `Cannot open database ${path}: ${messageOf(error)}`,
      "Check that the path is a writable SQLite file.",
      { cause: error },
    );
  }
  try {
    // Fail fast instead of waiting 5 s when another process holds the lock.
    db.pragma("busy_timeout = 0");
    if (!memory) {
      // Two engines on one data dir are unsupported: hold an exclusive lock on the file for the
      // connection's lifetime so a second opener is refused instead of interleaving writes. The
      // OS drops the lock when the process dies (even by SIGKILL), so it never goes stale.
      db.pragma("locking_mode = EXCLUSIVE");
      db.pragma("journal_mode = WAL");
      db.exec("BEGIN IMMEDIATE; COMMIT");
    }
    db.pragma("foreign_keys = ON");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
  } catch (error) {
    db.close();
    const code = sqliteCode(error);
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
      throw new EngineError(
        "CONFLICT",
        `Database ${path} is already open in another process (or another store in this one); two engines on one data dir are unsupported.`,
        "Stop the other Promenade engine using this data dir, or give this one its own dataDir.",
        { cause: error },
      );
    }
    throw new EngineError(
      "INTERNAL",
      `Cannot open database ${path}: ${messageOf(error)}`,
      "Check that the path is a SQLite database written by Promenade.",
      { cause: error },
    );
  }
  return db;
}

function validation(message: string, hint?: string): EngineError {
  return new EngineError("VALIDATION", message, hint);
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw validation(`${what} must be a non-empty string, got ${describe(value)}.`);
  }
  return value;
}

function requireInteger(value: unknown, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw validation(`${what} must be an integer ≥ ${String(min)}, got ${describe(value)}.`);
  }
  return value;
}

function requireStatus(value: unknown, what: string): RunStatus {
  if (typeof value !== "string" || !STATUS_SET.has(value)) {
    throw validation(
      `${what} must be a run status, got ${describe(value)}.`,
      `Valid statuses: ${RUN_STATUSES.join(", ")}.`,
    );
  }
  return value as RunStatus;
}

function describe(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "number" || typeof value === "boolean" || value == null)
    return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : inspect(error);
}

function isThenable(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

type RawRun = typeof runs.$inferSelect;
type RunKeyRow = { raw: RawRun; rowid: number };

/** One validated event ready to insert: its cursor, the event, and its JSON text. */
interface PreparedEvent {
  cursor: number;
  event: RunEvent;
  text: string;
}

/** A validated status UPDATE: its parameters, the `expect` count, and the parsed error. */
interface StatusUpdate {
  params: Record<string, unknown>;
  expectCount: number | undefined;
  error: { code: string; message: string } | undefined;
}

/** A prepared write, run with named placeholder values. */
interface PreparedRun {
  run(params: Record<string, unknown>): { changes: number };
}

class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #orm: ReturnType<typeof drizzle>;
  readonly #settings: Settings;
  readonly #newId: () => string;
  #closed = false;
  #depth = 0;
  #poison: unknown = undefined;
  #pending: (() => void)[] = [];
  #savepoints = 0;
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  readonly #rollback: Database.Statement;
  /** listWorkflows() as last committed; dropped by upsertWorkflow and by any rollback. */
  #workflowsCache: readonly WorkflowRow[] | undefined = undefined;
  /**
   * getWorkflow()/getWorkflowById() rows as last committed, keyed `slug:<slug>` / `id:<id>`
   * (frozen, shared). Dropped exactly like `#workflowsCache`: by upsertWorkflow and any rollback.
   */
  readonly #workflowRowCache = new Map<string, WorkflowRow>();
  readonly #statements;
  /** updateRunStatus statements by shape (see `#statusUpdate`); at most 2^4 × a few entries. */
  readonly #statusUpdates = new Map<string, PreparedRun>();
  readonly #eventReads: EventReads;
  /** The feed's subscribers. */
  readonly #listeners = new Set<EventListener>();
  /** Events written by the open transaction, published after its COMMIT (dropped on rollback). */
  #outbox: PublishedEvent[] = [];
  /** Committed events being handed to listeners; writes made by a listener queue behind them. */
  #queue: PublishedEvent[] = [];
  #delivering = false;
  /** runId → its workflow id and slug (neither ever changes); cleared when it grows large. */
  readonly #routes = new Map<string, { workflowId: string; workflowSlug: string }>();

  constructor(db: Database.Database, settings: Settings, hooks: StoreHooks) {
    // Bound methods: ports are often passed around as picked or destructured functions
    // (`const { getRun } = store`), and private fields need the real instance as `this`.
    for (const key of Object.getOwnPropertyNames(SqliteStore.prototype)) {
      const value: unknown = Reflect.get(this, key);
      if (key !== "constructor" && typeof value === "function") {
        Object.defineProperty(this, key, {
          value: value.bind(this),
          configurable: true,
          writable: true,
        });
      }
    }
    this.#db = db;
    const { logQuery } = hooks;
    this.#orm =
      logQuery === undefined
        ? drizzle({ client: db })
        : drizzle({ client: db, logger: { logQuery: (query, params) => logQuery(query, params) } });
    this.#settings = settings;
    this.#newId = createUlidFactory(settings.now);
    this.#eventReads = prepareEventReads(db, logQuery);
    this.#begin = db.prepare("BEGIN IMMEDIATE");
    this.#commit = db.prepare("COMMIT");
    this.#rollback = db.prepare("ROLLBACK");
    const orm = this.#orm;
    const p = sql.placeholder;
    this.#statements = {
      workflowBySlug: orm
        .select()
        .from(workflows)
        .where(eq(workflows.slug, p("slug")))
        .prepare(),
      workflowById: orm
        .select()
        .from(workflows)
        .where(eq(workflows.id, p("id")))
        .prepare(),
      workflowExists: orm
        .select({ id: workflows.id, slug: workflows.slug })
        .from(workflows)
        .where(eq(workflows.id, p("id")))
        .prepare(),
      runById: orm
        .select()
        .from(runs)
        .where(eq(runs.id, p("id")))
        .prepare(),
      runExists: orm
        .select({ id: runs.id })
        .from(runs)
        .where(eq(runs.id, p("id")))
        .prepare(),
      runByKey: orm
        .select()
        .from(runs)
        .where(
          and(
            sql`COALESCE(${runs.parentRunId}, '') = ${p("parent")}`,
            eq(runs.idempotencyKey, p("key")),
          ),
        )
        .prepare(),
      runKey: orm
        .select({ createdAt: runs.createdAt, rowid: sql<number>`rowid` })
        .from(runs)
        .where(eq(runs.id, p("id")))
        .prepare(),
      // The append hot path: drizzle writes the SQL from the typed table, better-sqlite3 runs
      // it directly (drizzle's per-call parameter mapping costs ~1 µs per event).
      insertEvent: db.prepare<[string, number, string]>(
        orm
          .insert(runEvents)
          .values({ runId: p("runId"), cursor: p("cursor"), event: p("event") })
          .toSQL().sql,
      ),
      maxCursor: orm
        .select({ cursor: runEvents.cursor })
        .from(runEvents)
        .where(eq(runEvents.runId, p("runId")))
        .orderBy(desc(runEvents.cursor))
        .limit(1)
        .prepare(),
      incrementRestarts: orm
        .update(runs)
        .set({ restarts: sql`${runs.restarts} + 1` })
        .where(eq(runs.id, p("id")))
        .returning({ restarts: runs.restarts })
        .prepare(),
      addUsage: orm
        .update(runs)
        .set({
          tokensIn: sql`${runs.tokensIn} + ${p("tokensIn")}`,
          tokensOut: sql`${runs.tokensOut} + ${p("tokensOut")}`,
          usdMicros: sql`${runs.usdMicros} + ${p("usdMicros")}`,
        })
        .where(eq(runs.id, p("id")))
        .returning({
          tokensIn: runs.tokensIn,
          tokensOut: runs.tokensOut,
          usdMicros: runs.usdMicros,
        })
        .prepare(),
      runRoute: orm
        .select({ workflowId: runs.workflowId, workflowSlug: workflows.slug })
        .from(runs)
        .innerJoin(workflows, eq(workflows.id, runs.workflowId))
        .where(eq(runs.id, p("id")))
        .prepare(),
      cronFireExists: orm
        .select({ runId: cronFires.runId })
        .from(cronFires)
        .where(
          and(
            eq(cronFires.workflowId, p("workflowId")),
            eq(cronFires.triggerIndex, p("triggerIndex")),
            eq(cronFires.fireTime, p("fireTime")),
          ),
        )
        .prepare(),
      ping: db.prepare("SELECT 1"),
      insertRun: orm
        .insert(runs)
        .values({
          id: p("id"),
          workflowId: p("workflowId"),
          status: p("status"),
          triggerKind: p("triggerKind"),
          input: p("input"),
          output: p("output"),
          error: p("error"),
          parentRunId: p("parentRunId"),
          idempotencyKey: p("idempotencyKey"),
          restarts: p("restarts"),
          tokensIn: p("tokensIn"),
          tokensOut: p("tokensOut"),
          usdMicros: p("usdMicros"),
          createdAt: p("createdAt"),
          startedAt: p("startedAt"),
          endedAt: p("endedAt"),
        })
        .prepare(),
      usage: orm
        .select({ tokensIn: runs.tokensIn, tokensOut: runs.tokensOut, usdMicros: runs.usdMicros })
        .from(runs)
        .where(eq(runs.id, p("id")))
        .prepare(),
      lastFire: orm
        .select({ fireTime: cronFires.fireTime })
        .from(cronFires)
        .where(
          and(
            eq(cronFires.workflowId, p("workflowId")),
            eq(cronFires.triggerIndex, p("triggerIndex")),
          ),
        )
        .orderBy(desc(cronFires.fireTime))
        .limit(1)
        .prepare(),
      artifactsByRun: orm
        .select()
        .from(artifacts)
        .where(eq(artifacts.runId, p("runId")))
        .orderBy(sql`rowid`)
        .prepare(),
    };
  }

  // ---------------------------------------------------------------- transactions

  transaction<T>(fn: () => T): T {
    this.#assertOpen();
    if (typeof fn !== "function") throw validation("transaction(fn): fn must be a function.");
    if (this.#depth > 0) {
      this.#depth++;
      try {
        return this.#checkSync(fn());
      } catch (error) {
        // Joining means one fate: even if the outer callback swallows this throw, the
        // outermost transaction must roll back rather than commit half of the work.
        this.#poison ??= error;
        throw error;
      } finally {
        this.#depth--;
      }
    }
    try {
      this.#begin.run();
    } catch (error) {
      throw this.#wrap(error, "transaction");
    }
    this.#depth = 1;
    this.#poison = undefined;
    let result: T;
    try {
      result = this.#checkSync(fn());
      if (this.#poison !== undefined) {
        const cause = this.#poison;
        throw new EngineError(
          "INTERNAL",
          `Transaction rolled back: a nested transaction threw (${messageOf(cause)}) and the outer callback caught it.`,
          "Let errors from nested store.transaction() calls propagate, or catch them outside the outermost one.",
          { cause },
        );
      }
      this.#commit.run();
    } catch (error) {
      if (this.#db.inTransaction) this.#rollback.run();
      this.#pending = [];
      this.#outbox = [];
      this.#dropWorkflowCaches();
      throw this.#wrap(error, "transaction");
    } finally {
      this.#depth = 0;
      this.#poison = undefined;
    }
    this.#deliver();
    this.#flush();
    return result;
  }

  afterCommit(fn: () => void): void {
    this.#assertOpen();
    if (typeof fn !== "function") throw validation("afterCommit(fn): fn must be a function.");
    if (this.#depth > 0) this.#pending.push(fn);
    else fn();
  }

  close(): void {
    if (this.#closed) return;
    if (this.#depth > 0) {
      throw new EngineError(
        "INTERNAL",
        "close() was called inside a store transaction.",
        "Close the store after the transaction callback returns.",
      );
    }
    this.#closed = true;
    this.#db.close();
  }

  #checkSync<T>(result: T): T {
    if (isThenable(result)) {
      throw validation(
        "transaction(fn): fn returned a promise; store transactions are synchronous.",
        "Do the async work before or after the transaction, never inside it.",
      );
    }
    return result;
  }

  #flush(): void {
    const callbacks = this.#pending;
    this.#pending = [];
    let failure: unknown = undefined;
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        failure ??= error;
      }
    }
    // The data is committed; the first callback failure is still the caller's to see.
    if (failure !== undefined)
      throw failure instanceof Error ? failure : new Error(messageOf(failure));
  }

  /** All-or-nothing for one store method: its own transaction, or a savepoint in the caller's. */
  #atomic<T>(fn: () => T): T {
    if (this.#depth === 0) return this.transaction(fn);
    const name = `promenade_${String(++this.#savepoints)}`;
    const mark = this.#pending.length;
    const published = this.#outbox.length;
    this.#db.exec(`SAVEPOINT ${name}`);
    this.#depth++;
    try {
      const result = fn();
      this.#db.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.#db.exec(`ROLLBACK TO ${name}`);
      this.#db.exec(`RELEASE ${name}`);
      this.#pending.length = mark;
      this.#outbox.length = published;
      this.#dropWorkflowCaches();
      throw error;
    } finally {
      this.#depth--;
    }
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new EngineError(
        "INTERNAL",
        "The store is closed.",
        "Open a new store (or engine) to keep working with this data dir.",
      );
    }
  }

  /** Engine errors pass through; anything else from SQLite becomes `INTERNAL`. */
  #wrap(error: unknown, operation: string): unknown {
    if (isEngineError(error)) return error;
    const code = sqliteCode(error);
    if (code === undefined || !code.startsWith("SQLITE")) return error;
    return new EngineError(
      "INTERNAL",
      `Store ${operation} failed: ${messageOf(error)} (${code}).`,
      code === "SQLITE_FULL"
        ? "The disk is full; free space and retry."
        : "Check the data dir's disk and permissions; restore from a backup if the file is damaged.",
      { cause: error },
    );
  }

  #guard<T>(operation: string, fn: () => T): T {
    this.#assertOpen();
    try {
      return fn();
    } catch (error) {
      throw this.#wrap(error, operation);
    }
  }

  ping(): void {
    this.#guard("ping", () => {
      this.#statements.ping.get();
    });
  }

  // ---------------------------------------------------------------- feed

  subscribe(listener: EventListener): () => void {
    this.#assertOpen();
    if (typeof listener !== "function")
      throw validation("subscribe(listener): listener must be a function.");
    // A wrapper per subscription: the same function subscribed twice is called twice and each
    // unsubscribe removes exactly its own subscription.
    const entry: EventListener = (row) => listener(row);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /**
   * Queues rows just written for publication after the COMMIT. Skipped while nobody listens:
   * the append hot path then pays nothing for the feed.
   */
  #publish(runId: string, rows: readonly { cursor: number; event: RunEvent }[]): void {
    if (this.#listeners.size === 0 || rows.length === 0) return;
    const route = this.#route(runId);
    for (const row of rows) {
      this.#outbox.push({
        runId,
        cursor: row.cursor,
        event: row.event,
        workflowId: route.workflowId,
        workflowSlug: route.workflowSlug,
      });
    }
  }

  #route(runId: string): { workflowId: string; workflowSlug: string } {
    let route = this.#routes.get(runId);
    if (route === undefined) {
      route = this.#statements.runRoute.get({ id: runId });
      if (route === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
      if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
      this.#routes.set(runId, route);
    }
    return route;
  }

  /**
   * Hands committed events to the listeners. Re-entrant writes (a listener that writes) append
   * to the queue and are delivered by the outermost call, after the event in hand, so every
   * listener sees events in commit order.
   */
  #deliver(): void {
    if (this.#outbox.length === 0) return;
    const rows = this.#outbox;
    this.#outbox = [];
    for (const row of rows) this.#queue.push(row);
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let index = 0; index < this.#queue.length; index++) {
        const row = this.#queue[index]!;
        for (const listener of this.#listeners) {
          try {
            listener(row);
          } catch (error) {
            try {
              this.#settings.onListenerError?.(error, row);
            } catch {
              // Documented: an error from the error hook itself is dropped.
            }
          }
        }
      }
    } finally {
      this.#queue = [];
      this.#delivering = false;
    }
  }

  // ---------------------------------------------------------------- workflows

  getWorkflow(slug: string): WorkflowRow | null {
    return this.#guard("getWorkflow", () => {
      if (typeof slug !== "string")
        throw validation(`getWorkflow(slug): slug must be a string, got ${describe(slug)}.`);
      return this.#cachedWorkflow(`slug:${slug}`, () =>
        this.#statements.workflowBySlug.get({ slug }),
      );
    });
  }

  getWorkflowById(id: string): WorkflowRow | null {
    return this.#guard("getWorkflowById", () => {
      if (typeof id !== "string")
        throw validation(`getWorkflowById(id): id must be a string, got ${describe(id)}.`);
      return this.#cachedWorkflow(`id:${id}`, () => this.#statements.workflowById.get({ id }));
    });
  }

  /**
   * Every startRun reads its workflow; re-parsing and re-validating the manifest JSON each time
   * is measurable start latency. This process holds the database lock, so only upsertWorkflow
   * (or a rollback around it) can change a row. Misses are not remembered.
   */
  #cachedWorkflow(
    key: string,
    read: () => Parameters<typeof toWorkflowRow>[0] | undefined,
  ): WorkflowRow | null {
    const cached = this.#workflowRowCache.get(key);
    if (cached !== undefined) return cached;
    const raw = read();
    if (raw === undefined) return null;
    const row = Object.freeze(toWorkflowRow(raw));
    // Never cache inside a transaction: it may still roll back.
    if (this.#depth === 0) {
      this.#workflowRowCache.set(`slug:${row.slug}`, row);
      this.#workflowRowCache.set(`id:${row.id}`, row);
    }
    return row;
  }

  #dropWorkflowCaches(): void {
    this.#workflowsCache = undefined;
    this.#workflowRowCache.clear();
  }

  listWorkflows(): WorkflowRow[] {
    return this.#guard("listWorkflows", () => {
      // The scheduler lists every workflow on every tick; re-reading and re-validating 10,000
      // manifests each second would dominate an idle tick. This process holds the database
      // lock, so only upsertWorkflow (or a rollback around it) can change the answer.
      if (this.#workflowsCache !== undefined) return this.#workflowsCache.slice();
      const rows = this.#orm
        .select()
        .from(workflows)
        .orderBy(asc(workflows.slug))
        .all()
        .map((raw) => Object.freeze(toWorkflowRow(raw)));
      // Never cache inside a transaction: it may still roll back.
      if (this.#depth === 0) this.#workflowsCache = rows;
      return rows.slice();
    });
  }

  upsertWorkflow(args: UpsertWorkflowArgs): WorkflowRow {
    this.#dropWorkflowCaches();
    return this.#guard("upsertWorkflow", () => {
      if (typeof args !== "object" || args === null) {
        throw validation("upsertWorkflow(args): args must be an object.");
      }
      const slug = requireString(args.slug, "upsertWorkflow: slug");
      const parsed = manifestSchema.safeParse(args.manifest);
      if (!parsed.success) {
        throw validation(
          `upsertWorkflow: manifest of "${slug}" is invalid: ${describeIssues(parsed.error)}.`,
          "Deploy a manifest produced by the SDK's validateMeta/extractManifest.",
        );
      }
      if (parsed.data.slug !== slug) {
        throw validation(
          `upsertWorkflow: slug "${slug}" does not match manifest.slug "${parsed.data.slug}".`,
        );
      }
      const manifest = toJsonText(
        parsed.data,
        `manifest of "${slug}"`,
        this.#settings.maxValueBytes,
      );
      if (typeof args.program !== "string") {
        throw validation(
          `upsertWorkflow: program of "${slug}" must be a string, got ${describe(args.program)}.`,
        );
      }
      checkSize(args.program, `program of "${slug}"`, this.#settings.maxProgramBytes);
      const configValue = args.config ?? {};
      if (typeof configValue !== "object" || configValue === null || Array.isArray(configValue)) {
        throw validation(
          `upsertWorkflow: config of "${slug}" must be a JSON object, got ${describe(configValue)}.`,
        );
      }
      const config = toJsonText(configValue, `config of "${slug}"`, this.#settings.maxValueBytes);
      return this.#atomic(() => {
        const now = this.#settings.now();
        this.#orm
          .insert(workflows)
          .values({
            id: this.#newId(),
            slug,
            manifest,
            program: args.program,
            config,
            createdAt: now,
            updatedAt: now,
          })
          .onConflictDoUpdate({
            target: workflows.slug,
            set: { manifest, program: args.program, config, updatedAt: now },
          })
          .run();
        const raw = this.#statements.workflowBySlug.get({ slug });
        if (raw === undefined)
          throw new EngineError("INTERNAL", `Workflow "${slug}" vanished after upsert.`);
        return toWorkflowRow(raw);
      });
    });
  }

  // ---------------------------------------------------------------- runs

  getRun(id: string): RunRow | null {
    return this.#guard("getRun", () => {
      if (typeof id !== "string")
        throw validation(`getRun(id): id must be a string, got ${describe(id)}.`);
      const raw = this.#statements.runById.get({ id });
      return raw === undefined ? null : toRunRow(raw);
    });
  }

  createRun(args: CreateRunArgs): { run: RunRow; created: boolean } {
    return this.#guard("createRun", () => {
      if (typeof args !== "object" || args === null)
        throw validation("createRun(args): args must be an object.");
      const workflowId = requireString(args.workflowId, "createRun: workflowId");
      if (typeof args.triggerKind !== "string" || !TRIGGER_SET.has(args.triggerKind)) {
        throw validation(
          `createRun: triggerKind must be one of ${TRIGGER_KINDS.join(", ")}, got ${describe(args.triggerKind)}.`,
        );
      }
      const input =
        args.input === undefined
          ? null
          : toJsonText(args.input, "createRun: input", this.#settings.maxValueBytes);
      const parentRunId =
        args.parentRunId === undefined
          ? null
          : requireString(args.parentRunId, "createRun: parentRunId");
      let key: string | null = null;
      if (args.idempotencyKey !== undefined) {
        key = requireString(args.idempotencyKey, "createRun: idempotencyKey");
        if (key.length > MAX_KEY_LENGTH) {
          throw validation(
            `createRun: idempotencyKey is ${String(key.length)} characters, over the ${String(MAX_KEY_LENGTH)} limit.`,
            "Hash long keys (e.g. SHA-256 hex) before passing them.",
          );
        }
      }
      const triggerKind = args.triggerKind;
      return this.#atomic(() => {
        const workflow = this.#statements.workflowExists.get({ id: workflowId });
        if (workflow === undefined) {
          throw new EngineError(
            "NOT_FOUND",
            `Unknown workflow: ${workflowId}`,
            "Deploy the workflow before creating runs of it.",
          );
        }
        if (
          parentRunId !== null &&
          this.#statements.runExists.get({ id: parentRunId }) === undefined
        ) {
          throw new EngineError("NOT_FOUND", `Unknown parent run: ${parentRunId}`);
        }
        if (key !== null) {
          const existing = this.#statements.runByKey.get({ parent: parentRunId ?? "", key });
          if (existing !== undefined) {
            if (existing.workflowId !== workflowId) {
              throw new EngineError(
                "CONFLICT",
                `Idempotency key "${key}" already belongs to run ${existing.id} of another workflow (${existing.workflowId}).`,
                "Use a key that includes the workflow, or reuse it only for the same workflow.",
              );
            }
            return { run: toRunRow(existing), created: false };
          }
        }
        const run = this.#insertQueuedRun(workflow, triggerKind, input, parentRunId, key);
        return { run, created: true };
      });
    });
  }

  /** Inserts a `queued` run and its `queued` event (cursor 1); call inside `#atomic`. */
  #insertQueuedRun(
    workflow: { id: string; slug: string },
    triggerKind: RawRun["triggerKind"],
    input: string | null,
    parentRunId: string | null,
    key: string | null,
  ): RunRow {
    const now = this.#settings.now();
    const raw: RawRun = {
      id: this.#newId(),
      workflowId: workflow.id,
      status: "queued",
      triggerKind,
      input,
      output: null,
      error: null,
      parentRunId,
      idempotencyKey: key,
      restarts: 0,
      tokensIn: 0,
      tokensOut: 0,
      usdMicros: 0,
      createdAt: now,
      startedAt: null,
      endedAt: null,
    };
    this.#statements.insertRun.run(raw);
    const runId = raw.id;
    // Built from typed values: not re-validated (this is the start path).
    const event: RunEvent = {
      kind: "run_status",
      status: "queued",
      runId,
      turnId: runId,
      seq: 1,
      t: now,
    };
    this.#statements.insertEvent.run(runId, 1, JSON.stringify(event));
    if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
    this.#routes.set(runId, { workflowId: workflow.id, workflowSlug: workflow.slug });
    this.#publish(runId, [{ cursor: 1, event }]);
    return toRunRow(raw);
  }

  fireCron(args: FireCronArgs): RunRow | null {
    return this.#guard("fireCron", () => {
      if (typeof args !== "object" || args === null)
        throw validation("fireCron(args): args must be an object.");
      const workflowId = requireString(args.workflowId, "fireCron: workflowId");
      const triggerIndex = requireInteger(args.triggerIndex, "fireCron: triggerIndex", 0);
      const fireTime = requireInteger(args.fireTime, "fireCron: fireTime", 0);
      const input =
        args.input === undefined
          ? null
          : toJsonText(args.input, "fireCron: input", this.#settings.maxValueBytes);
      return this.#atomic(() => {
        const workflow = this.#statements.workflowExists.get({ id: workflowId });
        if (workflow === undefined) {
          throw new EngineError("NOT_FOUND", `Unknown workflow: ${workflowId}`);
        }
        const fired = this.#statements.cronFireExists.get({ workflowId, triggerIndex, fireTime });
        if (fired !== undefined) return null;
        const run = this.#insertQueuedRun(workflow, "cron", input, null, null);
        this.#orm
          .insert(cronFires)
          .values({ workflowId, triggerIndex, fireTime, runId: run.id, createdAt: run.createdAt })
          .run();
        return run;
      });
    });
  }

  updateRunStatus(id: string, status: RunStatus, options?: UpdateRunStatusOptions): boolean {
    return this.#guard("updateRunStatus", () => {
      requireString(id, "updateRunStatus: id");
      const o = options ?? {};
      if (typeof o !== "object") throw validation("updateRunStatus: options must be an object.");
      const update = this.#statusParams("updateRunStatus", id, status, o);
      return this.#applyStatus(id, update);
    });
  }

  /** Validates one status transition into the parameters of its prepared UPDATE. */
  #statusParams(
    method: string,
    id: string,
    status: RunStatus,
    o: UpdateRunStatusOptions,
  ): StatusUpdate {
    requireStatus(status, `${method}: status`);
    const params: Record<string, unknown> = { id, status };
    let error: StatusUpdate["error"] = undefined;
    if (o.output !== undefined) {
      params.output = toJsonText(
        o.output,
        `${method}(${id}): output`,
        this.#settings.maxValueBytes,
      );
    }
    if (o.error !== undefined) {
      const parsed = runErrorSchema.safeParse(o.error);
      if (!parsed.success) {
        throw validation(
          `${method}(${id}): error must be { code, message, hint? }: ${describeIssues(parsed.error)}.`,
        );
      }
      error = parsed.data;
      params.error = toJsonText(
        parsed.data,
        `${method}(${id}): error`,
        this.#settings.maxValueBytes,
      );
    }
    if (o.startedAt !== undefined)
      params.startedAt = requireInteger(o.startedAt, `${method}: startedAt`, 0);
    if (o.endedAt !== undefined)
      params.endedAt = requireInteger(o.endedAt, `${method}: endedAt`, 0);
    let expectCount: number | undefined = undefined;
    if (o.expect !== undefined) {
      if (!Array.isArray(o.expect))
        throw validation(`${method}: expect must be an array of statuses.`);
      o.expect.forEach((s, i) => {
        params[`expect${String(i)}`] = requireStatus(s, `${method}: expect[${String(i)}]`);
      });
      expectCount = o.expect.length;
    }
    return { params, expectCount, error };
  }

  /** Runs a validated status UPDATE; false when `expect` did not match. Unknown ⇒ `NOT_FOUND`. */
  #applyStatus(id: string, update: StatusUpdate): boolean {
    const result = this.#statusUpdate(update.params, update.expectCount).run(update.params);
    if (result.changes > 0) return true;
    if (this.#statements.runExists.get({ id }) === undefined) {
      throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    }
    return false;
  }

  commitStatus(runId: string, change: StatusChange): RunRow | null {
    return this.#guard("commitStatus", () => {
      requireString(runId, "commitStatus: runId");
      if (typeof change !== "object" || change === null)
        throw validation("commitStatus(runId, change): change must be an object.");
      if (!Array.isArray(change.expect))
        throw validation("commitStatus: change.expect must be an array of statuses.");
      const update = this.#statusParams("commitStatus", runId, change.to, change);
      const pending =
        change.pending === undefined
          ? []
          : this.#prepareEvents("commitStatus", runId, change.pending, "change.pending");
      let stamp: { cursor: number; seq: number } | undefined = undefined;
      if (change.stamp !== undefined) {
        if (typeof change.stamp !== "object" || change.stamp === null)
          throw validation("commitStatus: change.stamp must be { cursor, seq }.");
        stamp = {
          cursor: requireInteger(change.stamp.cursor, "commitStatus: stamp.cursor", 1),
          seq: requireInteger(change.stamp.seq, "commitStatus: stamp.seq", 1),
        };
      }
      return this.#atomic(() => {
        this.#insertEvents(runId, pending);
        if (!this.#applyStatus(runId, update)) return null;
        if (stamp === undefined) {
          const max = this.#statements.maxCursor.get({ runId })?.cursor ?? 0;
          stamp = {
            cursor: (Math.floor(max / TURN_CURSOR_STRIDE) + 1) * TURN_CURSOR_STRIDE + 1,
            seq: 1,
          };
        }
        // Built from validated values: not re-parsed (every status transition passes here).
        const body: Record<string, unknown> = { kind: "run_status", status: change.to };
        if (update.error !== undefined)
          body.error = { code: update.error.code, message: update.error.message };
        const event = {
          ...body,
          runId,
          turnId: runId,
          seq: stamp.seq,
          t: this.#settings.now(),
        } as RunEvent;
        this.#insertEvents(runId, [
          {
            cursor: stamp.cursor,
            event,
            text: sizedJson(event, `commitStatus(${runId}): event`, this.#settings.maxValueBytes),
          },
        ]);
        const raw = this.#statements.runById.get({ id: runId });
        if (raw === undefined) throw new EngineError("INTERNAL", `Run ${runId} vanished.`);
        return toRunRow(raw);
      });
    });
  }

  /**
   * The prepared UPDATE for one shape of updateRunStatus (which columns it sets, how many
   * `expect` statuses), built once: every status transition of every run goes through here,
   * and building plus preparing the SQL each time is measurable start latency.
   */
  #statusUpdate(params: Record<string, unknown>, expectCount: number | undefined): PreparedRun {
    const has = (name: string): boolean => params[name] !== undefined;
    const shape = `${["output", "error", "startedAt", "endedAt"].map((n) => (has(n) ? "1" : "0")).join("")}:${String(expectCount ?? -1)}`;
    let statement = this.#statusUpdates.get(shape);
    if (statement === undefined) {
      const p = sql.placeholder;
      const set: Record<string, unknown> = { status: p("status") };
      if (has("output")) set.output = p("output");
      if (has("error")) set.error = p("error");
      // The first pass's start wins: a later pass never resets it.
      if (has("startedAt")) set.startedAt = sql`COALESCE(${runs.startedAt}, ${p("startedAt")})`;
      if (has("endedAt")) set.endedAt = p("endedAt");
      let where: SQL | undefined = eq(runs.id, p("id"));
      if (expectCount !== undefined) {
        where =
          expectCount === 0
            ? sql`0`
            : and(
                where,
                inArray(
                  runs.status,
                  Array.from({ length: expectCount }, (_, i) => p(`expect${String(i)}`)),
                ),
              );
      }
      statement = this.#orm.update(runs).set(set).where(where).prepare();
      this.#statusUpdates.set(shape, statement);
    }
    return statement;
  }

  incrementRestarts(id: string): number {
    return this.#guard("incrementRestarts", () => {
      requireString(id, "incrementRestarts: id");
      const row = this.#statements.incrementRestarts.get({ id });
      if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
      return row.restarts;
    });
  }

  addRunUsage(id: string, usage: RunUsageDelta): RunUsage {
    return this.#guard("addRunUsage", () => {
      requireString(id, "addRunUsage: id");
      if (typeof usage !== "object" || usage === null)
        throw validation("addRunUsage: usage must be an object.");
      const amount = (value: number | undefined, name: string): number =>
        value === undefined ? 0 : requireInteger(value, `addRunUsage(${id}): ${name}`, 0);
      const totals = this.#statements.addUsage.get({
        id,
        tokensIn: amount(usage.tokensIn, "tokensIn"),
        tokensOut: amount(usage.tokensOut, "tokensOut"),
        usdMicros: amount(usage.usdMicros, "usdMicros"),
      });
      if (totals === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
      return totals;
    });
  }

  getRunUsage(id: string): RunUsage {
    return this.#guard("getRunUsage", () => {
      requireString(id, "getRunUsage: id");
      const row = this.#statements.usage.get({ id });
      if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
      return row;
    });
  }

  listRuns(filter?: ListRunsFilter): RunRow[] {
    return this.#guard("listRuns", () => this.#listRuns(filter ?? {}));
  }

  #listRuns(filter: ListRunsFilter): RunRow[] {
    if (typeof filter !== "object" || filter === null)
      throw validation("listRuns(filter): filter must be an object.");
    const order = filter.order ?? "newest";
    if (order !== "newest" && order !== "oldest") {
      throw validation(`listRuns: order must be "newest" or "oldest", got ${describe(order)}.`);
    }
    const limit =
      filter.limit === undefined ? undefined : requireInteger(filter.limit, "listRuns: limit", 0);
    const offset =
      filter.offset === undefined ? 0 : requireInteger(filter.offset, "listRuns: offset", 0);
    if (filter.beforeRunId !== undefined && filter.offset !== undefined) {
      throw validation(
        "listRuns: beforeRunId and offset cannot be combined.",
        "Page with beforeRunId (keyset) or with offset, not both.",
      );
    }
    let statuses: RunStatus[] | undefined;
    if (filter.statuses !== undefined) {
      if (!Array.isArray(filter.statuses)) throw validation("listRuns: statuses must be an array.");
      statuses = [
        ...new Set(
          filter.statuses.map((s, i) => requireStatus(s, `listRuns: statuses[${String(i)}]`)),
        ),
      ];
      if (statuses.length === 0) return [];
    }
    const workflowId =
      filter.workflowId === undefined
        ? undefined
        : requireString(filter.workflowId, "listRuns: workflowId");
    const parentRunId =
      filter.parentRunId === undefined
        ? undefined
        : requireString(filter.parentRunId, "listRuns: parentRunId");
    let anchor: { createdAt: number; rowid: number } | undefined;
    if (filter.beforeRunId !== undefined) {
      const id = requireString(filter.beforeRunId, "listRuns: beforeRunId");
      anchor = this.#statements.runKey.get({ id });
      if (anchor === undefined)
        throw new EngineError(
          "NOT_FOUND",
          `Unknown run: ${id}`,
          "beforeRunId must name a run of a previous page.",
        );
    }
    if (limit === 0) return [];
    const newest = order === "newest";
    const direction = newest ? desc : asc;
    const keyset =
      anchor === undefined
        ? undefined
        : newest
          ? sql`(${runs.createdAt}, rowid) < (${anchor.createdAt}, ${anchor.rowid})`
          : sql`(${runs.createdAt}, rowid) > (${anchor.createdAt}, ${anchor.rowid})`;
    const take = limit === undefined ? -1 : offset + limit;
    const query = (where: SQL | undefined): RunKeyRow[] =>
      this.#orm
        .select({ raw: runs, rowid: sql<number>`rowid` })
        .from(runs)
        .where(and(where, keyset))
        .orderBy(direction(runs.createdAt), direction(sql`rowid`))
        .limit(take)
        .all();
    let rows: RunKeyRow[];
    if (parentRunId !== undefined) {
      // Children of one parent are few: the parent index narrows, the rest is a filter.
      rows = query(
        and(
          eq(runs.parentRunId, parentRunId),
          workflowId === undefined ? undefined : eq(runs.workflowId, workflowId),
          statuses === undefined ? undefined : inArray(runs.status, statuses),
        ),
      );
    } else if (workflowId !== undefined || statuses !== undefined) {
      // One index range per status, each already in (created_at, rowid) order, merged here:
      // SQLite cannot merge the ranges of an IN list itself and would sort the whole match set.
      const perStatus = (statuses ?? [...RUN_STATUSES]).map((status) =>
        query(
          workflowId === undefined
            ? eq(runs.status, status)
            : and(eq(runs.workflowId, workflowId), eq(runs.status, status)),
        ),
      );
      rows = mergeRuns(perStatus, newest, take);
    } else {
      rows = query(undefined);
    }
    const page = limit === undefined ? rows.slice(offset) : rows.slice(offset, offset + limit);
    return page.map((row) => toRunRow(row.raw));
  }

  // ---------------------------------------------------------------- events

  appendEvents(runId: string, rows: readonly EventAppend[]): void {
    this.#guard("appendEvents", () => {
      requireString(runId, "appendEvents: runId");
      const prepared = this.#prepareEvents("appendEvents", runId, rows, "rows");
      if (prepared.length === 0) return;
      // A single INSERT is atomic on its own; a batch needs a transaction (or savepoint).
      if (prepared.length > 1 || this.#depth > 0) {
        this.#atomic(() => this.#insertEvents(runId, prepared));
        return;
      }
      this.#insertEvents(runId, prepared);
      this.#deliver();
    });
  }

  /**
   * Validates a batch of events of `runId` into their JSON text, in cursor order. A cursor
   * twice in the batch ⇒ `CONFLICT`; anything malformed ⇒ `VALIDATION`.
   */
  #prepareEvents(
    method: string,
    runId: string,
    rows: readonly EventAppend[],
    what: string,
  ): PreparedEvent[] {
    const batch: unknown = rows;
    if (!Array.isArray(batch))
      throw validation(`${method}: ${what} must be an array of { cursor, event }.`);
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
          ? toJsonText(parsed.data, `${where}.event`, this.#settings.maxValueBytes)
          : sizedJson(parsed.data, `${where}.event`, this.#settings.maxValueBytes),
      });
    }
    // Written and published in cursor order, whatever order the caller listed them in.
    if (!sorted) prepared.sort((a, b) => a.cursor - b.cursor);
    return prepared;
  }

  /** Inserts prepared events and queues them for the feed; callers provide atomicity. */
  #insertEvents(runId: string, rows: readonly PreparedEvent[]): void {
    for (const row of rows) {
      try {
        this.#statements.insertEvent.run(runId, row.cursor, row.text);
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
    this.#publish(runId, rows);
  }

  listEvents(runId: string, options?: ListEventsOptions): EventRow[] {
    return this.#guard("listEvents", () => {
      if (typeof runId !== "string")
        throw validation(`listEvents(runId): runId must be a string, got ${describe(runId)}.`);
      const o = options ?? {};
      const after =
        o.afterCursor === undefined
          ? 0
          : requireInteger(o.afterCursor, "listEvents: afterCursor", 0);
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
      if (channels === undefined) return this.#eventReads.all(runId, after, limit).map(toEventRow);
      // One index range per channel, merged by cursor (see runs above for why not IN).
      const lists = channels.map((channel) =>
        this.#eventReads.inChannel(runId, channel, after, limit),
      );
      const merged =
        lists.length === 1 ? (lists[0] ?? []) : lists.flat().sort((a, b) => a.cursor - b.cursor);
      return (limit < 0 ? merged : merged.slice(0, limit)).map(toEventRow);
    });
  }

  maxCursor(runId: string): number {
    return this.#guard("maxCursor", () => {
      if (typeof runId !== "string")
        throw validation(`maxCursor(runId): runId must be a string, got ${describe(runId)}.`);
      return this.#statements.maxCursor.get({ runId })?.cursor ?? 0;
    });
  }

  // ---------------------------------------------------------------- cron fires

  recordCronFire(args: CronFireArgs): void {
    this.#guard("recordCronFire", () => {
      if (typeof args !== "object" || args === null)
        throw validation("recordCronFire(args): args must be an object.");
      const workflowId = requireString(args.workflowId, "recordCronFire: workflowId");
      const triggerIndex = requireInteger(args.triggerIndex, "recordCronFire: triggerIndex", 0);
      const fireTime = requireInteger(args.fireTime, "recordCronFire: fireTime", 0);
      const runId = requireString(args.runId, "recordCronFire: runId");
      if (this.#statements.workflowExists.get({ id: workflowId }) === undefined) {
        throw new EngineError("NOT_FOUND", `Unknown workflow: ${workflowId}`);
      }
      if (this.#statements.runExists.get({ id: runId }) === undefined) {
        throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
      }
      try {
        this.#orm
          .insert(cronFires)
          .values({ workflowId, triggerIndex, fireTime, runId, createdAt: this.#settings.now() })
          .run();
      } catch (error) {
        if (sqliteCode(error) === "SQLITE_CONSTRAINT_PRIMARYKEY") {
          throw new EngineError(
            "CONFLICT",
            `Cron fire already recorded: workflow ${workflowId} trigger #${String(triggerIndex)} at ${new Date(fireTime).toISOString()}.`,
          );
        }
        throw error;
      }
    });
  }

  lastCronFire(workflowId: string, triggerIndex: number): number | null {
    return this.#guard("lastCronFire", () => {
      requireString(workflowId, "lastCronFire: workflowId");
      requireInteger(triggerIndex, "lastCronFire: triggerIndex", 0);
      return this.#statements.lastFire.get({ workflowId, triggerIndex })?.fireTime ?? null;
    });
  }

  // ---------------------------------------------------------------- artifacts

  createArtifact(args: CreateArtifactArgs): ArtifactRow {
    return this.#guard("createArtifact", () => {
      if (typeof args !== "object" || args === null)
        throw validation("createArtifact(args): args must be an object.");
      const runId = requireString(args.runId, "createArtifact: runId");
      const name = requireString(args.name, "createArtifact: name");
      if (name.length > MAX_NAME_LENGTH || /[/\\\0]/.test(name) || name === "." || name === "..") {
        throw validation(
          `createArtifact: name ${describe(name)} is not a plain file name.`,
          `Use a name without "/", "\\" or NUL, at most ${String(MAX_NAME_LENGTH)} characters.`,
        );
      }
      const contentType = requireString(args.contentType, "createArtifact: contentType");
      if (contentType.length > MAX_NAME_LENGTH) {
        throw validation(
          `createArtifact: contentType is longer than ${String(MAX_NAME_LENGTH)} characters.`,
        );
      }
      const path = requireString(args.path, "createArtifact: path");
      if (path.length > MAX_PATH_LENGTH) {
        throw validation(
          `createArtifact: path is longer than ${String(MAX_PATH_LENGTH)} characters.`,
        );
      }
      if (!isAbsolute(path))
        throw validation(`createArtifact: path ${describe(path)} must be absolute.`);
      const size = requireInteger(args.size, "createArtifact: size", 0);
      let metadata: string | null = null;
      if (args.metadata !== undefined) {
        const value: unknown = args.metadata;
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
          throw validation(
            `createArtifact: metadata must be a JSON object, got ${describe(value)}.`,
          );
        }
        metadata = toJsonText(value, "createArtifact: metadata", this.#settings.maxValueBytes);
      }
      const raw = {
        id: this.#newId(),
        runId,
        name,
        contentType,
        path,
        size,
        metadata,
        createdAt: this.#settings.now(),
      };
      try {
        this.#orm.insert(artifacts).values(raw).run();
      } catch (error) {
        if (sqliteCode(error) === "SQLITE_CONSTRAINT_FOREIGNKEY")
          throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
        throw error;
      }
      return toArtifactRow(raw);
    });
  }

  listArtifacts(runId: string): ArtifactRow[] {
    return this.#guard("listArtifacts", () => {
      if (typeof runId !== "string")
        throw validation(`listArtifacts(runId): runId must be a string, got ${describe(runId)}.`);
      return this.#statements.artifactsByRun.all({ runId }).map(toArtifactRow);
    });
  }
}

/** Merges lists each sorted by (created_at, rowid) in `newest`/oldest order; keeps `take` (−1: all). */
function mergeRuns(lists: RunKeyRow[][], newest: boolean, take: number): RunKeyRow[] {
  const nonEmpty = lists.filter((list) => list.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? [];
  const sign = newest ? -1 : 1;
  const merged = nonEmpty
    .flat()
    .sort((a, b) => sign * (a.raw.createdAt - b.raw.createdAt || a.rowid - b.rowid));
  return take < 0 ? merged : merged.slice(0, take);
}
