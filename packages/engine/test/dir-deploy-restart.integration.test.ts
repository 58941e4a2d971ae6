/**
 * A server's boot deploys its workflows dir. When nothing changed since the last boot, the scan
 * recognises every entry by its program and never loads the TypeScript compiler (most of a
 * second of CPU and ~50 MiB the process would hold for its lifetime); a changed entry is parsed
 * and deployed as before. Real engine processes on one data dir, restarted.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { childProcessEnv, manualMeta, program, tempDir } from "./helpers.ts";

const PROCESS = fileURLToPath(new URL("./fixtures/dir-deploy-process.ts", import.meta.url));

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  dir.cleanup();
});

interface Boot {
  report: { deployed: { slug: string; changed: boolean }[]; skipped: unknown[] };
  typescriptLoaded: boolean;
}

/** Each entry the boot deployed or found unchanged: `[slug, changed]`. */
function changes(boot: Boot): [string, boolean][] {
  return boot.report.deployed.map((entry) => [entry.slug, entry.changed]);
}

/** One engine process's boot over the shared data dir. */
function boot(workflows: string): Boot {
  const out = execFileSync(process.execPath, [PROCESS, join(dir.path, "data"), workflows], {
    env: childProcessEnv(),
    encoding: "utf8",
  });
  return JSON.parse(out) as Boot;
}

describe("workflows dir across restarts", () => {
  it("loads the TypeScript compiler only when an entry changed", () => {
    const workflows = join(dir.path, "workflows");
    mkdirSync(workflows);
    writeFileSync(join(workflows, "hello.mjs"), program(manualMeta("hello"), 'output("hi");'));
    writeFileSync(join(workflows, "other.mjs"), program(manualMeta("other"), "output(1);"));

    const first = boot(workflows);
    expect(changes(first)).toEqual([
      ["hello", true],
      ["other", true],
    ]);
    expect(first.typescriptLoaded).toBe(true);

    const unchanged = boot(workflows);
    expect(changes(unchanged)).toEqual([
      ["hello", false],
      ["other", false],
    ]);
    expect(unchanged.report.skipped).toEqual([]);
    expect(unchanged.typescriptLoaded).toBe(false);

    writeFileSync(join(workflows, "hello.mjs"), program(manualMeta("hello"), 'output("hey");'));
    const edited = boot(workflows);
    expect(changes(edited)).toEqual([
      ["hello", true],
      ["other", false],
    ]);
    expect(edited.typescriptLoaded).toBe(true);
  });
});
