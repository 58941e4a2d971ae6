/**
 * `pnpm bench` for @promenade/engine, from the built dist (run `pnpm build` first; turbo's
 * `bench` task does). Measured side by side in one run on this machine:
 * cold start vs a bare `spawn(node)` IPC floor, warm-pool start, throughput with peak RSS of the
 * process tree, a sleeping run's private memory vs a bare idle node child, phase() ×20,000
 * end to end vs the store's batched insert rate, phase() ×20,000 end to end on PostgreSQL, and
 * `startRun()` latency while a burst of 100 runs boots. Prints figures and the target verdicts,
 * then one table of the start-latency and throughput targets: figure, its floor measured in the
 * same run, ratio, target, verdict.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Engine } from "@promenade/engine";
import { openStore } from "@promenade/store";
import { startPostgres } from "@promenade/store/testing";
import {
  commandLine,
  privateKiB,
  processTree,
  reapedChildrenCpuMs,
  sampleTreePeak,
} from "./proc.ts";

const BARE_CHILD = fileURLToPath(new URL("./fixtures/bare-child.mjs", import.meta.url));
const roots: string[] = [];

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "promenade-bench-"));
  roots.push(dir);
  return dir;
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function spread(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const p = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `min ${sorted[0]!.toFixed(1)} / p90 ${p(0.9).toFixed(1)} / max ${sorted.at(-1)!.toFixed(1)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function verdict(ok: boolean): string {
  return ok ? "MEETS target" : "MISSES target";
}

/** The value at quantile `q` (0..1) of `values`. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** One row of the closing table. */
interface TargetRow {
  figure: string;
  value: string;
  floor: string;
  ratio: string;
  target: string;
  ok: boolean;
}

const targetRows: TargetRow[] = [];

function printTargetTable(): void {
  if (targetRows.length === 0) return;
  const header = ["figure", "value", "floor (same run)", "ratio", "target", "verdict"];
  const lines = targetRows.map((row) => [
    row.figure,
    row.value,
    row.floor,
    row.ratio,
    row.target,
    row.ok ? "MEETS" : "MISSES",
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column]!.length)),
  );
  const format = (cells: string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`;
  console.log("\n## Start and throughput targets (each with its floor from this run)");
  console.log(format(header));
  console.log(format(widths.map((width) => "-".repeat(width))));
  for (const line of lines) console.log(format(line));
}

const FIRST_STATEMENT = [
  'import { output } from "@promenade/workflow";',
  'export const meta = { slug: "first-statement", triggers: [{ kind: "manual" }] };',
  "output(performance.timeOrigin + performance.now());",
].join("\n");

const TRIVIAL = [
  'import { output } from "@promenade/workflow";',
  'export const meta = { slug: "trivial", triggers: [{ kind: "manual" }] };',
  "output(1);",
].join("\n");

/** Time from spawn() to the child's first statement, for a bare node child with IPC. */
function bareSpawnLatencyMs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = nowMs();
    const child = spawn(process.execPath, [BARE_CHILD, "first"], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    child.once("message", (message) => {
      resolve(Number(message) - started);
      child.disconnect();
    });
    child.once("error", reject);
  });
}

/** One bare node child with IPC from spawn to close (it sends one message and exits). */
function bareSpawnRun(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BARE_CHILD, "once"], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    child.stdout?.resume();
    child.stderr?.resume();
    child.once("error", reject);
    child.once("close", () => resolve());
  });
}

/** The process-per-run floor of this machine: bare node children, 50 in a row and 100 at once. */
async function bareThroughput(): Promise<{ sequential: number; concurrent: number }> {
  let started = nowMs();
  for (let index = 0; index < 50; index += 1) await bareSpawnRun();
  const sequential = 50 / ((nowMs() - started) / 1000);
  started = nowMs();
  await Promise.all(Array.from({ length: 100 }, () => bareSpawnRun()));
  const concurrent = 100 / ((nowMs() - started) / 1000);
  return { sequential, concurrent };
}

function newEngine(dataDir: string, warmPoolSize = 0, runNiceness = 0): Engine {
  return new Engine({ dataDir, log: () => undefined, warmPoolSize, runNiceness });
}

/** Per run: startRun → the program's first statement, and startRun → `waitForRun` resolved. */
async function startLatencies(
  engine: Engine,
  count: number,
  pauseMs: number,
): Promise<{ first: number[]; done: number[] }> {
  engine.deployWorkflow({ program: FIRST_STATEMENT });
  const first: number[] = [];
  const done: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const started = nowMs();
    const { id } = engine.startRun("first-statement");
    const run = await engine.waitForRun(id);
    done.push(nowMs() - started);
    first.push(Number(run.output) - started);
    if (pauseMs > 0) await sleep(pauseMs);
  }
  return { first, done };
}

/**
 * The warm-pool floor: a bare node child that has booted gets one message, reports a timestamp
 * and exits. Per sample: send → its report, and send → its `close`.
 */
async function bareWarmLatency(): Promise<{ first: number; done: number }> {
  const child = spawn(process.execPath, [BARE_CHILD, "warm"], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "json",
  });
  child.stdout?.resume();
  child.stderr?.resume();
  await new Promise<void>((resolve) => child.once("message", () => resolve()));
  await sleep(150); // like the engine's pool, the child idles before its run arrives
  return new Promise((resolve, reject) => {
    let first = Number.NaN;
    const sent = nowMs();
    child.once("message", (message) => {
      first = Number(message) - sent;
    });
    child.once("close", () => resolve({ first, done: nowMs() - sent }));
    child.once("error", reject);
    child.send(1);
  });
}

async function coldStart(): Promise<void> {
  const rounds = 15;
  const bare: number[] = [];
  const cold: number[] = [];
  const engine = newEngine(tempDataDir());
  await startLatencies(engine, 2, 0); // warm the engine process's own caches
  for (let index = 0; index < rounds; index += 1) {
    bare.push(await bareSpawnLatencyMs());
    cold.push(...(await startLatencies(engine, 1, 0)).first);
  }
  await engine.closeGracefully();
  const ratio = median(cold) / median(bare);
  console.log(`\n## Run start latency, cold (startRun → first statement), n=${rounds}`);
  console.log(`bare spawn(node)+IPC floor: median ${median(bare).toFixed(1)} ms (${spread(bare)})`);
  console.log(`engine cold start:          median ${median(cold).toFixed(1)} ms (${spread(cold)})`);
  console.log(`ratio ${ratio.toFixed(2)}× the floor — target ≤ 1.3×: ${verdict(ratio <= 1.3)}`);
  targetRows.push({
    figure: "cold start → first statement, median",
    value: `${median(cold).toFixed(1)} ms`,
    floor: `${median(bare).toFixed(1)} ms (bare spawn+IPC)`,
    ratio: `${ratio.toFixed(2)}×`,
    target: "≤ 1.3×",
    ok: ratio <= 1.3,
  });
}

