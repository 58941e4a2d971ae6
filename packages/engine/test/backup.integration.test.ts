/**
 * Online backups: `engine.backup(file)` taken while 20 runs stream events, restored into a fresh
 * data dir, opens as a working engine — every event published before the backup began is in the
 * copy, cursors strictly increase, and the runs the copy caught in flight are recovered by the boot
 * sweep and complete. Also: a backup never overwrites a file. What breaks if this fails: a backup
 * that loses acknowledged events, cannot be opened, or strands the runs it caught mid-flight.
 */
import { copyFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine, PublishedEvent } from "../src/index.ts";
import { cursorsIncrease, makeEngine, manualMeta, program, tempDir } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let restoreDir: ReturnType<typeof tempDir>;
const engines: Engine[] = [];

beforeEach(() => {
  dir = tempDir();
  restoreDir = tempDir("promenade-restore-");
});

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
  restoreDir.cleanup();
});

const STREAMER = program(
  manualMeta("streamer", { concurrency: { mode: "unlimited" } }),
  'for (let i = 0; i < 80; i++) {\n  console.log(`tick ${i}`);\n  await new Promise((r) => setTimeout(r, 50));\n}\noutput("done");',
);

describe("engine.backup", () => {
  it("a backup taken while 20 runs stream holds every acknowledged event and its runs complete after a restore", async () => {
    const { engine } = makeEngine(join(dir.path, "data"));
    engines.push(engine);
    engine.deployWorkflow({ program: STREAMER });
    engine.start();
    const seen: PublishedEvent[] = [];
    engine.onEvent((row) => seen.push(row));
    const ids = Array.from({ length: 20 }, () => engine.startRun("streamer").id);
    // Wait until every run is streaming output.
    const deadline = Date.now() + 60_000;
    while (
      !ids.every((id) =>
        seen.some((row) => row.runId === id && row.event.kind === "program_output"),
      )
    ) {
      if (Date.now() > deadline)
        throw new Error(
          `runs did not start streaming: ${JSON.stringify(ids.map((id) => engine.store.getRun(id)?.status))} ${JSON.stringify([...new Set(seen.map((r) => r.event.kind))])}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const acknowledged = seen.map((row) => `${row.runId}:${String(row.cursor)}`);
    const file = join(dir.path, "backup.db");
    expect(await engine.backup(file)).toBe(file);
    const writtenDuring = seen.length - acknowledged.length;
    // The copy was taken while the runs kept writing.
    expect(
      engine.store.listRuns().filter((run) => run.status === "running").length,
    ).toBeGreaterThan(0);
    await engine.closeGracefully({ childGraceMs: 500 });
    engines.splice(0);

    const restored = join(restoreDir.path, "data");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(restored);
    copyFileSync(file, join(restored, "promenade.db"));
    const { engine: second } = makeEngine(restored);
    engines.push(second);
    const inCopy = new Set(
      ids.flatMap((id) => second.store.listEvents(id).map((row) => `${id}:${String(row.cursor)}`)),
    );
    const missing = acknowledged.filter((key) => !inCopy.has(key));
    expect(missing).toEqual([]);
    const interrupted = ids.filter((id) => second.store.getRun(id)?.status !== "completed");
    expect(interrupted.length).toBeGreaterThan(0);
    const boot = second.start();
    for (const id of interrupted) expect(boot.resumed).toContain(id);
    for (const id of ids) {
      const run = await second.waitForRun(id);
      expect(run.status).toBe("completed");
      expect(run.output).toBe("done");
      expect(cursorsIncrease(second, id)).toBe(true);
    }
    console.log(
      `backup: ${String(acknowledged.length)} events acknowledged before the backup, ${String(writtenDuring)} published while it ran, ${String(interrupted.length)} of 20 runs recovered after the restore`,
    );
  }, 120_000);

  it("refuses to overwrite an existing file (CONFLICT) and a missing directory (VALIDATION)", async () => {
    const { engine } = makeEngine(join(dir.path, "data"));
    engines.push(engine);
    const file = join(dir.path, "taken.db");
    writeFileSync(file, "keep me");
    await expect(engine.backup(file)).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(engine.backup(join(dir.path, "nope", "b.db"))).rejects.toMatchObject({
      code: "VALIDATION",
    });
    expect(existsSync(join(dir.path, "nope"))).toBe(false);
  });
});
