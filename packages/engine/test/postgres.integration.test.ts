/**
 * The engine on PostgreSQL and the promise-returning twins on both databases: `Engine.open`
 * picks the database from the URL, refuses a bad one before creating anything, the twins
 * (`deploy`, `createRun`, `tickAsync`, `startAsync`, `pingAsync`, `storeAsync`) drive runs to
 * the end on either database, and the synchronous methods of a PostgreSQL engine throw
 * `UNSUPPORTED` naming their twin. If this breaks, embedders on PostgreSQL get no working API,
 * or a misleading error instead of the method to call.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createTestDatabase } from "@promenade/store/testing";
import type { TestDatabase } from "@promenade/store/testing";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../src/index.ts";
import type { EngineOpenOptions, PublishedEvent } from "../src/index.ts";
import { CHILD_ENTRY, manualMeta, program, childProcessEnv, tempDir } from "./helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db;
}

async function open(databaseUrl?: string): Promise<{ engine: Engine; dataDir: string }> {
  const dir = tempDir();
  cleanups.push(() => dir.cleanup());
  const dataDir = join(dir.path, "data");
  const options: EngineOpenOptions = {
    dataDir,
    cancelGraceMs: 250,
    childEntryPath: CHILD_ENTRY,
    processEnv: childProcessEnv(),
    log: () => undefined,
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
  };
  const engine = await Engine.open(options);
  cleanups.push(() => engine.closeGracefully({ childGraceMs: 500 }));
  return { engine, dataDir };
}

const ECHO = program(manualMeta("echo"), 'phase("one");\noutput({ echoed: input });');
const SLEEPER = program(manualMeta("sleeper"), "await sleep(60_000);");

for (const backend of ["sqlite", "postgres"] as const) {
  describe(`promise-returning twins on ${backend}`, () => {
    it("deploy, createRun, waitForRun, cancelRun, tickAsync, startAsync, pingAsync and storeAsync drive runs to the end", async () => {
      const url = backend === "postgres" ? (await database()).url : undefined;
      const { engine, dataDir } = await open(url);
      expect(engine.database.kind).toBe(backend);
      const seen: PublishedEvent[] = [];
      engine.onEvent((row) => seen.push(row));
      expect(await engine.startAsync()).toEqual({ resumed: [], cancelled: [] });
      await engine.pingAsync();
      const workflow = await engine.deploy({ program: ECHO });
      await engine.deploy({ program: SLEEPER });
      expect(workflow.slug).toBe("echo");
      const created = await engine.createRun("echo", { input: { n: 7 } });
      expect(created.status).toBe("queued");
      const run = await engine.waitForRun(created.id);
      expect(run.status).toBe("completed");
      expect(run.output).toEqual({ echoed: { n: 7 } });
      const events = await engine.storeAsync.listEvents(run.id);
      expect(
        events.flatMap((row) => (row.event.kind === "run_status" ? [row.event.status] : [])),
      ).toEqual(["queued", "pending", "running", "completed"]);
      // The feed delivered exactly the persisted rows, each with its workflow.
      expect(seen.filter((row) => row.runId === run.id)).toEqual(
        events.map((row) => ({ ...row, workflowId: workflow.id, workflowSlug: "echo" })),
      );
      expect(await engine.storeAsync.maxCursor(run.id)).toBe(events.at(-1)?.cursor);
      expect((await engine.storeAsync.getWorkflow("echo"))?.id).toBe(workflow.id);

      const again = await engine.createRun("echo", { idempotencyKey: "k" });
      expect((await engine.createRun("echo", { idempotencyKey: "k" })).id).toBe(again.id);
      await expect(engine.createRun("nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(engine.createRun("echo", { input: Number.NaN })).rejects.toMatchObject({
        code: "VALIDATION",
      });

      const sleeping = await engine.createRun("sleeper");
      await engine.tickAsync();
      await engine.cancelRun(sleeping.id);
      expect((await engine.storeAsync.getRun(sleeping.id))?.status).toBe("cancelled");
      expect(existsSync(join(dataDir, "runs", run.id))).toBe(true);
      expect(existsSync(join(dataDir, "promenade.db"))).toBe(backend === "sqlite");
    });
  });
}

describe("Engine.open on PostgreSQL", () => {
  it("the synchronous methods throw UNSUPPORTED naming the promise-returning twin", async () => {
    const { engine } = await open((await database()).url);
    const cases: [() => unknown, string][] = [
      [() => engine.deployWorkflow({ program: ECHO }), "engine.deploy("],
      [() => engine.startRun("echo"), 'engine.createRun("echo"'],
      [() => engine.tick(), "engine.tickAsync()"],
      [() => engine.start(), "engine.startAsync()"],
      [() => engine.ping(), "engine.pingAsync()"],
      [() => engine.store.getRun("x"), "engine.storeAsync.getRun("],
      [() => engine.store.listEvents("x"), "engine.storeAsync.listEvents("],
    ];
    for (const [call, twin] of cases) {
      expect(call).toThrow(expect.objectContaining({ code: "UNSUPPORTED" }));
      expect(call).toThrow(twin);
    }
    engine.close();
    expect(() => engine.store.getRun("x")).toThrow(/closed/);
    await expect(engine.storeAsync.getRun("x")).rejects.toThrow(/closed/);
    await expect(engine.createRun("echo")).rejects.toThrow(/closed/);
  });

  it("refuses a bad URL or an unreachable server before creating anything in dataDir", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const dataDir = join(dir.path, "data");
    await expect(Engine.open({ dataDir, databaseUrl: "mysql://u:pw@h/x" })).rejects.toMatchObject({
      code: "VALIDATION",
      message: expect.stringContaining("postgres://"),
    });
    const refused = Engine.open({ dataDir, databaseUrl: "postgres://u:secret@127.0.0.1:1/x" });
    await expect(refused).rejects.toMatchObject({
      code: "INTERNAL",
      message: expect.stringContaining("connection refused"),
    });
    await expect(refused).rejects.not.toThrow(/secret/);
    expect(existsSync(dataDir)).toBe(false);
    expect(
      () => new Engine({ dataDir, databaseUrl: "postgres://x" } as unknown as EngineOpenOptions),
    ).toThrow(/Engine\.open/);
  });
});
