/**
 * `@promenade/store/pg`: Promenade's durable state on PostgreSQL. A separate door from the
 * package root so that SQLite-only users never load the `pg` driver. Named re-exports only.
 */
// First: on a Node.js below the floor, exit with one clear line before anything else loads.
import "@promenade/workflow/node-guard";
export { openPgStore } from "./open.ts";
export type { OpenPgStoreOptions } from "./open.ts";
export type { ClusterStore, PgStore } from "./store.ts";
export { isLeaseLost } from "./cluster.ts";
export type { HeldRun } from "./cluster.ts";
export { PG_MIGRATIONS } from "./migrations.ts";
