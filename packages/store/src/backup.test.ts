/**
 * SQLite-only space and copy operations on real database files: a new file reclaims the pages
 * retention frees in small incremental-vacuum steps, and an online backup taken while the store
 * keeps writing opens as a complete database. What would break: a data dir that never shrinks
 * after retention, or a backup that misses committed events or cannot be opened.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "./open.ts";
import { outputLineEvent, testManifest } from "./testing/fixtures.ts";
import type { Store } from "./types.ts";

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "promenade-backup-"));
  path = join(dir, "promenade.db");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function seed(store: Store, runs: number, events: number): string[] {
  const workflow = store.upsertWorkflow({
    slug: "echo",
    manifest: testManifest("echo"),
    program: "export {}",
  });
  const ids: string[] = [];
  for (let i = 0; i < runs; i++) {
    const { run } = store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
    store.appendEvents(
      run.id,
      Array.from({ length: events }, (_, n) => ({
        cursor: n + 2,
        event: outputLineEvent(run.id, "x".repeat(500), { seq: n + 2 }),
      })),
    );
    store.commitStatus(run.id, { to: "completed", expect: ["queued"], endedAt: 0 });
    ids.push(run.id);
  }
  return ids;
}

describe("reclaimSpace", () => {
  it("a new database file uses incremental auto-vacuum and shrinks in bounded steps after a prune", () => {
    const store = openStore({ path });
    try {
      expect(store.reclaimSpace(100)).toBe(0);
      seed(store, 40, 40);
      const workflowId = store.getWorkflow("echo")?.id ?? "";
      store.pruneRuns({ workflowId, endedBefore: Number.MAX_SAFE_INTEGER, limit: 1000 });
      store.transaction(() => undefined);
      const first = store.reclaimSpace(10);
      expect(first).toBe(10);
      let total = first;
      for (let step = store.reclaimSpace(10); step > 0; step = store.reclaimSpace(10)) {
        expect(step).toBeLessThanOrEqual(10);
        total += step;
      }
      expect(total).toBeGreaterThan(100);
    } finally {
      store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma("auto_vacuum", { simple: true })).toBe(2);
      expect(db.pragma("freelist_count", { simple: true })).toBe(0);
    } finally {
      db.close();
    }
  });

  it("returns 0 on a file created without incremental auto-vacuum, and rejects a bad step", () => {
    const plain = new Database(path);
    plain.exec("CREATE TABLE t (x INTEGER)");
    plain.exec("DROP TABLE t");
    plain.close();
    const store = openStore({ path });
    try {
      seed(store, 5, 5);
      const workflowId = store.getWorkflow("echo")?.id ?? "";
      store.pruneRuns({ workflowId, endedBefore: Number.MAX_SAFE_INTEGER });
      expect(store.reclaimSpace(100)).toBe(0);
      expect(() => store.reclaimSpace(0)).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    } finally {
      store.close();
    }
  });
});

describe("backup", () => {
  it("copies every committed row while the store keeps writing; the copy opens as a store", async () => {
    const store = openStore({ path });
    const target = join(dir, "copy.db");
    let ids: string[];
    try {
      ids = seed(store, 30, 50);
      const workflowId = store.getWorkflow("echo")?.id ?? "";
      // Keep writing while the backup copies pages in steps.
      let writes = 0;
      const timer = setInterval(() => {
        store.createRun({ workflowId, triggerKind: "manual" });
        writes++;
      }, 1);
      const done = store.backup(target);
      await done;
      clearInterval(timer);
      const committed = store.listRuns({ limit: 1000 }).length;
      const cursors = ids.map((id) => store.maxCursor(id));
      expect(committed).toBe(30 + writes);
      expect(existsSync(target)).toBe(true);
      expect(statSync(target).size).toBeGreaterThan(0);
      // The copy has every run committed before the backup finished.
      const copy = openStore({ path: target });
      try {
        expect(copy.listRuns({ limit: 1000 }).length).toBe(committed);
        expect(ids.map((id) => copy.maxCursor(id))).toEqual(cursors);
        expect(copy.listEvents(ids[0] ?? "", { limit: 1000 })).toHaveLength(52);
      } finally {
        copy.close();
      }
    } finally {
      store.close();
    }
  });

  it("rejects an unwritable target with INTERNAL", async () => {
    const store = openStore({ path });
    try {
      await expect(store.backup(join(dir, "missing", "copy.db"))).rejects.toMatchObject({
        code: "INTERNAL",
      });
      await expect(store.backup("")).rejects.toMatchObject({ code: "VALIDATION" });
    } finally {
      store.close();
    }
  });
});
