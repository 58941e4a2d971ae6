/**
 * Cluster mode needs PostgreSQL: an engine on SQLite (one process's file) refuses the `cluster`
 * option before it creates anything, naming the fix.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";

describe("cluster mode", () => {
  it("refuses SQLite with VALIDATION naming PostgreSQL, and creates nothing", async () => {
    const root = mkdtempSync(join(tmpdir(), "promenade-cluster-sqlite-"));
    const dataDir = join(root, "data");
    try {
      for (const open of [
        () => new Engine({ dataDir, cluster: {} }),
        () => Engine.open({ dataDir, cluster: { nodeId: "n1" } }),
      ]) {
        let caught: unknown;
        try {
          await open();
        } catch (error) {
          caught = error;
        }
        expect(caught).toMatchObject({ code: "VALIDATION" });
        expect((caught as Error).message).toContain("needs PostgreSQL");
        expect((caught as { hint?: string }).hint).toContain("databaseUrl");
      }
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
