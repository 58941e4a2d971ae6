/**
 * A program that throws: the run's error keeps the error's class name, its message and a stack
 * whose frames point at the author's source file and line — the TypeScript file as written, not
 * the compiled JavaScript the run process executes — with the run directory cut from the paths.
 * Before, the row held only `PROGRAM_ERROR: <message>`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { makeEngine, tempDir } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function engineInTemp(warmPoolSize = 0): ReturnType<typeof makeEngine>["engine"] {
  const dir = tempDir();
  const { engine } = makeEngine(dir.path, { warmPoolSize });
  cleanups.push(async () => {
    await engine.closeGracefully({ childGraceMs: 500 });
    dir.cleanup();
  });
  return engine;
}

// Types and an interface before the throw, so compiled and source lines differ.
const THROWING_TS = [
  /* 1 */ 'import { input } from "@promenade/workflow";',
  /* 2 */ 'import type { WorkflowMeta } from "@promenade/workflow";',
  /* 3 */ "",
  /* 4 */ "interface Args {",
  /* 5 */ "  limit: number;",
  /* 6 */ "}",
  /* 7 */ "",
  /* 8 */ "class QuotaError extends Error {",
  /* 9 */ '  override name = "QuotaError";',
  /* 10 */ "}",
  /* 11 */ "",
  /* 12 */ 'export const meta = { slug: "quota", triggers: [{ kind: "manual" }] } satisfies WorkflowMeta;',
  /* 13 */ "",
  /* 14 */ "function check(args: Args): void {",
  /* 15 */ "  const used: number = 3;",
  /* 16 */ "  if (used > args.limit) throw new QuotaError(`used ${used} of ${args.limit}`);",
  /* 17 */ "}",
  /* 18 */ "",
  /* 19 */ "check(input as Args);",
  "",
].join("\n");

describe("program error stacks", () => {
  it("a TypeScript program's error names its class, message and the .ts file's lines", async () => {
    const engine = engineInTemp();
    engine.deployWorkflow({ program: THROWING_TS, filename: "quota.ts" });
    const run = await engine.waitForRun(engine.startRun("quota", { input: { limit: 1 } }).id);
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({
      code: "PROGRAM_ERROR",
      name: "QuotaError",
      message: "used 3 of 1",
    });
    const stack = run.error?.stack ?? "";
    expect(stack.split("\n")[0]).toBe("QuotaError: used 3 of 1");
    // The throwing line, then its caller, in the source file as written.
    expect(stack).toMatch(/at check \(quota\.ts:16:\d+\)/);
    expect(stack).toMatch(/at <anonymous> \(quota\.ts:19:\d+\)$/);
    expect(stack).not.toContain("index.mjs");
    expect(stack).not.toContain("file://");
    expect(stack).not.toContain("node:internal");
    expect(stack.split("\n")).toHaveLength(3);
  });

  it("maps the stack the same way in processes taken from the warm pool", async () => {
    const engine = engineInTemp(1);
    engine.deployWorkflow({ program: THROWING_TS, filename: "quota.ts" });
    // The first run may take a process still loading; the second takes one that waited idle.
    for (let i = 0; i < 2; i++) {
      const run = await engine.waitForRun(engine.startRun("quota", { input: { limit: 1 } }).id);
      expect(run.error?.name).toBe("QuotaError");
      expect(run.error?.stack).toMatch(/at check \(quota\.ts:16:\d+\)/);
    }
  });

  it("a JavaScript program's stack names its lines; a thrown non-Error has no stack", async () => {
    const engine = engineInTemp();
    engine.deployWorkflow({
      program: [
        'export const meta = { slug: "js-throw", triggers: [{ kind: "manual" }] };',
        "",
        "const value = null;",
        "value.field;",
        "",
      ].join("\n"),
    });
    const run = await engine.waitForRun(engine.startRun("js-throw").id);
    expect(run.error).toMatchObject({ code: "PROGRAM_ERROR", name: "TypeError" });
    expect(run.error?.stack).toMatch(/index\.mjs:4:\d+\)?$/);

    engine.deployWorkflow({
      program:
        'export const meta = { slug: "str-throw", triggers: [{ kind: "manual" }] };\nthrow "plain";\n',
    });
    const plain = await engine.waitForRun(engine.startRun("str-throw").id);
    expect(plain.error).toEqual({ code: "PROGRAM_ERROR", message: "plain" });
  });

  it("redacts secret values from the stack", async () => {
    const dir = tempDir();
    const { engine } = makeEngine(dir.path, { env: { API_KEY: "stack-secret-value-42" } });
    cleanups.push(async () => {
      await engine.closeGracefully({ childGraceMs: 500 });
      dir.cleanup();
    });
    engine.deployWorkflow({
      program: [
        'import { secrets } from "@promenade/workflow";',
        'export const meta = { slug: "leaky", triggers: [{ kind: "manual" }], permissions: { secrets: [{ name: "API_KEY" }] } };',
        'const key = await secrets.get("API_KEY");',
        "throw new Error(`bad key ${key}`);",
        "",
      ].join("\n"),
    });
    const run = await engine.waitForRun(engine.startRun("leaky").id);
    expect(run.error?.stack).toBeDefined();
    expect(JSON.stringify(run.error)).not.toContain("stack-secret-value-42");
  });
});
