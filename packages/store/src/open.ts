/**
 * Opening the SQLite store: options, the connection and its pragmas, the exclusive file lock,
 * and the migrations run before the store is handed out.
 */
import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { EngineError } from "@promenade/workflow/errors";
import type { PublishedEvent } from "@promenade/workflow/records";
import { messageOf, sqliteCode } from "./internal/args.ts";
import { migrate } from "./migrate.ts";
import { MIGRATIONS, type Migration } from "./migrations.ts";
import { fillMissingHashes } from "./versions.ts";
import { SqliteStore } from "./store.ts";
import type { Store } from "./types.ts";

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

/** Test seams of {@link openStoreWith}; not part of the public API. */
export interface StoreHooks {
  /** Sees every SQL statement drizzle runs, with its parameters (query-plan tests). */
  logQuery?: (query: string, params: unknown[]) => void;
}

/** {@link OpenStoreOptions} checked, with defaults applied. */
export interface Settings {
  path: string;
  now: () => number;
  maxValueBytes: number;
  maxProgramBytes: number;
  onListenerError: ((error: unknown, row: PublishedEvent) => void) | undefined;
}

const DEFAULT_MAX_VALUE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_PROGRAM_BYTES = 32 * 1024 * 1024;

/**
 * Opens (creating if needed) and migrates the database at `options.path`, and returns the
 * store. Sets WAL, `foreign_keys`, `busy_timeout = 5000`, `synchronous = NORMAL`, and holds an
 * exclusive lock on the file until `close()`. The log is checkpointed once writes have paused for
 * 250 ms, and by SQLite inside a commit only when it reaches 4096 pages without a pause.
 *
 * Throws `VALIDATION` (bad options, missing directory), `CONFLICT` (the database is open in
 * another process or connection), `INTERNAL` (database newer than this package, failed
 * migration, unreadable file).
 */
export function openStore(options: OpenStoreOptions): Store {
  return openStoreWith(options, MIGRATIONS);
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
    fillMissingHashes(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteStore(db, settings, hooks);
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
      // A new file returns the pages retention frees to the file system in small steps
      // (`reclaimSpace`); the mode can only be chosen before the first table exists. A file
      // created by an older release keeps reusing its free pages instead (a one-off offline
      // `VACUUM` after setting the pragma converts it).
      const empty = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master").get() as { n: number };
      if (empty.n === 0) db.pragma("auto_vacuum = INCREMENTAL");
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
