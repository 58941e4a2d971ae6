/**
 * One PostgreSQL database per test: `createTestDatabase()` creates a fresh database on the
 * cluster that `postgresGlobalSetup` started for the test run, or, in a package without that
 * global setup, on a cluster this test worker starts on first use (removed when the worker
 * exits). Needs vitest (for `inject`).
 */
import { inject } from "vitest";
import {
  createDatabase,
  POSTGRES_URL_KEY,
  startPostgres,
  type PostgresServer,
} from "./postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The maintenance URL of the run's PostgreSQL cluster (see `postgresGlobalSetup`). */
    promenadePostgresUrl: string;
  }
}

/** A database of one test. */
export interface TestDatabase {
  /** `postgres://…/<fresh database>`. */
  readonly url: string;
  /** Drops the database (every connection to it must be closed first). Idempotent. */
  drop(): Promise<void>;
}

let workerCluster: Promise<PostgresServer> | undefined;

async function adminUrl(): Promise<string> {
  const provided = inject(POSTGRES_URL_KEY) as string | undefined;
  if (typeof provided === "string" && provided !== "") return provided;
  workerCluster ??= startPostgres();
  return (await workerCluster).url;
}

/** Creates an empty database for one test and returns its URL. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = await adminUrl();
  const url = await createDatabase(admin);
  const name = new URL(url).pathname.slice(1);
  let dropped = false;
  return {
    url,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      const { Client } = (await import("pg")).default;
      const client = new Client({ connectionString: admin });
      client.on("error", () => undefined);
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
