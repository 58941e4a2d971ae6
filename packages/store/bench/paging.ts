/**
 * Paging cost against database size: a `listEvents` page of 1,000 from a run with 200,000
 * events, and a `listRuns` page of 50 from 100,000 runs filtered by workflow and status, each
 * compared with the same page on a database 100 times smaller. Target (issue 3): large within
 * 2× of small, i.e. paging by index, never a scan. Prints median and spread (min–max) in ms.
 * Run: `pnpm bench` (or `node --conditions=@promenade/source bench/paging.ts`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../src/open.ts";
import { testManifest } from "../src/testing/fixtures.ts";
import type { EventAppend, Store } from "../src/types.ts";
import type { RunStatus } from "../src/internal/sdk.ts";

const STRIDE = 1_000_000;
const REPEATS = 41;
const WORKFLOWS = 10;
const STATUSES: RunStatus[] = [
  "completed",
  "completed",
  "completed",
  "completed",
  "failed",
  "cancelled",
  "queued",
  "running",
];

interface Fixture {
  store: Store;
  bigRunId: string;
  workflowId: string;
  /** A run near the end of the filtered newest-first list (deep keyset page). */
  deepRunId: string;
}

function build(path: string, events: number, runs: number): Fixture {
  const store = openStore({
    path,
    now: (() => {
      let t = 1_760_000_000_000;
      return () => (t += 7);
    })(),
  });
  const workflowIds = Array.from(
    { length: WORKFLOWS },
    (_, i) =>
      store.upsertWorkflow({
        slug: `wf-${String(i)}`,
        manifest: testManifest(`wf-${String(i)}`),
        program: "",
      }).id,
  );
  const workflowId = workflowIds[0]!;
  const bigRunId = store.createRun({ workflowId, triggerKind: "manual" }).run.id;
  for (let start = 0; start < events; start += 1_000) {
    const batch: EventAppend[] = [];
    for (let index = start; index < Math.min(events, start + 1_000); index++) {
      const block = Math.floor(index / 100) + 1;
      const seq = (index % 100) + 1;
      const envelope = { runId: bigRunId, seq, t: index };
      batch.push({
        cursor: block * STRIDE + seq,
        event:
          index % 50 === 0
            ? { kind: "run_status", status: "running", turnId: bigRunId, ...envelope }
            : index % 3 === 0
              ? {
                  kind: "program_output",
                  stream: "stdout",
                  text: `line ${String(index)}\n`,
                  turnId: bigRunId,
                  ...envelope,
                }
              : {
                  kind: "text_delta",
                  blockId: "b",
                  text: "token ",
                  turnId: `turn-${String(block)}`,
                  ...envelope,
                },
      });
    }
    store.appendEvents(bigRunId, batch);
  }
  const matching: string[] = [];
  for (let start = 1; start < runs; start += 1_000) {
    store.transaction(() => {
      for (let index = start; index < Math.min(runs, start + 1_000); index++) {
        const wf = workflowIds[index % WORKFLOWS]!;
        const status = STATUSES[Math.floor(index / WORKFLOWS) % STATUSES.length]!;
        const { run } = store.createRun({ workflowId: wf, triggerKind: "manual" });
        if (status !== "queued") store.updateRunStatus(run.id, status);
        if (wf === workflowId && (status === "completed" || status === "failed"))
          matching.push(run.id);
      }
    });
  }
  // 60 rows from the oldest: a full page remains behind it even in the small database.
  const deepRunId = matching[Math.min(60, matching.length - 1)]!;
  return { store, bigRunId, workflowId, deepRunId };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function time(fn: () => unknown): number[] {
  for (let i = 0; i < 5; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), "promenade-bench-paging-"));
  try {
    const buildStart = Date.now();
    const small = build(join(dir, "small.db"), 2_000, 1_000);
    const large = build(join(dir, "large.db"), 200_000, 100_000);
    console.log(
      `paging cost (built fixtures in ${String(Date.now() - buildStart)} ms; ms per call: median [min–max])`,
    );
    const cases: { name: string; run: (f: Fixture) => unknown; rows: (f: Fixture) => number }[] = [
      {
        name: "listEvents page of 1000, middle of the run",
        run: (f) =>
          f.store.listEvents(f.bigRunId, {
            afterCursor: Math.floor(f.store.maxCursor(f.bigRunId) / 2),
            limit: 1_000,
          }),
        rows: (f) =>
          f.store.listEvents(f.bigRunId, {
            afterCursor: Math.floor(f.store.maxCursor(f.bigRunId) / 2),
            limit: 1_000,
          }).length,
      },
      {
        name: "listEvents page of 20, sparse lifecycle channel, middle",
        run: (f) =>
          f.store.listEvents(f.bigRunId, {
            channels: ["lifecycle"],
            afterCursor: Math.floor(f.store.maxCursor(f.bigRunId) / 2),
            limit: 20,
          }),
        rows: (f) =>
          f.store.listEvents(f.bigRunId, {
            channels: ["lifecycle"],
            afterCursor: Math.floor(f.store.maxCursor(f.bigRunId) / 2),
            limit: 20,
          }).length,
      },
      {
        name: "listRuns page of 50, workflow + status",
        run: (f) =>
          f.store.listRuns({ workflowId: f.workflowId, statuses: ["completed"], limit: 50 }),
        rows: (f) =>
          f.store.listRuns({ workflowId: f.workflowId, statuses: ["completed"], limit: 50 }).length,
      },
      {
        name: "listRuns page of 50, workflow + 2 statuses, keyset deep",
        run: (f) =>
          f.store.listRuns({
            workflowId: f.workflowId,
            statuses: ["completed", "failed"],
            beforeRunId: f.deepRunId,
            limit: 50,
          }),
        rows: (f) =>
          f.store.listRuns({
            workflowId: f.workflowId,
            statuses: ["completed", "failed"],
            beforeRunId: f.deepRunId,
            limit: 50,
          }).length,
      },
    ];
    let pass = true;
    for (const c of cases) {
      const s = time(() => c.run(small));
      const l = time(() => c.run(large));
      const ratio = median(l) / median(s);
      pass &&= ratio <= 2;
      const fmt = (v: number[]) =>
        `${median(v).toFixed(3)} [${Math.min(...v).toFixed(3)}–${Math.max(...v).toFixed(3)}]`;
      console.log(
        `  ${c.name.padEnd(56)} small (${String(c.rows(small)).padStart(4)} rows) ${fmt(s)}  large (${String(c.rows(large)).padStart(4)} rows) ${fmt(l)}  ratio ${ratio.toFixed(2)}× ${ratio <= 2 ? "PASS" : "FAIL"}`,
      );
    }
    console.log(`  target: large within 2× of small for every case: ${pass ? "PASS" : "FAIL"}`);
    small.store.close();
    large.store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