async function warmStart(): Promise<void> {
  const engine = newEngine(tempDataDir(), 4);
  await sleep(1500); // let the pool fill
  await startLatencies(engine, 2, 300);
  const { first: samples, done } = await startLatencies(engine, 30, 150);
  await engine.closeGracefully();
  const bareFirst: number[] = [];
  const bareDone: number[] = [];
  for (let index = 0; index < 15; index += 1) {
    const floor = await bareWarmLatency();
    bareFirst.push(floor.first);
    bareDone.push(floor.done);
  }
  const p50 = median(samples);
  const doneP50 = median(done);
  console.log(`\n## Run start latency, warm pool (size 4), n=${samples.length}`);
  console.log(
    `p50 ${p50.toFixed(1)} ms (${spread(samples)}) — target p50 ≤ 3 ms: ${verdict(p50 <= 3)}`,
  );
  console.log(
    `completion (startRun → waitForRun resolved): p50 ${doneP50.toFixed(1)} ms (${spread(done)})`,
  );
  console.log(
    `floor (a booted bare child gets one message, reports, exits): report p50 ${median(bareFirst).toFixed(1)} ms, close p50 ${median(bareDone).toFixed(1)} ms`,
  );
  targetRows.push(
    {
      figure: "warm pool: startRun → first statement, p50",
      value: `${p50.toFixed(1)} ms`,
      floor: `${median(bareFirst).toFixed(1)} ms (message → report, booted bare child)`,
      ratio: `${(p50 / median(bareFirst)).toFixed(2)}×`,
      target: "≤ 3 ms",
      ok: p50 <= 3,
    },
    {
      figure: "warm pool: startRun → completion, p50",
      value: `${doneP50.toFixed(1)} ms`,
      floor: `${median(bareDone).toFixed(1)} ms (message → close, booted bare child)`,
      ratio: `${(doneP50 / median(bareDone)).toFixed(2)}×`,
      target: "≤ 8 ms",
      ok: doneP50 <= 8,
    },
  );
}

