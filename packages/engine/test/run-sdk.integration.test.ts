/**
 * Run processes load the SDK bundled with the run-process entry (`dist/run/sdk`): every SDK import
 * name and bundled subpath a program uses resolves there — one module instance with the runtime,
 * so the host it installs is the one the program's primitives call — while the subpaths that are
 * not bundled (`extract`, `testing`) still load from the installed SDK.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { CHILD_ENTRY, makeEngine, tempDir } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const SDK_DIR = join(CHILD_ENTRY, "..", "sdk");

const PROGRAM = `
import { output, runtime } from "@boardwalk-labs/workflow";
import * as promenade from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import * as boardwalkErrors from "@boardwalk-labs/workflow/errors";
import { installInput } from "@promenade/workflow/runtime";
import { extractManifest } from "@promenade/workflow/extract";

export const meta = { slug: "run-sdk", triggers: [{ kind: "manual" }] };

output({
  index: import.meta.resolve("@promenade/workflow"),
  boardwalk: import.meta.resolve("@boardwalk-labs/workflow"),
  errors: import.meta.resolve("@promenade/workflow/errors"),
  runtimeDoor: import.meta.resolve("@boardwalk-labs/workflow/runtime"),
  sameModule: promenade.output === output && boardwalkErrors.EngineError === EngineError,
  runId: runtime.runId,
  seam: typeof installInput,
  extract: extractManifest("export const meta = { slug: 'x', triggers: [{ kind: 'manual' }] };").slug,
});
`;

describe("the SDK a run process loads", () => {
  it("is the one bundled with its runtime, under both import names", async () => {
    const dir = tempDir();
    const { engine } = makeEngine(dir.path);
    cleanups.push(async () => {
      await engine.closeGracefully({ childGraceMs: 500 });
      dir.cleanup();
    });
    engine.deployWorkflow({ program: PROGRAM });
    const { id } = engine.startRun("run-sdk");
    const run = await engine.waitForRun(id);
    expect(run.error).toBeNull();
    const file = (name: string): string => pathToFileURL(join(SDK_DIR, name)).href;
    expect(run.output).toEqual({
      index: file("index.js"),
      boardwalk: file("index.js"),
      errors: file("errors.js"),
      runtimeDoor: file("runtime.js"),
      sameModule: true,
      runId: id,
      seam: "function",
      extract: "x",
    });
  });
});
