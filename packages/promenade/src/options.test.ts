/**
 * The option helpers: `--channels` lists and `--input` sources (inline JSON, @file, @-), each
 * mistake a usage error naming the fix. If this breaks, a typo silently selects nothing or a run
 * starts with the wrong input.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fakeIo } from "../test/fake-io.ts";
import { parseChannels } from "./channels-option.ts";
import { importSpecifiers, selfContained } from "./commands/deploy.ts";
import { isFileTarget } from "./commands/run.ts";
import { parseInput } from "./input-option.ts";

describe("parseChannels", () => {
  it("reads a comma list, deduplicated; absent or all means every channel", () => {
    expect(parseChannels("log, phase,log")).toEqual(["log", "phase"]);
    expect(parseChannels(undefined)).toBe("all");
    expect(parseChannels("all")).toBe("all");
    expect(() => parseChannels("logs")).toThrow('unknown channel "logs".');
    expect(() => parseChannels(",")).toThrow("--channels is empty.");
  });
});

describe("parseInput", () => {
  it("reads inline JSON, a file after @ and stdin after @-", async () => {
    const dir = mkdtempSync(join(tmpdir(), "promenade-input-"));
    writeFileSync(join(dir, "in.json"), '{"name":"Ada"}');
    const io = fakeIo({ cwd: dir, stdin: "[1,2]" });
    expect(await parseInput('{"n":1}', io)).toEqual({ n: 1 });
    expect(await parseInput("@in.json", io)).toEqual({ name: "Ada" });
    expect(await parseInput("@-", io)).toEqual([1, 2]);
    expect(await parseInput(undefined, io)).toBeUndefined();
    await expect(parseInput("@missing.json", io)).rejects.toThrow(
      /--input @missing\.json: cannot read .*ENOENT/,
    );
    await expect(parseInput("{nope", io)).rejects.toThrow(/^--input is not valid JSON: /);
  });
});

describe("run and deploy targets", () => {
  it("treats anything with a dot or a slash as a file, else a slug", () => {
    expect(["hello.ts", "./hello", "wf/hello", "a\\b"].map(isFileTarget)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(["hello", "nightly-report"].map(isFileTarget)).toEqual([false, false]);
  });

  it("uploads a file as written only when it imports nothing but the SDK and node: builtins", () => {
    const sdkOnly = [
      'import { output } from "@promenade/workflow";',
      'import type { WorkflowMeta } from "@promenade/workflow";',
      'import { readFileSync } from "node:fs";',
      'export { x } from "@boardwalk-labs/workflow/extra";',
      'const m = await import("node:path");',
    ].join("\n");
    expect(importSpecifiers(sdkOnly)).toEqual([
      "@promenade/workflow",
      "@promenade/workflow",
      "node:fs",
      "@boardwalk-labs/workflow/extra",
      "node:path",
    ]);
    expect(selfContained(sdkOnly)).toBe(true);
    expect(selfContained(`${sdkOnly}\nimport { helper } from "./helper.ts";`)).toBe(false);
    expect(selfContained(`import _ from "lodash";\n${sdkOnly}`)).toBe(false);
    expect(selfContained('import "./side-effect.js";')).toBe(false);
  });
});
