/**
 * Old workflow versions pruned by the retention sweep, with real run processes on SQLite and
 * PostgreSQL: once the sweep has deleted the runs outside the policy, exactly the versions that
 * are not current and that no remaining run (finished or in flight) references are gone — their
 * rows and the skills directories their runs materialized — while every other version can still
 * be listed and run. What breaks if this fails: a data dir and a versions table that grow with
 * every deploy forever, or a sweep that deletes the program a sleeping run resumes on.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createTestDatabase } from "@promenade/store/testing";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../src/index.ts";
import type { EngineOpenOptions, RunRow } from "../src/index.ts";
import { SOURCE_CHILD_ENTRY, manualMeta, program, sourceProcessEnv, tempDir } from "./helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(
  databaseUrl: string | undefined,
): Promise<{ engine: Engine; dataDir: string; logs: string[] }> {
  const dir = tempDir();
  cleanups.push(() => dir.cleanup());
  const dataDir = join(dir.path, "data");
  const logs: string[] = [];
  const options: EngineOpenOptions = {
    dataDir,
    cancelGraceMs: 250,
    childEntryPath: SOURCE_CHILD_ENTRY,
    processEnv: sourceProcessEnv(),
    log: (line) => logs.push(line),
    retention: "last 1",
    // The test sweeps on demand; the timer's first sweep must not race it.
    retentionIntervalMs: 3_600_000,
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
  };
  const engine = await Engine.open(options);
  cleanups.push(() => engine.closeGracefully({ childGraceMs: 500 }));
  return { engine, dataDir, logs };
}

/** Version `n` of the workflow: outputs its tag, after a long sleep when asked to. */
function versionOf(n: number): { program: string; skills: Record<string, string> } {
  return {
    program: program(
      manualMeta("pruned"),
      `if (input !== null && input.sleep === true) await sleep(60_000);\noutput("v${String(n)}");`,
    ),
    skills: { guide: `Guide of version ${String(n)}.` },
  };
}

async function statusOf(engine: Engine, id: string, status: RunRow["status"]): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if ((await engine.storeAsync.getRun(id))?.status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`run ${id} never reached ${status}`);
}

for (const backend of ["sqlite", "postgres"] as const) {
  describe(`version pruning on ${backend}`, () => {
    it("deletes exactly the unreferenced, non-current versions with their skills directories", async () => {
      const url = backend === "postgres" ? await createTestDatabase() : undefined;
      if (url !== undefined) cleanups.push(() => url.drop());
      const { engine, dataDir, logs } = await open(url?.url);
      await engine.startAsync();
      const skillsDir = (versionId: string): string =>
        join(dataDir, "skills", ".versions", versionId);
      // v1 and v2: one finished run each; v3: never run; v4: one finished run (the newest, kept
      // by "last 1"); v5: the current version, never run.
      const finished: Record<number, string> = {};
      for (const n of [1, 2, 3, 4, 5]) {
        await engine.deploy(versionOf(n));
        if (n === 3 || n === 5) continue;
        const run = await engine.createRun("pruned");
        expect(run.version).toBe(n);
        expect(await engine.waitForRun(run.id)).toMatchObject({
          status: "completed",
          output: `v${String(n)}`,
        });
        finished[n] = run.id;
      }
      const workflow = await engine.storeAsync.getWorkflow("pruned");
      if (workflow === null) throw new Error("workflow missing");
      const before = await engine.storeAsync.listWorkflowVersions(workflow.id);
      expect(before.map((v) => v.number)).toEqual([5, 4, 3, 2, 1]);
      const idOf = (n: number): string => before.find((v) => v.number === n)?.id ?? "";
      // A run of version 2 in flight: its version stays although its finished run goes.
      const sleeping = await engine.createRun("pruned", { version: 2, input: { sleep: true } });
      await statusOf(engine, sleeping.id, "running");
      for (const n of [1, 2, 4]) expect(existsSync(skillsDir(idOf(n)))).toBe(true);

      const report = await engine.sweepRetention();
      expect(report.errors).toEqual([]);
      expect(report.runsDeleted).toBe(2);
      expect(report.versionsDeleted).toBe(2);
      expect(await engine.storeAsync.getRun(finished[1] ?? "")).toBeNull();
      expect(await engine.storeAsync.getRun(finished[2] ?? "")).toBeNull();
      expect((await engine.storeAsync.getRun(finished[4] ?? ""))?.status).toBe("completed");
      expect(
        (await engine.storeAsync.listWorkflowVersions(workflow.id)).map((v) => v.number),
      ).toEqual([5, 4, 2]);
      expect(existsSync(skillsDir(idOf(1)))).toBe(false);
      expect(existsSync(skillsDir(idOf(2)))).toBe(true);
      expect(existsSync(skillsDir(idOf(4)))).toBe(true);
      expect(engine.retentionStats.versionsDeleted).toBe(2);
      expect(logs).toContain(
        "retention: pruned: deleted 2 old version(s) no run references (v1, v3)",
      );

      // A pruned version cannot be started again; a kept one still runs its own program.
      await expect(engine.createRun("pruned", { version: 1 })).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
      const again = await engine.createRun("pruned", { version: 4 });
      expect(await engine.waitForRun(again.id)).toMatchObject({
        status: "completed",
        output: "v4",
      });
      // Nothing more to prune while the sleeping run holds version 2.
      expect((await engine.sweepRetention()).versionsDeleted).toBe(0);
      await engine.cancelRun(sleeping.id);
    });
  });
}
