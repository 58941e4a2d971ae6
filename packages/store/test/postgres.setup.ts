// One PostgreSQL cluster for the whole integration run; tests create their own databases on it.
export { postgresGlobalSetup as default } from "../src/testing/postgres.ts";
