/**
 * The store contract suite against a real PostgreSQL server: one suite, two backends. Each test
 * gets a database of its own on the run's cluster.
 */
import { afterAll } from "vitest";
import { describeStoreContract } from "../testing/contract.ts";
import { createTestDatabase, type TestDatabase } from "../testing/pg-database.ts";
import { openPgStore } from "./open.ts";

const databases: TestDatabase[] = [];

describeStoreContract("PostgreSQL store", async ({ now }) => {
  const database = await createTestDatabase();
  databases.push(database);
  return openPgStore({ url: database.url, now });
});

afterAll(async () => {
  for (const database of databases.splice(0)) await database.drop();
});
