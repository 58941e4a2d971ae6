/**
 * A work dir set apart from the data dir (a cluster node's local disk beside a shared data dir):
 * a run works in `<workDir>/runs/<id>` while what other machines must read — its artifacts and
 * the workflow's durable workspace state — lands in the data dir; retention removes both, and a
 * cluster node removes the local working directories of runs another node's sweep deleted.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openPgStore } from "@promenade/store/pg";
import { createTestDatabase } from "@promenade/store/testing";
import { Engine } from "../src/index.ts";
import {
  CHILD_ENTRY,
  childProcessEnv,
  makeEngine,
  manualMeta,
  program,
  tempDir,
} from "./helpers.ts";

const cleanups: (() => void)[] = [];
let engine: Engine | undefined;

afterEach(async () => {
  await engine?.closeGracefully({ childGraceMs: 500 });
  engine = undefined;
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function dirs(): { dataDir: string; workDir: string } {
  const data = tempDir("promenade-shared-");
  const work = tempDir("promenade-local-");
  cleanups.push(
    () => data.cleanup(),
    () => work.cleanup(),
  );
  return { dataDir: data.path, workDir: join(work.path, "nested", "work") };
}

describe("a work dir apart from the data dir", () => {
  it("keeps the run's working directory local and its artifacts and durable state shared", async () => {
    const { dataDir, workDir } = dirs();
    ({ engine } = makeEngine(dataDir, {
      workDir,
      retention: "last 1",
      retentionIntervalMs: 3_600_000,
    }));
    engine.deployWorkflow({
      program: program(
        manualMeta("writer", { workspace: { persist: ["state"] } }),
        [
          'import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";',
          'const before = existsSync("state/count") ? Number(readFileSync("state/count", "utf8")) : 0;',
          'mkdirSync("state", { recursive: true });',
          'writeFileSync("state/count", String(before + 1));',
          'writeFileSync("scratch.txt", "local only");',
          'await artifacts.write("report.txt", "text/plain", `count ${before + 1}`);',
          "output({ cwd: process.cwd(), count: before + 1 });",
        ].join("\n"),
      ),
    });

    const first = engine.waitForRun(engine.startRun("writer").id);
    const done = await first;
    expect(done.status).toBe("completed");
    const { cwd } = done.output as { cwd: string };
    // The program ran in its workspace under the work dir.
    expect(cwd).toBe(join(workDir, "runs", done.id, "workspace"));
    expect(readFileSync(join(cwd, "scratch.txt"), "utf8")).toBe("local only");
    expect(existsSync(join(dataDir, "runs", done.id, "workspace"))).toBe(false);

    // Its artifact is in the data dir, where any machine sharing it can serve it.
    const [artifact] = engine.store.listArtifacts(done.id);
    expect(artifact?.path).toBe(join(dataDir, "runs", done.id, "artifacts", "report.txt"));
    expect(engine.artifactsDir(done.id)).toBe(join(dataDir, "runs", done.id, "artifacts"));
    expect(readFileSync(artifact!.path, "utf8")).toBe("count 1");

    // Durable workspace state is in the data dir too: the next run continues from it.
    expect(readFileSync(join(dataDir, "persist", done.workflowId, "state", "count"), "utf8")).toBe(
      "1",
    );
    const second = await engine.waitForRun(engine.startRun("writer").id);
    expect(second.output).toMatchObject({ count: 2 });
    const runNames = (root: string): string[] =>
      readdirSync(join(root, "runs")).filter((name) => !name.startsWith("."));
    expect(runNames(workDir)).toEqual([done.id, second.id].sort());

    // Retention ("last 1") deletes the first run: its working directory and its artifacts.
    const report = await engine.sweepRetention();
    expect(report.runsDeleted).toBe(1);
    expect(runNames(workDir)).toEqual([second.id]);
    expect(runNames(dataDir)).toEqual([second.id]);
  });

  it("on a cluster, a node removes the working directories of its runs that another node's sweep deleted", async () => {
    const { dataDir, workDir } = dirs();
    const db = await createTestDatabase();
    const opened: Engine[] = [];
    const logs: string[] = [];
    const node = async (nodeId: string, work: string): Promise<Engine> => {
      const opening = await Engine.open({
        dataDir,
        workDir: work,
        databaseUrl: db.url,
        cluster: { nodeId },
        retention: "last 1",
        retentionIntervalMs: 3_600_000,
        cancelGraceMs: 250,
        childEntryPath: CHILD_ENTRY,
        processEnv: childProcessEnv(),
        log: (line) => logs.push(`${nodeId}: ${line}`),
      });
      opened.push(opening);
      await opening.startAsync();
      return opening;
    };
    const runNames = (root: string): string[] =>
      existsSync(join(root, "runs"))
        ? readdirSync(join(root, "runs")).filter((name) => !name.startsWith("."))
        : [];
    try {
      // Node a alone runs two runs: both working directories are on a's disk.
      const a = await node("a", join(workDir, "a"));
      await a.deploy({ program: program(manualMeta("writer"), 'output("done");') });
      const first = await a.waitForRun((await a.createRun("writer")).id);
      const second = await a.waitForRun((await a.createRun("writer")).id);
      expect([first.status, second.status]).toEqual(["completed", "completed"]);
      expect(runNames(join(workDir, "a"))).toEqual([first.id, second.id].sort());

      // Node b's sweep (the one it starts with, or this one) deletes the first run ("last 1");
      // b has no directory of it to remove.
      const b = await node("b", join(workDir, "b"));
      await b.sweepRetention();
      expect(b.retentionStats.runsDeleted).toBe(1);
      expect(b.retentionStats.lastSweep?.workDirsRemoved).toBe(0);
      expect(await a.storeAsync.getRun(first.id)).toBeNull();
      expect(runNames(join(workDir, "a"))).toEqual([first.id, second.id].sort());

      // Node a's sweep finds the first run gone and removes its working directory; the second
      // run's stays.
      const report = await a.sweepRetention();
      expect(report).toMatchObject({ runsDeleted: 0, workDirsRemoved: 1, errors: [] });
      expect(runNames(join(workDir, "a"))).toEqual([second.id]);
      expect(runNames(join(workDir, "b"))).toEqual([]);
      expect(logs.some((line) => line.startsWith("a: retention: removed 1 working"))).toBe(true);
    } finally {
      for (const engine of opened) await engine.closeGracefully({ childGraceMs: 500 });
      await db.drop();
    }
  });

  it("on a cluster, two nodes sweeping the same backlog at once delete each run once, without errors", async () => {
    const { dataDir } = dirs();
    const db = await createTestDatabase();
    const opened: Engine[] = [];
    try {
      // A backlog of 300 ended runs, written before any node runs.
      const store = await openPgStore({ url: db.url });
      const ids: string[] = [];
      try {
        const workflow = await store.upsertWorkflow({
          slug: "backlog",
          manifest: {
            slug: "backlog",
            triggers: [{ kind: "manual" }],
            concurrency: { mode: "unlimited" },
            runs_on: "boardwalk/linux",
            callable_by: "anyone_in_org",
          },
          program: "export {}",
        });
        for (let i = 0; i < 300; i++) {
          const { run } = await store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
          await store.commitStatus(run.id, { to: "completed", expect: ["queued"], endedAt: i + 1 });
          ids.push(run.id);
        }
      } finally {
        await store.close();
      }
      const nodes = await Promise.all(
        ["a", "b"].map(async (nodeId) => {
          const node = await Engine.open({
            dataDir,
            workDir: join(dataDir, `work-${nodeId}`),
            databaseUrl: db.url,
            cluster: { nodeId },
            retention: "last 10",
            retentionIntervalMs: 3_600_000,
            retentionBatchSize: 7,
            childEntryPath: CHILD_ENTRY,
            processEnv: childProcessEnv(),
            log: () => undefined,
          });
          opened.push(node);
          return node;
        }),
      );
      // Both start their first sweep on start; both are asked again at once.
      await Promise.all(nodes.map((node) => node.startAsync()));
      await Promise.all(nodes.map((node) => node.sweepRetention()));
      await Promise.all(nodes.map((node) => node.sweepRetention()));
      const [a, b] = nodes as [Engine, Engine];
      expect(a.retentionStats.runsDeleted + b.retentionStats.runsDeleted).toBe(290);
      for (const node of nodes) expect(node.retentionStats.lastSweep?.errors).toEqual([]);
      const left = await a.storeAsync.listRuns({ limit: 1000 });
      expect(left.map((run) => run.id).sort()).toEqual(ids.slice(-10).sort());
    } finally {
      for (const engine of opened) await engine.closeGracefully({ childGraceMs: 500 });
      await db.drop();
    }
  });

  it("refuses a work dir that cannot be created, naming the option", () => {
    const { dataDir } = dirs();
    const file = join(dataDir, "a-file");
    // A path below a regular file cannot be a directory.
    writeFileSync(file, "");
    expect(() => makeEngine(dataDir, { workDir: join(file, "work") })).toThrow(
      /Engine option "workDir"/,
    );
  });
});
