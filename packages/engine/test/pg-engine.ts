/**
 * Engines on a throwaway PostgreSQL database for the integration tests that run a scenario on
 * PostgreSQL through the promise-returning twins: one database and one data dir per test, any
 * number of engines opened over them in turn (an engine restart is `close()` then `open()`), and
 * the async counterparts of the SQLite helpers (statuses, event kinds, waiting on a status or a
 * pending gate). Every wait polls observable state with a deadline; none sleeps to race a process.
 */
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@promenade/store/testing";
import { Engine } from "../src/index.ts";
import type { EngineOptions, RunRow } from "../src/index.ts";
import { CHILD_ENTRY, childProcessEnv, manualMeta, program, tempDir } from "./helpers.ts";

/** One test's database, data dir and the engines opened over them. */
export interface PgEngines {
  /** A new engine over the test's database and data dir. */
  open(overrides?: Partial<EngineOptions>): Promise<Engine>;
  /** Close every engine still open, drop the database, remove the data dir. */
  cleanup(): Promise<void>;
}

/** A fresh database and data dir for one test. */
export async function pgEngines(): Promise<PgEngines> {
  const database: TestDatabase = await createTestDatabase();
  const dir = tempDir();
  const engines: Engine[] = [];
  return {
    async open(overrides = {}) {
      const engine = await Engine.open({
        dataDir: join(dir.path, "data"),
        databaseUrl: database.url,
        cancelGraceMs: 250,
        childEntryPath: CHILD_ENTRY,
        processEnv: childProcessEnv(),
        log: () => undefined,
        ...overrides,
      });
      engines.push(engine);
      return engine;
    },
    async cleanup() {
      for (const engine of engines.splice(0)) await engine.closeGracefully({ childGraceMs: 500 });
      await database.drop();
      dir.cleanup();
    },
  };
}

/** Deploy `body` as a manual workflow `slug` importing `names` from the SDK. */
export async function deployAsync(
  engine: Engine,
  slug: string,
  body: string,
  names: string[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  await engine.deploy({ program: program(manualMeta(slug, extra), body, { names }) });
}

/** The `run_status` sequence of a run's stored events. */
export async function statusesAsync(engine: Engine, runId: string): Promise<string[]> {
  return (await engine.storeAsync.listEvents(runId)).flatMap((row) =>
    row.event.kind === "run_status" ? [row.event.status] : [],
  );
}

/** The event kinds of a run's stored events, in order. */
export async function kindsAsync(engine: Engine, runId: string): Promise<string[]> {
  return (await engine.storeAsync.listEvents(runId)).map((row) => row.event.kind);
}

/** Resolves once `check` holds (polled every 20 ms; fails after 20 s). */
export async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves once the run's status is `status`. */
export async function statusIs(
  engine: Engine,
  runId: string,
  status: RunRow["status"],
): Promise<void> {
  await until(
    `run ${runId} ${status}`,
    async () => (await engine.storeAsync.getRun(runId))?.status === status,
  );
}

/** Resolves once the run is held `awaiting_input` on its pending request `key`. */
export async function pendingKeyAsync(engine: Engine, runId: string, key: string): Promise<void> {
  await until(`run ${runId} waits on "${key}"`, async () => {
    const pending = await engine.listInputRequestsAsync({ runId, statuses: ["pending"] });
    return (
      pending[0]?.key === key &&
      (await engine.storeAsync.getRun(runId))?.status === "awaiting_input"
    );
  });
}

/** The error a promise rejects with (a resolution fails the test). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a rejection");
}