async function throughput(warmPoolSize: number): Promise<void> {
  const engine = newEngine(tempDataDir(), warmPoolSize);
  engine.deployWorkflow({ program: TRIVIAL });
  if (warmPoolSize > 0) await sleep(1500);
  await engine.waitForRun(engine.startRun("trivial").id);
  let sampler = sampleTreePeak();
  const cpuBefore = process.cpuUsage();
  const childCpuBefore = reapedChildrenCpuMs();
  let started = nowMs();
  for (let index = 0; index < 50; index += 1) {
    await engine.waitForRun(engine.startRun("trivial").id);
  }
  const sequentialSeconds = (nowMs() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // Noise-robust per-run costs (CPU, not wall time): the engine process, and the run processes
  // reaped so far (with a pool these include the refills, one per run).
  const engineCpuPerRun = (cpu.user + cpu.system) / 1000 / 50;
  const childCpuPerRun = (reapedChildrenCpuMs() - childCpuBefore) / 50;
  const sequentialPeak = sampler.stop();
  sampler = sampleTreePeak({ pss: true });
  started = nowMs();
  const ids = Array.from({ length: 100 }, () => engine.startRun("trivial").id);
  const rows = await Promise.all(ids.map((id) => engine.waitForRun(id)));
  const concurrentSeconds = (nowMs() - started) / 1000;
  const concurrentPeak = sampler.stop();
  await engine.closeGracefully();
  const failed = rows.filter((row) => row.status !== "completed").length;
  const sequentialRate = 50 / sequentialSeconds;
  const concurrentRate = 100 / concurrentSeconds;
  const floor = await bareThroughput();
  const label = warmPoolSize > 0 ? `warm pool size ${warmPoolSize}` : "no pool (embedded default)";
  console.log(`\n## Throughput, trivial runs, ${label}`);
  console.log(
    `floor (bare spawn(node)+IPC, same run): 50 sequential ${floor.sequential.toFixed(1)} runs/s, 100 at once ${floor.concurrent.toFixed(1)} runs/s`,
  );
  console.log(
    `CPU per run (50 sequential): engine process ${engineCpuPerRun.toFixed(1)} ms, run processes ${childCpuPerRun.toFixed(1)} ms`,
  );
  console.log(
    `50 sequential: ${sequentialRate.toFixed(1)} runs/s, peak tree RSS ${(sequentialPeak.rss / 1024).toFixed(0)} MiB — target ≥ 40 runs/s (5× ~8): ${verdict(sequentialRate >= 40)}`,
  );
  console.log(
    `100 at once:   ${concurrentRate.toFixed(1)} runs/s, peak tree RSS ${(concurrentPeak.rss / 1024).toFixed(0)} MiB (PSS ${(concurrentPeak.pss / 1024).toFixed(0)} MiB), ${failed} not completed — target ≥ 65 runs/s (5× ~13): ${verdict(concurrentRate >= 65)}`,
  );
  if (warmPoolSize > 0) {
    const share = sequentialRate / floor.sequential;
    targetRows.push({
      figure: `50 sequential trivial runs, ${label}`,
      value: `${sequentialRate.toFixed(1)} runs/s`,
      floor: `${floor.sequential.toFixed(1)} runs/s (bare children, one after another)`,
      ratio: `${(share * 100).toFixed(0)}%`,
      target: "≥ 80%",
      ok: share >= 0.8,
    });
  } else {
    const share = concurrentRate / floor.concurrent;
    targetRows.push(
      {
        figure: `100 trivial runs at once, ${label}`,
        value: `${concurrentRate.toFixed(1)} runs/s${failed > 0 ? ` (${failed} not completed)` : ""}`,
        floor: `${floor.concurrent.toFixed(1)} runs/s (100 bare children at once)`,
        ratio: `${(share * 100).toFixed(0)}%`,
        target: "≥ 80%",
        ok: share >= 0.8 && failed === 0,
      },
      {
        figure: "peak tree RSS, 100 runs at once",
        value: `${(concurrentPeak.rss / 1024).toFixed(0)} MiB (PSS ${(concurrentPeak.pss / 1024).toFixed(0)} MiB)`,
        floor: "—",
        ratio: "—",
        target: "≤ 400 MiB",
        ok: concurrentPeak.rss / 1024 <= 400,
      },
    );
  }
}

/**
 * How responsive `startRun()` stays while a burst boots: 100 starts, each issued from its own
 * turn of the event loop, while the earlier ones' processes are created and boot. Per start: the
 * call itself, and the time from queueing its turn to the call's return (the turn waits behind
 * whatever else the engine does meanwhile: process creation, IPC, store writes).
 */
async function startBurst(runNiceness: number): Promise<void> {
  const engine = newEngine(tempDataDir(), 0, runNiceness);
  engine.deployWorkflow({ program: TRIVIAL });
  await engine.waitForRun(engine.startRun("trivial").id);
  const calls: number[] = [];
  const waits: number[] = [];
  const ids: string[] = [];
  for (let index = 0; index < 100; index += 1) {
    const queued = nowMs();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const called = nowMs();
    ids.push(engine.startRun("trivial").id);
    const returned = nowMs();
    calls.push(returned - called);
    waits.push(returned - queued);
  }
  const rows = await Promise.all(ids.map((id) => engine.waitForRun(id)));
  await engine.closeGracefully();
  const failed = rows.filter((row) => row.status !== "completed").length;
  const p99 = quantile(waits, 0.99);
  console.log(
    `\n## startRun() during a burst of 100 runs (no pool), one start per turn, runNiceness ${String(runNiceness)}`,
  );
  console.log(
    `call alone:              p50 ${median(calls).toFixed(2)} ms, p99 ${quantile(calls, 0.99).toFixed(2)} ms (${spread(calls)})`,
  );
  console.log(
    `turn queued → returned:  p50 ${median(waits).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (${spread(waits)}), ${failed} not completed — target p99 ≤ 2 ms: ${verdict(p99 <= 2)}`,
  );
  targetRows.push({
    figure: `startRun() in a 100-run burst, turn queued → returned, p99 (runNiceness ${String(runNiceness)})`,
    value: `${p99.toFixed(2)} ms (call alone p99 ${quantile(calls, 0.99).toFixed(2)} ms)`,
    floor: "—",
    ratio: "—",
    target: "≤ 2 ms",
    ok: p99 <= 2 && failed === 0,
  });
}

async function sleepingMemory(): Promise<void> {
  const bare = spawn(process.execPath, [BARE_CHILD, "idle"], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "json",
  });
  const engine = newEngine(tempDataDir());
  engine.deployWorkflow({
    program: [
      'import { sleep, output } from "@promenade/workflow";',
      'export const meta = { slug: "sleeper", triggers: [{ kind: "manual" }] };',
      "await sleep(60_000);",
      "output(1);",
    ].join("\n"),
  });
  const { id } = engine.startRun("sleeper");
  for (;;) {
    if (engine.store.getRun(id)?.status === "running") break;
    await sleep(20);
  }
  await sleep(1500); // let both processes settle (lazy compilation, GC)
  const runPid = processTree(process.pid).find(
    (pid) => pid !== process.pid && pid !== bare.pid && commandLine(pid).includes("child.js"),
  );
  const runKiB = runPid === undefined ? Number.NaN : privateKiB(runPid);
  const bareKiB = privateKiB(bare.pid!);
  await engine.cancelRun(id);
  await engine.closeGracefully();
  bare.kill();
  const ratio = runKiB / bareKiB;
  console.log("\n## Sleeping run private memory (smaps_rollup Private_Clean+Private_Dirty)");
  console.log(`bare idle node child: ${(bareKiB / 1024).toFixed(1)} MiB`);
  console.log(`sleeping run process: ${(runKiB / 1024).toFixed(1)} MiB`);
  console.log(`ratio ${ratio.toFixed(2)}× — target ≤ 2×: ${verdict(ratio <= 2)}`);
}

