/**
 * The cost of reading back rows the store wrote, on one SQLite file: a whole 20,000-event run
 * (`listEvents`), every run of a 10,000-run table (`listRuns()`), the API's run-list page (50 runs
 * of one workflow and two statuses) and `getRun`. Prints median and spread (min–max) in ms per
 * call, so a change to read mapping or to the listing queries can be measured before and after.
 * Run: `node --conditions=@promenade/source bench/reads.ts` (part of `pnpm bench`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../src/open.ts";
import { testManifest } from "../src/testing/fixtures.ts";
import type { EventAppend, Store } from "../src/types.ts";
import type { RunStatus } from "../src/internal/sdk.ts";

const STRIDE = 1_000_000;
const REPEATS = 31;
const EVENTS = 20_000;
const RUNS = 10_000;
const STATUSES: RunStatus[] = ["completed", "completed", "completed", "failed", "cancelled"];

interface Fixture {
  store: Store;
  bigRunId: string;
  workflowId: string;
}

function build(path: string): Fixture {
  let t = 1_760_000_000_000;
  const store = openStore({ path, now: () => (t += 7) });
  const workflowIds = [0, 1].map(
    (i) =>
      store.upsertWorkflow({
        slug: `wf-${String(i)}`,
        manifest: testManifest(`wf-${String(i)}`),
        program: "",
      }).id,
  );
  const workflowId = workflowIds[0] ?? "";
  const bigRunId = store.createRun({ workflowId, triggerKind: "manual" }).run.id;
  for (let start = 0; start < EVENTS; start += 1_000) {
    const batch: EventAppend[] = [];
    for (let index = start; index < start + 1_000; index++) {
      const block = Math.floor(index / 100) + 1;
      const seq = (index % 100) + 1;
      const envelope = { runId: bigRunId, seq, t: index };
      batch.push({
        cursor: block * STRIDE + seq,
        event:
          index % 3 === 0
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
  store.transaction(() => {
    for (let index = 1; index < RUNS; index++) {
      const { run } = store.createRun({
        workflowId: workflowIds[index % 2] ?? workflowId,
        triggerKind: "manual",
        input: { n: index },
      });
      const status = STATUSES[index % STATUSES.length] ?? "completed";
      store.updateRunStatus(
        run.id,
        status,
        status === "failed"
          ? { error: { code: "PROGRAM_ERROR", message: "boom" } }
          : { output: { ok: index } },
      );
    }
  });
  return { store, bigRunId, workflowId };
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
  const dir = mkdtempSync(join(tmpdir(), "promenade-bench-reads-"));
  try {
    const f = build(join(dir, "reads.db"));
    const someRun = f.store.listRuns({ limit: 1 })[0]?.id ?? "";
    console.log("store reads (ms per call: median [min–max])");
    const cases: { name: string; run: () => unknown }[] = [
      { name: "listEvents, a whole 20,000-event run", run: () => f.store.listEvents(f.bigRunId) },
      { name: "listRuns(), all 10,000 runs", run: () => f.store.listRuns() },
      {
        name: "listRuns page of 50, workflow + 2 statuses",
        run: () =>
          f.store.listRuns({
            workflowId: f.workflowId,
            statuses: ["completed", "failed"],
            limit: 50,
          }),
      },
      { name: "listRuns page of 50, no filter", run: () => f.store.listRuns({ limit: 50 }) },
      { name: "getRun", run: () => f.store.getRun(someRun) },
    ];
    for (const c of cases) {
      const samples = time(c.run);
      const sorted = [...samples].sort((a, b) => a - b);
      const result = c.run();
      const rows = Array.isArray(result) ? result.length : 1;
      console.log(
        `  ${c.name.padEnd(44)} (${String(rows).padStart(5)} rows) ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(3)} [${(sorted[0] ?? 0).toFixed(3)}–${(sorted.at(-1) ?? 0).toFixed(3)}]`,
      );
    }
    f.store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
