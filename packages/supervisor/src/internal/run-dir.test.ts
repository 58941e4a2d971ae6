import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { layoutRunDir, runDirs } from "./run-dir.ts";

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function root(): string {
  const dir = mkdtempSync(join(tmpdir(), "promenade-run-dir-"));
  roots.push(dir);
  return dir;
}

describe("layoutRunDir", () => {
  it("links both SDK names to the SDK package and writes the program", async () => {
    const base = root();
    const dirs = runDirs({ dataDir: base, workDir: base }, "run-1");
    await layoutRunDir(dirs, "output(1);", "/sdk/one");
    expect(readFileSync(dirs.programPath, "utf8")).toBe("output(1);");
    for (const name of ["@promenade/workflow", "@boardwalk-labs/workflow"]) {
      expect(readlinkSync(join(dirs.programDir, "node_modules", name))).toBe("/sdk/one");
    }
  });

  it("relinks a run directory whose links lead to another SDK (laid out by an earlier engine)", async () => {
    const base = root();
    const dirs = runDirs({ dataDir: base, workDir: base }, "run-2");
    await layoutRunDir(dirs, "output(1);", "/sdk/old");
    // A leftover that is no link at all is replaced too.
    const boardwalk = join(dirs.programDir, "node_modules", "@boardwalk-labs", "workflow");
    rmSync(boardwalk);
    mkdirSync(boardwalk);
    await layoutRunDir(dirs, "output(2);", "/sdk/new");
    expect(readlinkSync(join(dirs.programDir, "node_modules", "@promenade", "workflow"))).toBe(
      "/sdk/new",
    );
    expect(readlinkSync(boardwalk)).toBe("/sdk/new");
    expect(readFileSync(dirs.programPath, "utf8")).toBe("output(2);");
  });

  it("keeps links that already lead to the SDK package", async () => {
    const base = root();
    const dirs = runDirs({ dataDir: base, workDir: base }, "run-3");
    mkdirSync(join(dirs.programDir, "node_modules", "@promenade"), { recursive: true });
    symlinkSync("/sdk/same", join(dirs.programDir, "node_modules", "@promenade", "workflow"));
    await layoutRunDir(dirs, "output(3);", "/sdk/same");
    expect(readlinkSync(join(dirs.programDir, "node_modules", "@promenade", "workflow"))).toBe(
      "/sdk/same",
    );
  });
});