async function phases(): Promise<void> {
  const count = 20_000;
  const engine = newEngine(tempDataDir());
  engine.deployWorkflow({
    program: [
      'import { phase } from "@promenade/workflow";',
      'export const meta = { slug: "phases", triggers: [{ kind: "manual" }] };',
      `for (let i = 0; i < ${count}; i++) phase("p" + i);`,
    ].join("\n"),
  });
  const started = nowMs();
  const run = await engine.waitForRun(engine.startRun("phases").id);
  const seconds = (nowMs() - started) / 1000;
  const persisted = engine.store
    .listEvents(run.id)
    .filter((row) => row.event.kind === "phase").length;
  await engine.closeGracefully();
  const endToEnd = persisted / seconds;

  // The store's raw batched insert rate: the same event shape appended in batches of 500.
  const dir = tempDataDir();
  const store = openStore({ path: join(dir, "promenade.db") });
  const workflow = store.upsertWorkflow({
    slug: "raw",
    manifest: runManifest() as never,
    program: "export const meta = {};",
  });
  const raw = store.createRun({ workflowId: workflow.id, triggerKind: "manual" }).run;
  const batch = 500;
  const rawStarted = nowMs();
  for (let offset = 0; offset < count; offset += batch) {
    const rows = Array.from({ length: batch }, (_, index) => {
      const seq = offset + index + 1;
      return {
        // Past the run's queued event (cursor 1), in the next cursor block.
        cursor: 1_000_000 + seq,
        event: {
          kind: "phase" as const,
          name: `p${seq}`,
          id: `phase-${seq}`,
          runId: raw.id,
          turnId: raw.id,
          seq,
          t: Date.now(),
        },
      };
    });
    store.appendEvents(raw.id, rows);
  }
  const rawRate = count / ((nowMs() - rawStarted) / 1000);
  store.close();
  const share = endToEnd / rawRate;
  console.log(`\n## phase() ×${count} in one program`);
  console.log(
    `end to end: ${persisted} events persisted, ${endToEnd.toFixed(0)} events/s (startRun → terminal)`,
  );
  console.log(`store batched appendEvents (batches of ${batch}): ${rawRate.toFixed(0)} events/s`);
  console.log(`share ${(share * 100).toFixed(1)}% — target ≥ 10%: ${verdict(share >= 0.1)}`);
}

