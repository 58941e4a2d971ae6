/**
 * Workflow versions end to end, with real child processes (on SQLite, and the restart case on
 * PostgreSQL too): a run executes the version
 * it was created on in every pass — after a redeploy, across a crash restart and across an
 * engine restart — while new runs take the new version, and a run can be started on a chosen
 * version. Each program outputs its own version tag, so the output proves which program ran.
 * What breaks if this fails: a run resumed after a deploy silently switching to code it never
 * started with (half the work done by one program, half by another).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openAiText, startFakeOpenAiProvider } from "@promenade/agent/testing";
import { createTestDatabase } from "@promenade/store/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine } from "../src/index.ts";
import {
  CHILD_ENTRY,
  makeEngine,
  manualMeta,
  program,
  childProcessEnv,
  statuses,
  tempDir,
  waitForStatus,
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

function open(overrides: Parameters<typeof makeEngine>[1] = {}): Engine {
  const { engine } = makeEngine(dir.path, overrides);
  engines.push(engine);
  return engine;
}

const META = manualMeta("versioned");
/** Sleeps long enough to be redeployed under, then outputs its tag. */
const V1 = program(META, 'await sleep(2500);\noutput("v1");');
const V2 = program(META, 'output("v2");');

describe("workflow versions", () => {
  it("a run sleeping through a redeploy and an engine restart completes on the program it started with", async () => {
    const a = open();
    const workflow = a.deployWorkflow({ program: V1 });
    const { id, version } = a.startRun("versioned");
    expect(version).toBe(1);
    await waitForStatus(a, id, "running");
    a.deployWorkflow({ program: V2 });
    a.close();

    const b = open();
    expect(b.start().resumed).toContain(id);
    const resumed = await b.waitForRun(id);
    expect(resumed).toMatchObject({ status: "completed", output: "v1", version: 1 });
    // Two passes: the first interrupted by the restart, the second on the same version.
    expect(statuses(b, id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "completed",
    ]);

    const fresh = b.startRun("versioned");
    expect(fresh.version).toBe(2);
    expect(await b.waitForRun(fresh.id)).toMatchObject({ status: "completed", output: "v2" });

    const versions = b.store.listWorkflowVersions(workflow.id);
    expect(versions.map((v) => v.number)).toEqual([2, 1]);
    expect(versions[0]?.hash).not.toBe(versions[1]?.hash);
    expect(b.store.getWorkflowVersion(workflow.id, 1)?.program).toBe(V1);
  });

  it("a run restarted after a redeploy that changed skills reads its own version's skills", async () => {
    const provider = await startFakeOpenAiProvider();
    try {
      const withProvider = {
        env: { FAKE_PROVIDER_KEY: "sk-fake-provider-0001" },
        inference: {
          default_provider: "fake",
          default_model: "gpt-4o-mini",
          providers: { fake: { base_url: provider.baseUrl, api_key_env: "FAKE_PROVIDER_KEY" } },
        },
      };
      const skilled = program(
        META,
        "await sleep(2500);\noutput(await agent('follow the runbook', { skills: ['ops'] }));",
        { names: ["agent", "output", "sleep"] },
      );
      provider.enqueue(openAiText("old done"), openAiText("new done"));
      const a = open(withProvider);
      const workflow = a.deployWorkflow({ program: skilled, skills: { ops: "Runbook A." } });
      const { id } = a.startRun("versioned");
      await waitForStatus(a, id, "running");
      a.deployWorkflow({ program: skilled, skills: { ops: "Runbook B." } });
      expect(readFileSync(join(dir.path, "skills", workflow.id, "ops.md"), "utf8")).toBe(
        "Runbook B.",
      );
      a.close();

      const b = open(withProvider);
      expect(b.start().resumed).toContain(id);
      expect(await b.waitForRun(id)).toMatchObject({
        status: "completed",
        output: "old done",
        version: 1,
      });
      expect(provider.requests).toHaveLength(1);
      expect(provider.requests[0]!.rawBody).toContain("Runbook A.");
      expect(provider.requests[0]!.rawBody).not.toContain("Runbook B.");

      const fresh = b.startRun("versioned");
      expect(fresh.version).toBe(2);
      expect(await b.waitForRun(fresh.id)).toMatchObject({
        status: "completed",
        output: "new done",
      });
      expect(provider.requests).toHaveLength(2);
      expect(provider.requests[1]!.rawBody).toContain("Runbook B.");
      expect(provider.requests[1]!.rawBody).not.toContain("Runbook A.");
    } finally {
      await provider.close();
    }
  });

  it("a crash restart after a redeploy runs the run's version again", async () => {
    const marker = join(dir.path, "crashed-once");
    const crashing = program(
      META,
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        "await sleep(1500);",
        `if (!existsSync(${JSON.stringify(marker)})) {`,
        `  writeFileSync(${JSON.stringify(marker)}, "");`,
        "  process.exit(3);",
        "}",
        'output("v1");',
      ].join("\n"),
    );
    const engine = open();
    engine.deployWorkflow({ program: crashing });
    const { id } = engine.startRun("versioned");
    await waitForStatus(engine, id, "running");
    engine.deployWorkflow({ program: V2 });
    const run = await engine.waitForRun(id);
    expect(run).toMatchObject({ status: "completed", output: "v1", version: 1, restarts: 1 });
  });

  it("starts a run on a chosen version; an unknown version is NOT_FOUND; identical redeploys add none", async () => {
    const engine = open();
    const workflow = engine.deployWorkflow({ program: V2 });
    engine.deployWorkflow({ program: V1 });
    engine.deployWorkflow({ program: V1 });
    expect(engine.store.listWorkflowVersions(workflow.id).map((v) => v.number)).toEqual([2, 1]);
    const pinned = await engine.createRun("versioned", { version: 1 });
    expect(pinned.version).toBe(1);
    expect(await engine.waitForRun(pinned.id)).toMatchObject({ output: "v2" });
    await expect(engine.createRun("versioned", { version: 9 })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "Workflow versioned has no version 9.",
    });
    expect(() => engine.startRun("versioned", { version: 0 })).toThrow(
      /version must be an integer/,
    );
  });

  it("on PostgreSQL, a run redeployed under and interrupted by an engine restart completes on its own version", async () => {
    const db = await createTestDatabase();
    const opened: Engine[] = [];
    const openPg = async (): Promise<Engine> => {
      const engine = await Engine.open({
        dataDir: join(dir.path, "data"),
        databaseUrl: db.url,
        cancelGraceMs: 250,
        childEntryPath: CHILD_ENTRY,
        processEnv: childProcessEnv(),
        log: () => undefined,
      });
      opened.push(engine);
      return engine;
    };
    try {
      const a = await openPg();
      const workflow = await a.deploy({ program: V1 });
      const { id } = await a.createRun("versioned");
      for (;;) {
        if ((await a.storeAsync.getRun(id))?.status === "running") break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await a.deploy({ program: V2 });
      await a.closeGracefully({ childGraceMs: 500 });

      const b = await openPg();
      expect((await b.startAsync()).resumed).toContain(id);
      expect(await b.waitForRun(id)).toMatchObject({
        status: "completed",
        output: "v1",
        version: 1,
      });
      const fresh = await b.createRun("versioned");
      expect(await b.waitForRun(fresh.id)).toMatchObject({ output: "v2", version: 2 });
      const versions = await b.storeAsync.listWorkflowVersions(workflow.id);
      expect(versions.map((v) => v.number)).toEqual([2, 1]);
    } finally {
      for (const engine of opened) await engine.closeGracefully({ childGraceMs: 500 });
      await db.drop();
    }
  });
});
