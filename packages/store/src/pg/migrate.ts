/**
 * The PostgreSQL migration runner: brings a database up to the newest migration this package
 * knows, on every open. Invariants: all pending migrations commit together with their
 * `schema_migrations` rows, or none does (one transaction: a failure leaves nothing
 * half-written); two processes opening the same database at once are serialized by a
 * transaction-scoped advisory lock, so each migration is applied exactly once; a database newer
 * than the code is refused, never touched.
 */
import type { PoolClient } from "pg";
import { EngineError } from "@promenade/workflow/errors";
import { validateMigrations, type MigrationReport } from "../migrate.ts";
import type { Migration } from "../migrations.ts";

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at bigint NOT NULL
)`;

// One lock for every Promenade store on this database, released at COMMIT/ROLLBACK.
const LOCK = "SELECT pg_advisory_xact_lock(hashtext('promenade.store.migrate'))";

/**
 * Applies every migration newer than the database, all in one transaction on `client`. Throws
 * `INTERNAL` when the database is newer than `migrations` or a migration fails (everything of
 * this call is rolled back).
 */
export async function migratePg(
  client: PoolClient,
  migrations: readonly Migration[],
  options: { now: () => number; label: string },
): Promise<MigrationReport> {
  validateMigrations(migrations);
  const newest = migrations.at(-1)?.version ?? 0;
  await client.query("BEGIN");
  try {
    await client.query(LOCK);
    await client.query(BOOKKEEPING);
    const { rows } = await client.query<{ v: number | null }>(
      "SELECT MAX(version) AS v FROM schema_migrations",
    );
    const from = rows[0]?.v ?? 0;
    if (from > newest) {
      throw new EngineError(
        "INTERNAL",
        `Database ${options.label} is at schema version ${String(from)}, newer than this @promenade/store knows (${String(newest)}).`,
        "Upgrade @promenade/engine to the version that wrote this database, or point PROMENADE_DATABASE_URL at another database.",
      );
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= from) continue;
      try {
        await client.query(migration.sql);
      } catch (error) {
        throw new EngineError(
          "INTERNAL",
          `Migration ${migration.name} of database ${options.label} failed and was rolled back (schema stays at version ${String(from)}): ${error instanceof Error ? error.message : String(error)}`,
          "Restore the database from a backup or report the failure with this message.",
          { cause: error },
        );
      }
      await client.query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        [migration.version, migration.name, options.now()],
      );
      applied.push(migration.version);
    }
    await client.query("COMMIT");
    return { from, to: applied.at(-1) ?? from, applied };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