/** phase() ×20,000 end to end on PostgreSQL (a throwaway cluster with its durable defaults). */
async function postgresPhases(): Promise<void> {
  const count = 20_000;
  const target = 20_000;
  const postgres = await startPostgres({ durable: true });
  try {
    const rates: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      const engine = await Engine.open({
        dataDir: tempDataDir(),
        databaseUrl: await postgres.createDatabase(),
        log: () => undefined,
      });
      await engine.deploy({
        program: [
          'import { phase } from "@promenade/workflow";',
          'export const meta = { slug: "phases", triggers: [{ kind: "manual" }] };',
          `for (let i = 0; i < ${count}; i++) phase("p" + i);`,
        ].join("\n"),
      });
      const started = nowMs();
      const run = await engine.waitForRun((await engine.createRun("phases")).id);
      const seconds = (nowMs() - started) / 1000;
      const events = await engine.storeAsync.listEvents(run.id, { channels: ["phase"] });
      await engine.closeGracefully();
      if (run.status !== "completed" || events.length !== count) {
        throw new Error(`phases run ended ${run.status} with ${events.length} phase events`);
      }
      rates.push(count / seconds);
    }
    const rate = median(rates);
    console.log(`\n## phase() ×${count} in one program, PostgreSQL (durable), 3 rounds`);
    console.log(
      `end to end: median ${rate.toFixed(0)} events/s (${spread(rates)}) — target ≥ ${target}: ${verdict(rate >= target)}`,
    );
  } finally {
    await postgres.destroy();
  }
}

function runManifest(): Record<string, unknown> {
  return {
    slug: "raw",
    triggers: [{ kind: "manual" }],
    concurrency: { mode: "unlimited" },
    runs_on: "boardwalk/linux",
    callable_by: "anyone_in_org",
  };
}

try {
  console.log(
    `# @promenade/engine benchmarks (node ${process.version}, ${new Date().toISOString()})`,
  );
  // `pnpm bench -- <section…>` runs only the named sections.
  const only = new Set(process.argv.slice(2));
  const want = (name: string): boolean => only.size === 0 || only.has(name);
  if (want("cold")) await coldStart();
  if (want("warm")) await warmStart();
  if (want("throughput")) {
    await throughput(0);
    await throughput(4);
  }
  if (want("burst")) {
    await startBurst(0);
    await startBurst(10);
  }
  if (want("memory")) await sleepingMemory();
  if (want("phases")) await phases();
  if (want("phases-pg")) await postgresPhases();
  printTargetTable();
} finally {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
}
