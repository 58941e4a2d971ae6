/**
 * The store contract suite against a real PostgreSQL server: one suite, two backends. Each test
 * gets a database of its own on the run's cluster.
 */
import { afterEach } from "vitest";
import { describeStoreContract } from "../testing/contract.ts";
import { createTestDatabase, type TestDatabase } from "../testing/pg-database.ts";
import { openPgStore } from "./open.ts";

const databases: TestDatabase[] = [];

describeStoreContract("PostgreSQL store", async ({ now }) => {
  const database = await createTestDatabase();
  databases.push(database);
  return openPgStore({ url: database.url, now });
});

// Each test drops its own database: DROP DATABASE forces a checkpoint, and dozens of them in one
// closing hook can outlast any hook budget on a busy machine. The suite's own afterEach (which
// closes the stores) runs first, since hooks registered inside the suite run before these.
afterEach(async () => {
  for (const database of databases.splice(0)) await database.drop();
});
