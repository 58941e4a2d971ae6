// The built package, loaded by real Node without the source condition. What would break: tsup
// duplicating the run-state module into each entry (a host installed through `./runtime` would
// then be invisible to `agent()` from `.`), live bindings frozen into copies by the bundler, or
// the lean entry starting to load zod / the TypeScript compiler on every run.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

/**
 * Runs an ES module snippet in a fresh Node from the package directory; returns its JSON. Stderr
 * must stay empty: in a run it would land in the run log (e.g. a require(esm) warning).
 */
async function node(script: string): Promise<unknown> {
  const { stdout, stderr } = await run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: packageDir,
  });
  expect(stderr).toBe("");
  return JSON.parse(stdout) as unknown;
}

// Records every module URL Node resolves, so the child can report what an import pulled in.
const recordLoads = `
import { registerHooks } from "node:module";
const loaded = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.push(r.url); return r; } });
const pulled = (name) => loaded.some((url) => url.includes("/node_modules/" + name + "/"));
`;

describe("built dist", () => {
  it("has been built", () => {
    expect(existsSync(new URL("../dist/index.js", import.meta.url))).toBe(true);
  });

  it("shares one run state between '.' and './runtime'", async () => {
    const result = await node(`
      import * as runtime from "@promenade/workflow/runtime";
      const sdk = await import("@promenade/workflow");
      const before = await sdk.agent("hi").catch((e) => e.message);
      runtime.installHost({
        agent: async (prompt, opts) => "host saw " + prompt + " " + String(opts),
        callWorkflow: async () => null, sleep: async () => {}, getSecret: async () => "",
      });
      runtime.installInput({ ticket: 42 });
      runtime.installConfig({ model: "x/y" });
      const answer = await sdk.agent("p");
      sdk.output({ done: true });
      const later = await import("@promenade/workflow");
      console.log(JSON.stringify({
        before, answer, input: later.input, config: sdk.config, frozen: Object.isFrozen(sdk.config),
        output: runtime.takeDeclaredOutput(), host: typeof runtime.requireHost().agent,
      }));
    `);
    expect(result).toEqual({
      before: expect.stringContaining("no host installed") as unknown,
      answer: "host saw p undefined",
      input: { ticket: 42 },
      config: { model: "x/y" },
      frozen: true,
      output: { value: { done: true } },
      host: "function",
    });
  });

  it("loads neither zod nor typescript for a program until a schema is used", async () => {
    const result = await node(`${recordLoads}
      const sdk = await import("@promenade/workflow");
      await import("@promenade/workflow/runtime");
      const atImport = { zod: pulled("zod"), typescript: pulled("typescript") };
      sdk.selectChannels({ verbose: true });
      sdk.makeCursor(0, 1);
      const afterHelpers = pulled("zod");
      const parsed = sdk.runEventSchema.safeParse({
        runId: "r", turnId: "r", seq: 1, t: 0, kind: "run_status", status: "queued" }).success;
      const { z } = await import("zod");
      console.log(JSON.stringify({ atImport, afterHelpers, parsed, zodAfterUse: pulled("zod"),
        sameZod: sdk.runEventSchema instanceof z.ZodType, typescript: pulled("typescript") }));
    `);
    expect(result).toEqual({
      atImport: { zod: false, typescript: false },
      afterHelpers: false,
      parsed: true,
      zodAfterUse: true,
      sameZod: true,
      typescript: false,
    });
  });

  it("serves ./extract and ./errors from dist, sharing the manifest code with '.'", async () => {
    const result = await node(`
      const { extractManifest, MetaExtractionError } = await import("@promenade/workflow/extract");
      const { MetaValidationError } = await import("@promenade/workflow");
      const { isEngineError, EngineError } = await import("@promenade/workflow/errors");
      const manifest = extractManifest('export const meta = { name: "d", triggers: [{ kind: "manual" }] } as const;');
      let invalid; try { extractManifest('export const meta = { slug: "d", triggers: [] }'); } catch (e) { invalid = e instanceof MetaValidationError; }
      let bad; try { extractManifest('export const meta = { slug: x }'); } catch (e) { bad = e instanceof MetaExtractionError && e.message; }
      console.log(JSON.stringify({ slug: manifest.slug, invalid, bad, engine: isEngineError(new EngineError("INTERNAL", "m")) }));
    `);
    expect(result).toEqual({
      slug: "d",
      invalid: true,
      bad: expect.stringMatching(/^index\.ts:1:29 — /) as unknown,
      engine: true,
    });
  });
});
