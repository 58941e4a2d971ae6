/**
 * A work dir set apart from the data dir (a cluster node's local disk beside a shared data dir):
 * a run works in `<workDir>/runs/<id>` while what other machines must read — its artifacts and
 * the workflow's durable workspace state — lands in the data dir; retention removes both.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Engine } from "../src/index.ts";
import { makeEngine, manualMeta, program, tempDir } from "./helpers.ts";

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
