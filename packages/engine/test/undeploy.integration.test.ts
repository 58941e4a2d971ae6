/**
 * Undeploying a workflow end to end, with real run processes, on SQLite and on PostgreSQL: the
 * workflow leaves the list, new runs of it fail `NOT_FOUND`, its crons stop firing, its runs and
 * versions stay readable, a run already started finishes on its version, and a redeploy of the
 * slug re-activates it under the same id with its versions continuing. What breaks if this
 * fails: an undeploy that loses run history, or one that leaves a cron or a start path live.
 */
import { join } from "node:path";
import { createTestDatabase } from "@promenade/store/testing";
import { wallClock } from "@promenade/workflow/clock";
import type { Clock } from "@promenade/workflow/clock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine } from "../src/index.ts";
import {
  CHILD_ENTRY,
  makeEngine,
  manualMeta,
  program,
  childProcessEnv,
  tempDir,
} from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
const engines: Engine[] = [];

beforeEach(() => {
  dir = tempDir();
});

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

/** Parks on a human-input gate, then outputs its tag and the answer. */
const gated = (tag: string): string =>
  program(
    manualMeta("gated"),
    `output({ tag: "${tag}", answer: await humanInput({ key: "go", prompt: "Go?", input: { kind: "text" } }) });`,
    { names: ["humanInput", "output"] },
  );

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached within 20 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The same scenario on either database, through the promise-returning methods. */
async function undeployScenario(engine: Engine): Promise<void> {
  const workflow = await engine.deploy({ program: gated("v1") });
  await engine.deploy({ program: program(manualMeta("other"), "output(1);") });
  const inFlight = await engine.createRun("gated");
  await until(
    async () => (await engine.storeAsync.getRun(inFlight.id))?.status === "awaiting_input",
  );

  const undeployed = await engine.undeploy("gated");
  expect(undeployed).toMatchObject({ id: workflow.id, slug: "gated" });
  expect(typeof undeployed.undeployedAt).toBe("number");
  expect((await engine.storeAsync.listWorkflows()).map((w) => w.slug)).toEqual(["other"]);
  expect(await engine.storeAsync.getWorkflow("gated")).toBeNull();
  expect(await codeOf(() => engine.createRun("gated"))).toBe("NOT_FOUND");
  expect(await codeOf(() => engine.undeploy("gated"))).toBe("NOT_FOUND");
  expect(await codeOf(() => engine.undeploy("never-deployed"))).toBe("NOT_FOUND");

  // The run started before the undeploy finishes on its version, and stays readable.
  await engine.respondToInputAsync(inFlight.id, "go", { value: "yes" });
  expect(await engine.waitForRun(inFlight.id)).toMatchObject({
    status: "completed",
    output: { tag: "v1", answer: { value: "yes" } },
    version: 1,
  });
  expect((await engine.storeAsync.listEvents(inFlight.id)).length).toBeGreaterThan(3);
  expect((await engine.storeAsync.getWorkflowById(workflow.id))?.undeployedAt).toBe(
    undeployed.undeployedAt,
  );

  // Redeploy: same id, versions continue, new runs take the new version.
  const back = await engine.deploy({ program: gated("v2") });
  expect(back).toMatchObject({ id: workflow.id, undeployedAt: null });
  expect((await engine.storeAsync.listWorkflows()).map((w) => w.slug)).toEqual(["gated", "other"]);
  const fresh = await engine.createRun("gated");
  expect(fresh.version).toBe(2);
  await until(async () => (await engine.storeAsync.getRun(fresh.id))?.status === "awaiting_input");
  await engine.respondToInputAsync(fresh.id, "go", { value: "again" });
  expect(await engine.waitForRun(fresh.id)).toMatchObject({
    status: "completed",
    output: { tag: "v2", answer: { value: "again" } },
  });
  expect((await engine.storeAsync.listWorkflowVersions(workflow.id)).map((v) => v.number)).toEqual([
    2, 1,
  ]);
}

describe("undeploy", () => {
  it("on SQLite: hides the workflow, refuses new runs, keeps its runs, and a redeploy re-activates it", async () => {
    const { engine } = makeEngine(dir.path);
    engines.push(engine);
    await undeployScenario(engine);
    // The synchronous face agrees.
    expect(engine.undeployWorkflow("other")).toMatchObject({ slug: "other" });
    expect(engine.store.listWorkflows().map((w) => w.slug)).toEqual(["gated"]);
  });

  it("on PostgreSQL: the same", async () => {
    const db = await createTestDatabase();
    try {
      const engine = await Engine.open({
        dataDir: join(dir.path, "data"),
        databaseUrl: db.url,
        cancelGraceMs: 250,
        childEntryPath: CHILD_ENTRY,
        processEnv: childProcessEnv(),
        log: () => undefined,
      });
      engines.push(engine);
      await undeployScenario(engine);
      expect(await codeOf(() => engine.undeployWorkflow("other"))).toBe("UNSUPPORTED");
      await engine.closeGracefully({ childGraceMs: 500 });
      engines.splice(engines.indexOf(engine), 1);
    } finally {
      await db.drop();
    }
  });

  it("an undeployed workflow's cron stops firing, and fires again once redeployed", () => {
    let nowMs = Date.UTC(2026, 5, 10, 12, 0, 0);
    // Time moves by hand; sleeps are real timers so run processes still progress.
    const clock: Clock = {
      now: () => nowMs,
      sleep: (ms, signal) => wallClock.sleep(ms, signal),
    };
    const { engine } = makeEngine(dir.path, { clock });
    engines.push(engine);
    const cron = program({ slug: "minutely", triggers: [{ kind: "cron", expr: "* * * * *" }] }, "");
    engine.deployWorkflow({ program: cron });
    engine.tick();
    nowMs += 60_000;
    engine.tick();
    expect(engine.store.listRuns()).toHaveLength(1);
    engine.undeployWorkflow("minutely");
    nowMs += 180_000;
    engine.tick();
    expect(engine.store.listRuns()).toHaveLength(1);
    engine.deployWorkflow({ program: cron });
    nowMs += 60_000;
    engine.tick();
    expect(engine.store.listRuns().length).toBeGreaterThan(1);
  });
});
