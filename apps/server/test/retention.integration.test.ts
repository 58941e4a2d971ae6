/* eslint-disable @typescript-eslint/no-explicit-any -- tests read untyped JSON API bodies */
/**
 * Retention at scale on a real data dir behind a real HTTP server: 10,000 synthetic terminal runs
 * with events, usage and artifacts (rows and files), written fast through the store's ports, then
 * one sweep under the engine-wide policy (`1d`) and a per-workflow `config.retention`
 * (`last 100`). Exactly the runs outside their policy are gone with every row and file of theirs;
 * runs in flight, and terminal runs whose family still has a run in flight, are untouched; the
 * sweep shows in `/metrics`. The p99 latency of `GET /api/runs` idle and during the sweep is
 * printed (measured, not asserted). What breaks if this fails: a data dir that grows forever, a
 * sweep that deletes live work or leaves orphans behind, or one that stalls the API.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "@promenade/engine";
import { createPromenadeServer } from "@promenade/server";
import { openStore } from "@promenade/store";
import type { Store } from "@promenade/store";
import { outputLineEvent } from "@promenade/store/testing";
import { engineApi } from "../src/adapter.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let root: string | undefined;
// Removing what is left of the backlog (thousands of run directories) competes for the disk with
// the rest of the suite: on a busy CI disk it has taken over a minute, so it gets the test's own
// allowance rather than the default hook limit, and it does not block the worker's event loop.
afterEach(async () => {
  const dir = root;
  root = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}, 600_000);

function manifest(slug: string): any {
  return { slug, triggers: [{ kind: "manual" }] };
}

/** A terminal run created and ended at `at`, with 3 events, usage and one artifact file. */
function terminalRun(
  store: Store,
  dataDir: string,
  clock: { at: number },
  workflowId: string,
  parentRunId?: string,
): string {
  const { run } = store.createRun({
    workflowId,
    triggerKind: "manual",
    ...(parentRunId === undefined ? {} : { parentRunId, idempotencyKey: "child" }),
  });
  store.appendEvents(run.id, [
    { cursor: 2, event: outputLineEvent(run.id, "hi", { seq: 2, t: clock.at }) },
  ]);
  store.addRunUsage(run.id, { tokensIn: 10, tokensOut: 5 });
  const dir = join(dataDir, "runs", run.id, "artifacts");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "report.txt");
  writeFileSync(path, "report");
  store.createArtifact({
    runId: run.id,
    name: "report.txt",
    contentType: "text/plain",
    path,
    size: 6,
  });
  store.commitStatus(run.id, { to: "completed", expect: ["queued"], endedAt: clock.at });
  return run.id;
}

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
}

async function timeRequest(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return performance.now() - started;
}

