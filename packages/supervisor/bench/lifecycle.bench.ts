/**
 * Supervisor benchmarks (`pnpm bench`): start latency cold vs. the bare-spawn floor, warm-pool
 * start latency, throughput sequential and concurrent, and end-to-end event persistence of
 * `phase()` ×20,000 against the store's raw batched insert rate. Uses the built child runtime
 * (dist/child.js) and the real SQLite store. Prints figures; asserts nothing.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore } from "@promenade/store";
import type { Store } from "@promenade/store";
import { defaultLaunch, RunSupervisor } from "../src/index.ts";

// The two plain-JS entries are written at start-up: a bare Node child (the floor) and the run
// process over the built child runtime (dist/child.js, so no type stripping is measured).
const entriesDir = mkdtempSync(join(tmpdir(), "promenade-supervisor-bench-entries-"));
const bareChild = join(entriesDir, "bare-child.mjs");
const runProcess = join(entriesDir, "run-process.mjs");
writeFileSync(
  bareChild,
  "process.send(performance.timeOrigin + performance.now(), () => process.exit(0));\n",
);
writeFileSync(
  runProcess,
  `import { runChild } from ${JSON.stringify(fileURLToPath(new URL("../dist/child.js", import.meta.url)))};\nrunChild();\n`,
);
const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `p50 ${at(0.5).toFixed(2)} ms (p10 ${at(0.1).toFixed(2)}, p90 ${at(0.9).toFixed(2)}, n=${values.length})`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Private (unshared) memory of a process in KiB, from /proc (Linux). */
function privateKiB(pid: number): number {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return field("Private_Clean") + field("Private_Dirty");
}

async function sleepingMemory(): Promise<{ bare: number; run: number }> {
  const bare = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const pids: number[] = [];
  const r = rig(0, (pid) => pids.push(pid));
  r.deploy("sleeper", 'phase("sleeping"); await new Promise((r) => setTimeout(r, 60_000));');
  const id = r.start("sleeper");
  void r.supervisor.supervise(id).catch(() => undefined);
  while (!r.store.listEvents(id).some((e) => e.event.kind === "phase")) await sleep(20);
  await sleep(500);
  const result = { bare: privateKiB(bare.pid ?? 0), run: privateKiB(pids[0] ?? 0) };
  bare.kill();
  await r.close();
  return result;
}

async function bareSpawn(): Promise<number> {
  const t0 = nowMs();
  const child = spawn(process.execPath, [bareChild], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "json",
  });
  const first = await new Promise<number>((resolve) =>
    child.once("message", (m) => resolve(m as number)),
  );
  await new Promise((r) => child.once("exit", r));
  return first - t0;
}

interface Rig {
  store: Store;
  supervisor: RunSupervisor;
  dataDir: string;
  start(slug: string): string;
  deploy(slug: string, body: string): void;
  close(): Promise<void>;
}

