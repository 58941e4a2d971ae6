/**
 * With `runNiceness`, run processes run at a lower CPU priority than the engine (niceness added),
 * so busy runs do not starve the engine that serves the API and schedules them; by default (0)
 * they run at the engine's priority; pooled processes are started the same way. What breaks if
 * this fails: an engine that stops answering while many runs boot and work, or runs that yield to
 * the whole machine when nobody asked for it.
 */
import { getPriority } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import type { Engine } from "../src/index.ts";
import { makeEngine, manualMeta, program, tempDir } from "./helpers.ts";

const PRIORITY_PROGRAM = program(
  manualMeta("priority"),
  'import { getPriority } from "node:os";\noutput(getPriority());',
);

let dir: ReturnType<typeof tempDir>;
let engine: Engine | undefined;

afterEach(async () => {
  await engine?.closeGracefully({ childGraceMs: 500 });
  engine = undefined;
  dir.cleanup();
});

async function runPriority(overrides: Parameters<typeof makeEngine>[1]): Promise<unknown> {
  dir = tempDir();
  ({ engine } = makeEngine(dir.path, overrides));
  engine.deployWorkflow({ program: PRIORITY_PROGRAM });
  const done = await engine.waitForRun(engine.startRun("priority").id);
  expect(done.status).toBe("completed");
  return done.output;
}

describe("run process CPU priority", () => {
  it("is the engine's own by default", async () => {
    expect(await runPriority({})).toBe(getPriority());
  });

  it("is 10 below the engine's with runNiceness 10", async () => {
    expect(await runPriority({ runNiceness: 10 })).toBe(Math.min(19, getPriority() + 10));
  });

  it("follows a configured niceness, with the warm pool on too", async () => {
    expect(await runPriority({ warmPoolSize: 1, runNiceness: 5 })).toBe(
      Math.min(19, getPriority() + 5),
    );
  });

  it("refuses a niceness outside 0–19, naming the option", () => {
    dir = tempDir();
    for (const runNiceness of [-1, 20, 2.5]) {
      expect(() => makeEngine(dir.path, { runNiceness })).toThrow(/Engine option "runNiceness"/);
    }
  });
});
