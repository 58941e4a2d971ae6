/**
 * The migration runner: brings a database up to the newest migration this package knows, on
 * every open. Invariants: each pending migration commits together with its `schema_migrations`
 * row and the `PRAGMA user_version` bump, or not at all; a database newer than the code is
 * refused, never touched. Knows nothing about rows or the store API.
 */
import type BetterSqlite3 from "better-sqlite3";
import { EngineError } from "@promenade/workflow/errors";
import type { Migration } from "./migrations.ts";

/** What `migrate` did: the schema version before and after, and the versions applied. */
export interface MigrationReport {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly number[];
}

/** Throws `INTERNAL` unless versions are strictly ascending positive integers with names. */
export function validateMigrations(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const [index, migration] of migrations.entries()) {
    if (!Number.isSafeInteger(migration.version) || migration.version <= previous) {
      throw new EngineError(
        "INTERNAL",
        `Invalid migration list: entry ${String(index)} ("${String(migration.name)}") has version ${String(migration.version)}; versions must be strictly ascending positive integers.`,
        "This is a packaging bug in @promenade/store; reinstall or report it.",
      );
    }
    if (typeof migration.name !== "string" || migration.name.length === 0) {
      throw new EngineError(
        "INTERNAL",
        `Invalid migration list: version ${String(migration.version)} has no name.`,
        "This is a packaging bug in @promenade/store; reinstall or report it.",
      );
    }
    previous = migration.version;
  }
}

/** The applied schema version: `MAX(version)` of `schema_migrations`, 0 when absent. */
export function schemaVersion(db: BetterSqlite3.Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  const recorded =
    table === undefined
      ? 0
      : ((
          db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as {
            v: number | null;
          }
        ).v ?? 0);
  const userVersion = db.pragma("user_version", { simple: true }) as number;
  // A database whose header claims a newer version than its bookkeeping table is still newer.
  return Math.max(recorded, userVersion);
}

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`;

/**
 * Applies every migration newer than the database, each in its own `BEGIN IMMEDIATE`
 * transaction. Throws `INTERNAL` when the database is newer than `migrations` or a migration
 * fails (that migration is rolled back entirely; earlier ones stay applied).
 */
export function migrate(
  db: BetterSqlite3.Database,
  migrations: readonly Migration[],
  options: { now: () => number; label: string },
): MigrationReport {
  validateMigrations(migrations);
  const from = schemaVersion(db);
  const newest = migrations.at(-1)?.version ?? 0;
  if (from > newest) {
    throw new EngineError(
      "INTERNAL",
      `Database ${options.label} is at schema version ${String(from)}, newer than this @promenade/store knows (${String(newest)}).`,
      "Upgrade @promenade/engine to the version that wrote this database, or use another data dir.",
    );
  }
  const applied: number[] = [];
  let current = from;
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(BOOKKEEPING);
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        migration.version,
        migration.name,
        options.now(),
      );
      db.pragma(`user_version = ${String(migration.version)}`);
      db.exec("COMMIT");
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw new EngineError(
        "INTERNAL",
        `Migration ${migration.name} of database ${options.label} failed and was rolled back (schema stays at version ${String(current)}): ${error instanceof Error ? error.message : String(error)}`,
        "Restore the data dir from a backup or report the failure with this message.",
        { cause: error },
      );
    }
    applied.push(migration.version);
    current = migration.version;
  }
  return { from, to: current, applied };
}
