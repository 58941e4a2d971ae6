/**
 * Run processes are created off `startRun`'s path, a bounded number booting at once: with one
 * process booting at a time, a burst of runs all complete, and a run that has booted (here: one
 * that sleeps) does not keep the next run's process from being created.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../src/index.ts";
import {
  kinds,
  makeEngine,
  manualMeta,
  program,
  statuses,
  tempDir,
  waitForStatus,
} from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let engine: Engine;

beforeAll(() => {
  dir = tempDir();
  ({ engine } = makeEngine(dir.path, { maxBooting: 1 }));
  engine.deployWorkflow({ program: program(manualMeta("echo"), "output(input);") });
  engine.deployWorkflow({
    program: program(manualMeta("sleeper"), 'phase("asleep");\nawait sleep(600_000);'),
  });
});

afterAll(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

describe("booting run processes one at a time (maxBooting 1)", () => {
  it("completes every run of a burst with its own input", async () => {
    const ids = Array.from(
      { length: 8 },
      (_, index) => engine.startRun("echo", { input: index }).id,
    );
    const rows = await Promise.all(ids.map((id) => engine.waitForRun(id)));
    expect(rows.map((row) => row.status)).toEqual(ids.map(() => "completed"));
    expect(rows.map((row) => row.output)).toEqual(ids.map((_, index) => index));
  });

  it("creates the next run's process while a booted run sleeps", async () => {
    const sleeper = engine.startRun("sleeper").id;
    await waitForStatus(engine, sleeper, "running", 60_000);
    // Its process booted and runs the program: it emitted its phase.
    const deadline = Date.now() + 60_000;
    while (!kinds(engine, sleeper).includes("phase") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(kinds(engine, sleeper)).toContain("phase");
    const echoed = await engine.waitForRun(engine.startRun("echo", { input: "next" }).id);
    expect(echoed.output).toBe("next");
    expect(engine.store.getRun(sleeper)?.status).toBe("running");
    await engine.cancelRun(sleeper);
    expect(statuses(engine, sleeper).at(-1)).toBe("cancelled");
  });
});