function rig(poolSize = 0, onSpawn?: (pid: number) => void): Rig {
  const dataDir = mkdtempSync(join(tmpdir(), "promenade-supervisor-bench-"));
  const store = openStore({ path: join(dataDir, "promenade.db") });
  const supervisor = new RunSupervisor({
    store,
    dataDir,
    childEntryPath: runProcess,
    env: new Map(),
    processEnv: {},
    envLabel: "bench",
    priceUsage: () => 0,
    log: () => undefined,
    pool: { size: poolSize },
    ...(onSpawn === undefined
      ? {}
      : {
          launch: (args) => {
            const child = defaultLaunch(args);
            if (child.pid !== undefined) onSpawn(child.pid);
            return child;
          },
        }),
  });
  return {
    store,
    supervisor,
    dataDir,
    deploy(slug, body) {
      const meta = { slug, triggers: [{ kind: "manual" }] };
      store.upsertWorkflow({
        slug,
        manifest: {
          ...meta,
          concurrency: { mode: "unlimited" },
          runs_on: "boardwalk/linux",
          callable_by: "anyone_in_org",
        } as never,
        program: `import { phase, output } from "@promenade/workflow";\nexport const meta = ${JSON.stringify(meta)};\n${body}`,
      });
    },
    start(slug) {
      const workflow = store.getWorkflow(slug);
      if (workflow === null) throw new Error(slug);
      // The store writes the run's `queued` event with the row.
      return store.createRun({ workflowId: workflow.id, triggerKind: "manual" }).run.id;
    },
    async close() {
      await supervisor.shutdown();
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startLatency(r: Rig, gapMs: number, n: number): Promise<number[]> {
  r.deploy("first", "phase(String(performance.timeOrigin + performance.now()));");
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    const id = r.start("first");
    await r.supervisor.supervise(id);
    const phase = r.store.listEvents(id).find((e) => e.event.kind === "phase");
    if (phase?.event.kind !== "phase") throw new Error("no phase event");
    out.push(Number(phase.event.name) - t0);
    if (gapMs > 0) await sleep(gapMs);
  }
  return out;
}

async function main(): Promise<void> {
  const N = 20;
  const floor: number[] = [];
  for (let i = 0; i < N; i++) floor.push(await bareSpawn());

  const cold = rig(0);
  await startLatency(cold, 0, 3); // warm the page cache
  const coldTimes = await startLatency(cold, 0, N);
  cold.deploy("trivial", "output(1);");
  let t = performance.now();
  for (let i = 0; i < 50; i++) await cold.supervisor.supervise(cold.start("trivial"));
  const sequential = 50 / ((performance.now() - t) / 1000);
  t = performance.now();
  await Promise.all(
    Array.from({ length: 100 }, () => cold.supervisor.supervise(cold.start("trivial"))),
  );
  const concurrent = 100 / ((performance.now() - t) / 1000);

  cold.deploy("phases", "for (let i = 0; i < 20000; i++) phase(`p${i}`);");
  t = performance.now();
  const phasesRun = cold.start("phases");
  await cold.supervisor.supervise(phasesRun);
  const phaseSeconds = (performance.now() - t) / 1000;
  const persisted = cold.store.listEvents(phasesRun).filter((e) => e.event.kind === "phase").length;
  const raw = cold.start("trivial");
  const rows = Array.from({ length: 20000 }, (_, i) => ({
    cursor: i + 2,
    event: {
      kind: "phase" as const,
      name: `p${i}`,
      id: `phase-${i}`,
      runId: raw,
      turnId: raw,
      seq: i + 1,
      t: Date.now(),
    },
  }));
  t = performance.now();
  for (let i = 0; i < rows.length; i += 1000) cold.store.appendEvents(raw, rows.slice(i, i + 1000));
  const rawRate = rows.length / ((performance.now() - t) / 1000);
  await cold.close();

  const warm = rig(4);
  await sleep(1000);
  await startLatency(warm, 150, 3);
  const warmTimes = await startLatency(warm, 150, N);
  warm.deploy("trivial", "output(1);");
  await sleep(500);
  t = performance.now();
  for (let i = 0; i < 50; i++) await warm.supervisor.supervise(warm.start("trivial"));
  const warmSequential = 50 / ((performance.now() - t) / 1000);
  await warm.close();

  const memory = await sleepingMemory();
  const ratio = median(coldTimes) / median(floor);
  console.log(
    "@promenade/supervisor bench (start latency = supervise() → program's first statement)",
  );
  console.log(`  bare spawn floor (node + IPC)   ${stats(floor)}`);
  console.log(
    `  cold start                      ${stats(coldTimes)}  → ${ratio.toFixed(2)}× floor`,
  );
  console.log(`  warm pool (size 4)              ${stats(warmTimes)}`);
  console.log(`  throughput cold, 50 sequential  ${sequential.toFixed(1)} runs/s`);
  console.log(`  throughput cold, 100 at once    ${concurrent.toFixed(1)} runs/s`);
  console.log(`  throughput warm, 50 sequential  ${warmSequential.toFixed(1)} runs/s`);
  console.log(
    `  sleeping run private memory     ${(memory.run / 1024).toFixed(1)} MiB vs bare idle node ${(memory.bare / 1024).toFixed(1)} MiB → ${(memory.run / memory.bare).toFixed(2)}×`,
  );
  console.log(
    `  phase() ×20,000                 ${persisted} persisted in ${phaseSeconds.toFixed(2)} s = ${(persisted / phaseSeconds).toFixed(0)} events/s ` +
      `(${((persisted / phaseSeconds / rawRate) * 100).toFixed(1)}% of raw batched insert ${rawRate.toFixed(0)} rows/s)`,
  );
}

await main();
rmSync(entriesDir, { recursive: true, force: true });
