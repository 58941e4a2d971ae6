/**
 * Benchmark: fire lateness under the default 1 s loop, on the real clock and the real SQLite
 * store: p99 of (time the fire committed − its scheduled instant) over 200 fires. Ten workflows
 * with per-second 6-field crons keep the run to about 20 s.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "@promenade/store";
import { validateMeta } from "@promenade/workflow";
import { Scheduler } from "../src/index.ts";
import type { SchedulerStore } from "../src/index.ts";
import { percentile } from "./stats.ts";

const FIRES = 200;
const WORKFLOWS = 10;

const dir = mkdtempSync(join(tmpdir(), "promenade-scheduler-lateness-"));
const store = openStore({ path: join(dir, "promenade.db") });
try {
  for (let i = 0; i < WORKFLOWS; i++) {
    const slug = `per-second-${i}`;
    store.upsertWorkflow({
      slug,
      manifest: validateMeta({ slug, triggers: [{ kind: "cron", expr: "* * * * * *" }] }),
      program: "",
    });
  }
  const lateness: number[] = [];
  // Each fire's lateness: when its transaction committed, against its scheduled instant.
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const observed: SchedulerStore = {
    listWorkflows: () => store.listWorkflows(),
    getWorkflowById: (id) => store.getWorkflowById(id),
    listRuns: (filter) => store.listRuns(filter),
    lastCronFire: (id, index) => store.lastCronFire(id, index),
    fireCron: (fire) => {
      const run = store.fireCron(fire);
      if (run !== null && lateness.length < FIRES) lateness.push(Date.now() - fire.fireTime);
      if (lateness.length === FIRES) done();
      return run;
    },
  };
  const scheduler = new Scheduler({
    store: observed,
    log: (line) => console.log(line),
    dispatch: (runId) => {
      store.commitStatus(runId, { to: "completed", expect: ["queued"] });
    },
  });
  const started = Date.now();
  scheduler.start(); // default tickIntervalMs: 1000
  await finished;
  scheduler.stop();
  const f = (ms: number): string => `${ms.toFixed(0)}ms`;
  console.log(
    `\n[fire lateness] ${FIRES} fires of ${WORKFLOWS} per-second crons under the default 1 s loop ` +
      `(${((Date.now() - started) / 1000).toFixed(1)} s, real clock, SQLite store)`,
  );
  console.log(
    `  lateness: p50 ${f(percentile(lateness, 50))}, p90 ${f(percentile(lateness, 90))}, ` +
      `p99 ${f(percentile(lateness, 99))}, max ${f(Math.max(...lateness))}, min ${f(Math.min(...lateness))}`,
  );
  console.log(
    "  (the loop ticks, then sleeps 1 s: lateness runs from 0 to the interval plus one tick's\n" +
      "  work, plus whatever else keeps the event loop or the CPUs busy)",
  );
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
