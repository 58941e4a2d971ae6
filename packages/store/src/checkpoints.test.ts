/**
 * WAL checkpoints on a real database file: commits go to the log, and the log is copied back
 * into the database file once writes pause (not inside a commit), or at a bound when they never
 * pause.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { QUIET_MS, WAL_BOUND_PAGES } from "./internal/checkpoints.ts";
import { openStore } from "./open.ts";
import { testManifest } from "./testing/fixtures.ts";
import type { Store } from "./types.ts";

const MiB = 1024 * 1024;
const PAGE = 4096;

let dir: string;
let path: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "promenade-checkpoints-"));
  path = join(dir, "promenade.db");
  store = openStore({ path });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const size = (file: string): number => statSync(file).size;

/** Deploys a workflow whose program is `mib` MiB of text of its own. */
function deploy(slug: string, mib: number): void {
  const program = `// ${slug}\n` + `${slug} `.repeat(Math.ceil((mib * MiB) / (slug.length + 1)));
  store.upsertWorkflow({ slug, manifest: testManifest(slug), program });
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe("WAL checkpoints", () => {
  it("copy the log into the database file once writes pause, not inside the commit", async () => {
    const before = size(path);
    deploy("big", 2);
    // Committed and durable in the log; the database file itself is untouched so far.
    expect(size(`${path}-wal`)).toBeGreaterThan(2 * MiB);
    expect(size(path)).toBe(before);
    await until(() => size(path) > before + 2 * MiB, 10 * QUIET_MS + 5000);
    expect(size(path)).toBeGreaterThan(before + 2 * MiB);
    expect(store.getWorkflow("big")?.slug).toBe("big");
  });

  it("wait while commits keep coming closer together than the quiet period", async () => {
    // Each pause starts before a commit; whenever the database file grew during one, that
    // pause lasted the quiet period (a loaded machine may stretch a pause that long).
    const grownAfter: number[] = [];
    let last = size(path);
    let pauses = 0;
    for (const ends = performance.now() + 4 * QUIET_MS; performance.now() < ends;) {
      const before = performance.now();
      deploy(`w${String(pauses)}`, 0.05);
      await new Promise((r) => setTimeout(r, QUIET_MS / 5));
      pauses += 1;
      if (size(path) !== last) grownAfter.push(performance.now() - before);
      last = size(path);
    }
    expect(pauses).toBeGreaterThan(5);
    for (const pause of grownAfter) expect(pause).toBeGreaterThanOrEqual(QUIET_MS);
  });

  it("still happen at a bound under writes that never pause", () => {
    const before = size(path);
    // Past the bound in one turn of the event loop: no timer can run meanwhile.
    const mib = Math.ceil((WAL_BOUND_PAGES * PAGE) / MiB) + 4;
    for (let index = 0; index < mib; index += 1) deploy(`w${String(index)}`, 1);
    expect(size(path)).toBeGreaterThan(before + (WAL_BOUND_PAGES * PAGE) / 2);
    // The log never grows past the bound by more than the commit that crossed it.
    expect(size(`${path}-wal`)).toBeLessThan(WAL_BOUND_PAGES * PAGE + 4 * MiB);
  });
});
