// A pooled run process rehearses a start while it idles: the supervisor sends it `warm_up` once
// it is ready, and the runtime imports its warm-up module then, before any run takes it.
// What would break: the message never sent (or ignored), every pooled start paying for code
// nothing had run yet; a process rehearsing twice, or a process created for a run rehearsing.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, until } from "./harness.ts";
import type { Harness } from "./harness.ts";

const childEntryPath = fileURLToPath(new URL("./fixtures/child-entry-warm-up.ts", import.meta.url));

let h: Harness;
let markerDir: string;
/** The file each process that ran the warm-up module appends its pid to. */
let marker: string;
beforeEach(() => {
  markerDir = mkdtempSync(join(tmpdir(), "promenade-warm-up-"));
  marker = join(markerDir, "warmed");
});
afterEach(async () => {
  await h.close();
  rmSync(markerDir, { recursive: true, force: true });
});

function warmedPids(): number[] {
  if (!existsSync(marker)) return [];
  return readFileSync(marker, "utf8").trim().split("\n").filter(Boolean).map(Number);
}

describe("warm pool warm-up", () => {
  it("has a pooled process import its warm-up module before its run, and its refill too", async () => {
    h = createHarness({
      childEntryPath,
      pool: { size: 1 },
      processEnv: { WARM_UP_MARKER: marker },
    });
    h.deploy({ slug: "pid" }, "output(process.pid);");
    await until(() => warmedPids().length === 1, 20_000);
    const row = await h.run("pid");
    expect(row.status).toBe("completed");
    // The run ran in the process that had rehearsed before it started.
    expect(warmedPids()[0]).toBe(row.output);
    // The process that refills the pool (created as soon as the run took the pooled one, so it
    // may have rehearsed already) rehearses as well; no process does twice.
    await until(() => warmedPids().length === 2, 20_000);
    const pids = warmedPids();
    expect(pids[0]).toBe(row.output);
    expect(pids[1]).not.toBe(row.output);
  });

  it("does not rehearse a process created for a run (no pool)", async () => {
    h = createHarness({ childEntryPath, processEnv: { WARM_UP_MARKER: marker } });
    h.deploy({ slug: "pid" }, "output(process.pid);");
    const row = await h.run("pid");
    expect(row.status).toBe("completed");
    expect(typeof row.output).toBe("number");
    expect(warmedPids()).toEqual([]);
  });
});