describe("retention sweep at scale", () => {
  it("deletes exactly the 10,000-run backlog outside the policy, keeps live families, and shows in /metrics", async () => {
    const began = performance.now();
    const phase = (name: string): void => {
      console.log(`retention test: ${name} at ${String(Math.round(performance.now() - began))} ms`);
    };
    root = mkdtempSync(join(tmpdir(), "promenade-retention-"));
    const dataDir = join(root, "data");
    mkdirSync(dataDir);
    const now = Date.now();
    const clock = { at: now - 3 * DAY };
    const store = openStore({ path: join(dataDir, "promenade.db"), now: () => clock.at });
    const expectGone = new Set<string>();
    const expectKept = new Set<string>();
    let terminal = 0;
    try {
      const aged = store.upsertWorkflow({
        slug: "aged",
        manifest: manifest("aged"),
        program: "export {}",
      });
      const counted = store.upsertWorkflow({
        slug: "counted",
        manifest: manifest("counted"),
        program: "export {}",
        config: { retention: "last 100" },
      });
      store.transaction(() => {
        // 5,000 runs of "aged" that ended 3 days ago: outside "1d".
        for (let i = 0; i < 5000; i++) {
          expectGone.add(terminalRun(store, dataDir, clock, aged.id));
          clock.at += 1;
        }
        // Old terminal parents whose family still has a run in flight: kept, with the family.
        for (let i = 0; i < 20; i++) {
          const parent = terminalRun(store, dataDir, clock, aged.id);
          const { run: child } = store.createRun({
            workflowId: counted.id,
            triggerKind: "manual",
            parentRunId: parent,
            idempotencyKey: "live-child",
          });
          store.commitStatus(child.id, {
            to: i % 2 === 0 ? "running" : "awaiting_input",
            expect: ["queued"],
          });
          expectKept.add(parent).add(child.id);
        }
        // Old runs still in flight: never touched.
        for (const status of ["queued", "running", "awaiting_input", "pending"] as const) {
          for (let i = 0; i < 5; i++) {
            const { run } = store.createRun({ workflowId: aged.id, triggerKind: "manual" });
            if (status !== "queued") store.commitStatus(run.id, { to: status, expect: ["queued"] });
            expectKept.add(run.id);
          }
        }
      });
      clock.at = now - HOUR;
      store.transaction(() => {
        // 3,000 recent runs of "aged": inside "1d".
        for (let i = 0; i < 3000; i++) {
          expectKept.add(terminalRun(store, dataDir, clock, aged.id));
          clock.at += 1;
        }
        // 2,000 recent runs of "counted": only the newest 100 are kept.
        for (let i = 0; i < 2000; i++) {
          const id = terminalRun(store, dataDir, clock, counted.id);
          (i < 1900 ? expectGone : expectKept).add(id);
          clock.at += 1;
        }
      });
      terminal = 5000 + 20 + 3000 + 2000;
    } finally {
      store.close();
    }
    expect(terminal).toBeGreaterThanOrEqual(10_000);
    phase("backlog written");

    const logs: string[] = [];
    const engine = new Engine({
      dataDir,
      retention: "1d",
      retentionIntervalMs: 3_600_000,
      log: (line) => logs.push(line),
    });
    const server = createPromenadeServer(engineApi(engine), { log: () => undefined });
    try {
      const { port } = await server.listen(0, "127.0.0.1");
      const runsUrl = `http://127.0.0.1:${String(port)}/api/runs?limit=50`;
      for (let i = 0; i < 10; i++) await timeRequest(runsUrl); // warm-up
      // A steady client: one request every ~10 ms, idle and then while the sweep runs.
      const pace = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));
      const idle: number[] = [];
      for (let i = 0; i < 100; i++) {
        idle.push(await timeRequest(runsUrl));
        await pace();
      }
      phase("idle measured");

      const during: number[] = [];
      let sweeping = true;
      const sweep = engine.sweepRetention().finally(() => {
        sweeping = false;
      });
      while (sweeping) {
        during.push(await timeRequest(runsUrl));
        await pace();
      }
      const report = await sweep;
      phase("swept");
      console.log(
        `retention: GET /api/runs p99 idle ${p99(idle).toFixed(1)} ms (${String(idle.length)} requests), during the sweep ${p99(during).toFixed(1)} ms (${String(during.length)} requests); sweep deleted ${String(report.runsDeleted)} runs in ${String(report.batches)} batches, ${String(report.durationMs)} ms, reclaimed ${String(report.pagesReclaimed)} pages`,
      );
      expect(report.errors).toEqual([]);
      expect(report.runsDeleted).toBe(expectGone.size);

      const metrics = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
      expect(metrics).toContain("promenade_retention_sweeps_total 1");
      expect(metrics).toContain(
        `promenade_retention_runs_deleted_total ${String(expectGone.size)}`,
      );
      expect(logs.some((line) => line.startsWith("retention: deleted"))).toBe(true);

      // A second sweep finds nothing more to do.
      expect((await engine.sweepRetention()).runsDeleted).toBe(0);
    } finally {
      await server.close({ graceMs: 200 });
      await engine.closeGracefully();
    }

    phase("engine closed");
    // Read the file directly: no row of a deleted run is left in any table.
    const db = new DatabaseSync(join(dataDir, "promenade.db"), { readOnly: true });
    try {
      const ids = (db.prepare("SELECT id FROM runs").all() as { id: string }[]).map((r) => r.id);
      expect(new Set(ids)).toEqual(expectKept);
      for (const table of [
        "run_events",
        "artifacts",
        "human_input_requests",
        "run_request_keys",
        "webhook_deliveries",
        "cron_fires",
      ]) {
        const orphans = db
          .prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE run_id NOT IN (SELECT id FROM runs)`)
          .get() as { n: number };
        expect(orphans.n, table).toBe(0);
      }
      const counts = db
        .prepare(
          "SELECT (SELECT COUNT(*) FROM artifacts) AS artifacts, (SELECT COUNT(DISTINCT run_id) FROM run_events) AS withEvents",
        )
        .get() as { artifacts: number; withEvents: number };
      expect(counts).toEqual({ artifacts: 3000 + 100 + 20, withEvents: expectKept.size });
    } finally {
      db.close();
    }
    expect([...expectGone].filter((id) => existsSync(join(dataDir, "runs", id)))).toEqual([]);
    phase("verified");
    const keptFiles = [...expectKept].filter((id) =>
      existsSync(join(dataDir, "runs", id, "artifacts", "report.txt")),
    );
    expect(keptFiles).toHaveLength(3000 + 100 + 20);
    // Writing 10,000 runs with their files takes about 30 s on a quiet 2-core machine and four
    // times that beside the rest of the suite: the limit only catches a sweep that never ends.
  }, 600_000);
});
