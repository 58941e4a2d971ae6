/**
 * `@promenade/store/testing`: shared test doubles and the store contract suite. Consumers
 * (supervisor, scheduler, engine, third parties) test against the real store on `:memory:` or a
 * temp dir instead of writing their own fakes, and run `describeStoreContract` against any
 * other implementation of the ports they declare. Throwaway PostgreSQL clusters
 * (`startPostgres`, `postgresGlobalSetup`, `createTestDatabase`) put the PostgreSQL store under
 * the same tests.
 */
export {
  createMemoryStore,
  createTempStore,
  outputLineEvent,
  statusEvent,
  testManifest,
  textDeltaEvent,
} from "./fixtures.ts";
export type { TempStore } from "./fixtures.ts";
export { describeStoreContract } from "./contract.ts";
export type { StoreFactory } from "./contract.ts";
export {
  createDatabase,
  findPostgresBinaries,
  POSTGRES_URL_KEY,
  postgresGlobalSetup,
  startPostgres,
} from "./postgres.ts";
export type { PostgresServer, StartPostgresOptions } from "./postgres.ts";
export { createTestDatabase } from "./pg-database.ts";
export type { TestDatabase } from "./pg-database.ts";
