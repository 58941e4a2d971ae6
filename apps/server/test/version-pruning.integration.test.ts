/* eslint-disable @typescript-eslint/no-explicit-any -- tests read untyped JSON API bodies */
/**
 * Old workflow versions behind a real HTTP server: runs written through the store's ports on a
 * real data dir, one retention sweep, then `GET /api/workflows/:slug/versions` lists exactly the
 * versions that are current or still referenced by a run, the pruned ones' skills directories
 * are gone, and `/metrics` counts them. What breaks if this fails: an API listing versions whose
 * rows are gone, or a versions table and skills directory that grow with every deploy forever.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "@promenade/engine";
import { createPromenadeServer } from "@promenade/server";
import { openStore } from "@promenade/store";
import { engineApi } from "../src/adapter.ts";

const DAY = 86_400_000;

let root: string | undefined;
afterEach(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

describe("version pruning in the API", () => {
  it("lists only the current and still-referenced versions after a sweep", async () => {
    root = mkdtempSync(join(tmpdir(), "promenade-version-pruning-"));
    const dataDir = join(root, "data");
    mkdirSync(dataDir);
    const now = Date.now();
    const clock = { at: now - 3 * DAY };
    const store = openStore({ path: join(dataDir, "promenade.db"), now: () => clock.at });
    const versionDirs = new Map<number, string>();
    try {
      const deploy = (n: number): void => {
        const workflow = store.upsertWorkflow({
          slug: "tagged",
          manifest: { slug: "tagged", triggers: [{ kind: "manual" }] } as any,
          program: `// ${String(n)}`,
          skills: { guide: `Version ${String(n)}.` },
        });
        const id = store.listWorkflowVersions(workflow.id)[0]?.id ?? "";
        // What a pass on this version writes into the data dir.
        const dir = join(dataDir, "skills", ".versions", id);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "guide.md"), `Version ${String(n)}.`);
        versionDirs.set(n, dir);
      };
      const ended = (workflowId: string): void => {
        const { run } = store.createRun({ workflowId, triggerKind: "manual" });
        store.commitStatus(run.id, { to: "completed", expect: ["queued"], endedAt: clock.at });
      };
      // v1: an old run (deleted by "1d"); v2: an old run and a queued one; v3: never run;
      // v4: a recent run; v5: current, never run.
      deploy(1);
      const workflowId = store.getWorkflow("tagged")?.id ?? "";
      ended(workflowId);
      deploy(2);
      ended(workflowId);
      store.createRun({ workflowId, triggerKind: "manual" });
      deploy(3);
      clock.at = now;
      deploy(4);
      ended(workflowId);
      deploy(5);
    } finally {
      store.close();
    }

    const engine = new Engine({
      dataDir,
      retention: "1d",
      retentionIntervalMs: 3_600_000,
      log: () => undefined,
    });
    const server = createPromenadeServer(engineApi(engine), { log: () => undefined });
    try {
      const { port } = await server.listen(0, "127.0.0.1");
      const base = `http://127.0.0.1:${String(port)}`;
      const report = await engine.sweepRetention();
      expect(report).toMatchObject({ errors: [], runsDeleted: 2, versionsDeleted: 2 });
      const body = (await (await fetch(`${base}/api/workflows/tagged/versions`)).json()) as any;
      expect(
        (body.versions as { number: number; current: boolean }[]).map((v) => [v.number, v.current]),
      ).toEqual([
        [5, true],
        [4, false],
        [2, false],
      ]);
      expect([...versionDirs].filter(([, dir]) => existsSync(dir)).map(([n]) => n)).toEqual([
        2, 4, 5,
      ]);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain("promenade_retention_versions_deleted_total 2");
    } finally {
      await server.close({ graceMs: 200 });
      await engine.closeGracefully();
    }
  });
});
