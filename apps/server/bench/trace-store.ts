/**
 * `pnpm bench` for promenade-server (trace part): `GET /api/runs/:id/trace` over loopback for runs
 * of 10,000 agent-shaped events read from a real SQLite data dir, through the real engine and
 * server — the whole path a user's request takes (store reads, building, folding, serialising).
 * The events are generated once (the server package's agent-shaped run) and written to each run
 * through the store. Cold: the first read of each run; warm: a second read. Prints p50/p95 as the
 * client sees it (in this process, so it includes parsing the answer) and the server's own time
 * (request to the response's finish), and the verdict against the target (client p50 ≤ 50 ms);
 * no assertions.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "@promenade/engine";
import { createPromenadeServer } from "@promenade/server";
import { createFakeEngine, fillAgentShapedRun } from "@promenade/server/testing";
import { openStore } from "@promenade/store";
import type { RunEvent } from "@promenade/workflow";
import { engineApi } from "../src/adapter.ts";

const RUNS = Number(process.env["BENCH_TRACE_RUNS"] ?? 20);
const EVENTS = 10_000;
const TARGET_MS = 50;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

/** The body events of one agent-shaped run (everything but its status changes). */
async function agentRunEvents(): Promise<{ runId: string; events: RunEvent[] }> {
  const fake = createFakeEngine();
  fake.addWorkflow({ slug: "bench" });
  const run = await fake.startRun("bench", { triggerKind: "manual" });
  fillAgentShapedRun(fake, run.id, EVENTS);
  const events = fake
    .peekEvents(run.id)
    .map((row) => row.event)
    .filter((event) => event.kind !== "run_status");
  return { runId: run.id, events };
}

const root = mkdtempSync(join(tmpdir(), "promenade-trace-bench-"));
try {
  const template = await agentRunEvents();
  const store = openStore({ path: join(root, "promenade.db") });
  const ids: string[] = [];
  try {
    const workflow = store.upsertWorkflow({
      slug: "bench",
      manifest: {
        slug: "bench",
        triggers: [{ kind: "manual" }],
        concurrency: { mode: "unlimited" },
        runs_on: "boardwalk/linux",
        callable_by: "anyone_in_org",
      },
      program: "export {}",
    });
    for (let i = 0; i < RUNS; i++) {
      const { run } = store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
      store.commitStatus(run.id, { to: "pending", expect: ["queued"] });
      store.commitStatus(run.id, { to: "running", expect: ["pending"], startedAt: Date.now() });
      const first = store.maxCursor(run.id) + 1;
      store.transaction(() => {
        store.appendEvents(
          run.id,
          template.events.map((event, index) => ({
            cursor: first + index,
            event: {
              ...event,
              runId: run.id,
              turnId: event.turnId === template.runId ? run.id : event.turnId,
            },
          })),
        );
      });
      store.commitStatus(run.id, { to: "completed", expect: ["running"], endedAt: Date.now() });
      ids.push(run.id);
    }
  } finally {
    store.close();
  }

  const engine = new Engine({ dataDir: root, log: () => undefined });
  const server = createPromenadeServer(engineApi(engine), { log: () => undefined });
  try {
    const serverSide: number[] = [];
    server.httpServer.prependListener("request", (_req, res) => {
      const began = performance.now();
      res.once("finish", () => serverSide.push(performance.now() - began));
    });
    const { port } = await server.listen(0, "127.0.0.1");
    const base = `http://127.0.0.1:${String(port)}`;
    const read = async (id: string): Promise<{ ms: number; events: number; spans: number }> => {
      const started = performance.now();
      const res = await fetch(`${base}/api/runs/${id}/trace`);
      const body = (await res.json()) as {
        coverage: { complete: boolean; eventsScanned: number };
        spans: unknown[];
      };
      const ms = performance.now() - started;
      if (res.status !== 200 || !body.coverage.complete) {
        throw new Error(`trace of ${id}: HTTP ${String(res.status)}, not one complete answer`);
      }
      return { ms, events: body.coverage.eventsScanned, spans: body.spans.length };
    };
    await fetch(`${base}/api/runs?limit=1`); // open the connection
    serverSide.length = 0;
    const cold = [];
    for (const id of ids) cold.push(await read(id));
    const coldServer = serverSide.splice(0);
    const warm = [];
    for (const id of ids) warm.push(await read(id));
    const warmServer = serverSide.splice(0);
    const line = (label: string, rows: { ms: number }[], side: number[]): string => {
      const ms = rows.map((row) => row.ms);
      return `${label} client p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${percentile(ms, 95).toFixed(1)} ms (min ${Math.min(...ms).toFixed(1)} – max ${Math.max(...ms).toFixed(1)}) | server p50 ${percentile(side, 50).toFixed(1)} ms, p95 ${percentile(side, 95).toFixed(1)} ms`;
    };
    const p50 = percentile(
      cold.map((row) => row.ms),
      50,
    );
    console.log(
      `# Trace API on a real SQLite data dir (node ${process.version}, ${new Date().toISOString()})`,
    );
    console.log(
      `${String(RUNS)} runs of ${String(cold[0]?.events ?? 0)} events (${String(cold[0]?.spans ?? 0)} spans each), one request at a time`,
    );
    console.log(line("cold (first read):", cold, coldServer));
    console.log(line("warm (cached):    ", warm, warmServer));
    console.log(
      `target p50 ≤ ${String(TARGET_MS)} ms (cold): ${p50 <= TARGET_MS ? "MEETS" : "MISSES"} target`,
    );
  } finally {
    await server.close({ graceMs: 100 });
    await engine.closeGracefully();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
