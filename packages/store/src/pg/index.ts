/**
 * `@promenade/store/pg`: Promenade's durable state on PostgreSQL. A separate door from the
 * package root so that SQLite-only users never load the `pg` driver. Named re-exports only.
 */
export { openPgStore } from "./open.ts";
export type { OpenPgStoreOptions } from "./open.ts";
export type { PgStore } from "./store.ts";
export { PG_MIGRATIONS } from "./migrations.ts";
