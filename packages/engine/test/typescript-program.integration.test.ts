/**
 * `deployWorkflow` / `runOnce` with TypeScript source: the program is compiled at deploy and the
 * run completes with its output. Before, the source was stored verbatim and every run failed in
 * the run process with "Missing initializer in const declaration".
 */
import { afterEach, describe, expect, it } from "vitest";
import { makeEngine, tempDir } from "./helpers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const TYPED = [
  'import { input, output } from "@promenade/workflow";',
  'import type { WorkflowMeta } from "@promenade/workflow";',
  "",
  "interface Args {",
  "  name?: string;",
  "}",
  "",
  'export const meta = { slug: "typed", triggers: [{ kind: "manual" }] } satisfies WorkflowMeta;',
  "const args = (input ?? {}) as Args;",
  'const greeting: string = `hello, ${args.name ?? "world"}`;',
  "output({ greeting });",
  "",
].join("\n");

describe("TypeScript programs", () => {
  it("runOnce compiles a TypeScript program and the run completes", async () => {
    const dir = tempDir();
    const { engine } = makeEngine(dir.path);
    cleanups.push(() => {
      engine.close();
      dir.cleanup();
    });
    const run = await engine.runOnce({ program: TYPED, input: { name: "Ada" } });
    expect(run.error).toBeNull();
    expect(run.status).toBe("completed");
    expect(run.output).toEqual({ greeting: "hello, Ada" });
  });

  it("deployWorkflow with a .ts file name stores JavaScript that runs", async () => {
    const dir = tempDir();
    const { engine } = makeEngine(dir.path);
    cleanups.push(() => {
      engine.close();
      dir.cleanup();
    });
    const row = engine.deployWorkflow({ program: TYPED, filename: "typed.ts" });
    expect(row.program).not.toContain("interface Args");
    const run = await engine.waitForRun(engine.startRun("typed").id);
    expect(run.status).toBe("completed");
    expect(run.output).toEqual({ greeting: "hello, world" });
  });
});
