/**
 * One engine per PostgreSQL database: while a store holds a database, a second store opening it
 * is refused with `CONFLICT` (a clear message and hint, like SQLite's refusal of a second
 * process), and the hold ends with `close()` or with the holder's process, even one killed by
 * SIGKILL. `exclusive: false` opts out. Without this, two engines would run the same runs twice.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/pg-database.ts";
import { openPgStore } from "./open.ts";
import type { PgStore } from "./store.ts";

type Failure = { code?: string; message: string; hint?: string };

/** The lock's key (the ASCII bytes of "promenad"). */
const LOCK_KEY = "8102661195236794724";

const holdOpen = fileURLToPath(new URL("../../test/children/hold-open-pg.ts", import.meta.url));
const stores: PgStore[] = [];
const databases: TestDatabase[] = [];
const children = new Set<ChildProcess>();

afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all([...children].map(exited));
  children.clear();
  for (const store of stores.splice(0)) await store.close();
  for (const db of databases.splice(0)) await db.drop();
});

async function database(): Promise<string> {
  const db = await createTestDatabase();
  databases.push(db);
  return db.url;
}

async function open(url: string, exclusive?: boolean): Promise<PgStore> {
  const store = await openPgStore({ url, ...(exclusive === undefined ? {} : { exclusive }) });
  stores.push(store);
  return store;
}

async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  try {
    const store = await promise;
    stores.push(store as PgStore);
  } catch (error) {
    return error as Failure;
  }
  throw new Error("expected a rejection");
}

function holder(url: string): ChildProcess {
  const child = spawn(process.execPath, [holdOpen, url], { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  return child;
}

/** Resolves with the first stdout line, rejects if the child exits first. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const end = out.indexOf("\n");
      if (end >= 0) resolve(out.slice(0, end));
    });
    child.on("exit", (code) =>
      reject(new Error(`child exited ${String(code)} before a line: ${out}${err}`)),
    );
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

/** Retries `attempt` every 100 ms for up to 15 s until it resolves. */
async function eventually<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function expectRefusal(failure: Failure, url: string): void {
  const { host, pathname } = new URL(url);
  expect(failure.code).toBe("CONFLICT");
  expect(failure.message).toContain(`Database ${host}${pathname} is already in use`);
  expect(failure.message).toMatch(/another Promenade engine \(held by PostgreSQL backend \d+/);
  expect(failure.message).toMatch(/two engines on one database are unsupported\.$/);
  expect(failure.hint).toMatch(/^Stop the other engine using this database/);
  expect(`${failure.message} ${failure.hint ?? ""}`).not.toContain(new URL(url).password);
}

describe("one engine per PostgreSQL database", () => {
  it("refuses a second store while the first is open, and admits it once the first closed", async () => {
    const url = await database();
    const first = await open(url);
    const started = Date.now();
    expectRefusal(await failureOf(openPgStore({ url })), url);
    // The refusal waits a moment for a holder that just died, not longer.
    expect(Date.now() - started).toBeLessThan(10_000);
    // The first store is untouched by the refusal.
    await first.ping();
    await first.close();
    const second = await open(url);
    await second.ping();
  });

  it("lets stores opened with exclusive: false share the database, without taking the lock", async () => {
    const url = await database();
    const shared = await open(url, false);
    const engine = await open(url);
    const tool = await open(url, false);
    await Promise.all([shared.ping(), engine.ping(), tool.ping()]);
    expectRefusal(await failureOf(openPgStore({ url })), url);
    await expect(openPgStore({ url, exclusive: "yes" as never })).rejects.toMatchObject({
      code: "VALIDATION",
      message: "openPgStore(): exclusive must be a boolean.",
    });
  });

  it("reports in ping when its lock was lost and another session took it, and takes it back once free", async () => {
    const url = await database();
    const store = await open(url);
    const other = new pg.Client({ connectionString: url });
    other.on("error", () => undefined);
    await other.connect();
    try {
      // End the store's lock session and take the lock in the same breath (the store waits a
      // second before it tries again).
      await other.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'promenade (engine lock)' AND datname = current_database()`,
      );
      await other.query("SELECT pg_advisory_lock($1::bigint)", [LOCK_KEY]);
      const lost = await eventually(() =>
        store.ping().then(
          () => {
            throw new Error("ping still passes");
          },
          (error: unknown) => error as Failure,
        ),
      );
      expect(lost.code).toBe("CONFLICT");
      expect(lost.message).toMatch(
        /^This store lost its hold on database .* and another Promenade engine now holds it/,
      );
    } finally {
      await other.end();
    }
    // The other session ended: the store takes the lock back and ping passes again.
    await eventually(() => store.ping());
    expectRefusal(await failureOf(openPgStore({ url })), url);
  });

  it("is refused in another process, and freed when the holding process is killed with SIGKILL", async () => {
    const url = await database();
    const first = holder(url);
    expect(await firstLine(first)).toBe("ready");
    expectRefusal(await failureOf(openPgStore({ url })), url);

    first.kill("SIGKILL");
    await exited(first);
    // Nothing stale: the killed process's session ends and its hold with it.
    const store = await open(url);
    const second = holder(url);
    expect(await firstLine(second)).toMatch(
      /^error CONFLICT Database .* is already in use by another Promenade engine/,
    );
    expect(await exited(second)).toBe(3);
    await store.close();
    const third = holder(url);
    expect(await firstLine(third)).toBe("ready");
  });
});
