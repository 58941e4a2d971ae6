/**
 * Every way of not reaching PostgreSQL is one line naming the problem and the fix, never the
 * password, and opening fails without writing anything: bad URL, wrong password, unknown
 * database, refused port, a host that does not answer, and a server that is gone for a while
 * (the store recovers by itself once it is back).
 */
import { createServer } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type PostgresServer } from "../testing/postgres.ts";
import { testManifest } from "../testing/fixtures.ts";
import { openPgStore } from "./open.ts";
import type { PgStore } from "./store.ts";

type Failure = { code?: string; message: string; hint?: string };

async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error("expected a rejection");
}

function oneLine(failure: Failure): string {
  return `${failure.message} ${failure.hint ?? ""}`;
}

/** A port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// This file pauses and stops its server: it gets a cluster of its own, not the shared one.
let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server.destroy();
});

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    return rows.map((row) => row.table_name);
  } finally {
    await client.end();
  }
}

describe("openPgStore connection errors", () => {
  it("rejects a malformed or non-PostgreSQL URL with VALIDATION, without echoing it", async () => {
    const malformed = await failureOf(openPgStore({ url: "postgres://user:s3cret@host:port/db" }));
    expect(malformed.code).toBe("VALIDATION");
    expect(malformed.message).toBe("The PostgreSQL URL is not a valid URL.");
    expect(malformed.hint).toMatch(/PROMENADE_DATABASE_URL/);
    expect(oneLine(malformed)).not.toContain("s3cret");
    const scheme = await failureOf(openPgStore({ url: "mysql://user:s3cret@localhost/db" }));
    expect(scheme.code).toBe("VALIDATION");
    expect(scheme.message).toMatch(/must start with postgres:\/\/ or postgresql:\/\/, not mysql:/);
    expect(oneLine(scheme)).not.toContain("s3cret");
    expect((await failureOf(openPgStore({ url: "" }))).code).toBe("VALIDATION");
  });

  it("names a wrong password as an authentication failure, without the password, and writes nothing", async () => {
    const url = await server.createDatabase();
    const wrong = new URL(url);
    wrong.password = "not-the-password";
    const failure = await failureOf(openPgStore({ url: wrong.toString() }));
    expect(failure.code).toBe("INTERNAL");
    expect(failure.message).toBe(
      `Cannot connect to PostgreSQL at 127.0.0.1:${String(server.port)}: password authentication failed for user "postgres".`,
    );
    expect(failure.hint).toMatch(/user and password in PROMENADE_DATABASE_URL/);
    expect(oneLine(failure)).not.toContain("not-the-password");
    expect(oneLine(failure)).not.toContain(server.password);
    expect(await tables(url)).toEqual([]);
  });

  it("names an unknown database and how to create it", async () => {
    const url = new URL(server.url);
    url.pathname = "/no_such_db";
    const failure = await failureOf(openPgStore({ url: url.toString() }));
    expect(failure.code).toBe("INTERNAL");
    expect(failure.message).toBe(
      `Cannot connect to PostgreSQL at 127.0.0.1:${String(server.port)}: database "no_such_db" does not exist.`,
    );
    expect(failure.hint).toBe(
      "Create it (createdb no_such_db) or fix the database name in PROMENADE_DATABASE_URL.",
    );
  });

  it("names a refused connection and says to check the URL and the server", async () => {
    const port = await closedPort();
    const failure = await failureOf(
      openPgStore({ url: `postgres://postgres:s3cret@127.0.0.1:${String(port)}/promenade` }),
    );
    expect(failure.code).toBe("INTERNAL");
    expect(failure.message).toBe(
      `Cannot connect to PostgreSQL at 127.0.0.1:${String(port)}: connection refused.`,
    );
    expect(failure.hint).toBe("Check PROMENADE_DATABASE_URL and that the server is running.");
  });

  it("gives up on a host that does not answer after connectTimeoutMs", async () => {
    const url = await server.createDatabase();
    const started = Date.now();
    const [failure] = await Promise.all([
      failureOf(openPgStore({ url, connectTimeoutMs: 500 })),
      server.pause(2_000),
    ]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(failure.code).toBe("INTERNAL");
    expect(failure.message).toBe(
      `Cannot connect to PostgreSQL at 127.0.0.1:${String(server.port)}: no answer before the connection timeout.`,
    );
  });
});

describe("a PostgreSQL server that goes away", () => {
  it("fails ping within the connect timeout while the server does not answer, and passes again after", async () => {
    const url = await server.createDatabase();
    const store: PgStore = await openPgStore({ url, connectTimeoutMs: 2_000 });
    try {
      await store.ping();
      const paused = server.pause(5_000);
      const started = Date.now();
      const failure = await failureOf(store.ping());
      expect(Date.now() - started).toBeLessThan(4_500);
      expect(failure.code).toBe("INTERNAL");
      expect(failure.message).toBe(
        `PostgreSQL at 127.0.0.1:${String(server.port)} is unavailable: no answer within 2000 ms.`,
      );
      await paused;
      await store.ping();
    } finally {
      await store.close();
    }
  });

  it("fails calls with a clear INTERNAL error while it is down and recovers by itself, losing nothing committed", async () => {
    const url = await server.createDatabase();
    const store: PgStore = await openPgStore({ url, connectTimeoutMs: 2_000 });
    try {
      const workflow = await store.upsertWorkflow({
        slug: "echo",
        manifest: testManifest("echo"),
        program: "export {}",
      });
      const { run } = await store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
      const phase = (cursor: number) => ({
        cursor,
        event: {
          kind: "phase" as const,
          name: "step",
          id: String(cursor),
          runId: run.id,
          turnId: run.id,
          seq: cursor,
          t: 0,
        },
      });
      await store.appendEvents(run.id, [phase(2), phase(3)]);

      await server.stop();
      const down = Date.now();
      for (const call of [
        () => store.ping(),
        () => store.getRun(run.id),
        () => store.appendEvents(run.id, [phase(4)]),
        () => store.createRun({ workflowId: workflow.id, triggerKind: "manual" }),
      ]) {
        const failure = await failureOf(call());
        expect(failure.code).toBe("INTERNAL");
        expect(failure.message).toMatch(
          new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:${String(server.port)} is unavailable: `),
        );
        expect(failure.hint).toMatch(/reconnects by itself|server is running/);
      }
      // Stay down for five seconds in all.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 5_000 - (Date.now() - down))));
      await server.start();

      await store.ping();
      await store.appendEvents(run.id, [phase(4)]);
      expect((await store.listEvents(run.id)).map((row) => row.cursor)).toEqual([1, 2, 3, 4]);
      expect((await store.getRun(run.id))?.status).toBe("queued");
    } finally {
      await store.close();
    }
  });

  it("takes its one-engine lock again once a restarted server is back, so a second engine is still refused", async () => {
    const url = await server.createDatabase();
    const store: PgStore = await openPgStore({ url, connectTimeoutMs: 2_000 });
    try {
      await server.restart();
      // The restart ended the lock's session; the store takes the lock again by itself.
      const deadline = Date.now() + 15_000;
      while (!(await lockHeld(url))) {
        if (Date.now() > deadline) throw new Error("the lock was not taken again in time");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const refused = await failureOf(openPgStore({ url, connectTimeoutMs: 2_000 }));
      expect(refused.code).toBe("CONFLICT");
      expect(refused.message).toMatch(/is already in use by another Promenade engine/);
      await store.ping();
    } finally {
      await store.close();
    }
  });
});

/** True when the one-engine lock of the database at `url` is held by a store's lock session. */
async function lockHeld(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'promenade (engine lock)'
          AND a.datname = current_database()`,
    );
    return rows[0]?.n === 1;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
