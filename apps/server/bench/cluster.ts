/**
 * `pnpm bench` for promenade-server as a cluster, on one throwaway PostgreSQL (durable defaults)
 * on this machine:
 * - Throughput with 1, 2 and 3 nodes: BENCH_RUNS (100) trivial runs started through the HTTP API
 *   by 4 clients spread over the nodes, each waiting for its run's `end` frame on the node it
 *   started it on. All nodes share this machine's cores, so more nodes cannot add CPU here; the
 *   figure shows what coordination through the database costs.
 * - Cross-node live delivery: a run emitting 1,000 events/s on one node, followed over the WebSocket
 *   on the other; per event, emission (its `t`, before commit) to frame. Target: p99 ≤ 50 ms.
 * - Failover: a sleeping run's node is SIGKILLed, BENCH_KILLS (20) times; each time the time from
 *   the kill to the run running again on the surviving node (its `failover` pass's `running`
 *   event), with a lease of BENCH_LEASE_MS (3000). Target: at most lease + 2 s.
 * Prints medians and spreads. Run: `pnpm bench` (builds first) or `node bench/cluster.ts`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "@promenade/store/testing";
import { boot, median, requireBuild, round, summary, TRIVIAL } from "./server-bench.ts";
import type { Booted } from "./server-bench.ts";

const RUNS = Number(process.env["BENCH_RUNS"] ?? 100);
const KILLS = Number(process.env["BENCH_KILLS"] ?? 20);
const LEASE_MS = Number(process.env["BENCH_LEASE_MS"] ?? 3000);
const CLIENTS = 4;

/** 1,000 events/s for 5 s: a phase every millisecond, in bursts of 10 every 10 ms. */
const EMITTER = [
  'import { output, phase, sleep } from "@promenade/workflow";',
  'export const meta = { slug: "emitter", triggers: [{ kind: "manual" }] };',
  "await sleep(1000);",
  "for (let burst = 0; burst < 500; burst++) {",
  "  for (let i = 0; i < 10; i++) phase(`e${burst * 10 + i}`);",
  "  await sleep(10);",
  "}",
  "output(1);",
  "",
].join("\n");

const SLEEPER = [
  'import { output, sleep } from "@promenade/workflow";',
  'export const meta = { slug: "sleeper", triggers: [{ kind: "manual" }] };',
  "await sleep(600_000);",
  "output(1);",
  "",
].join("\n");

requireBuild();

const root = mkdtempSync(join(tmpdir(), "promenade-cluster-bench-"));
const workflowsDir = join(root, "workflows");
mkdirSync(workflowsDir);
writeFileSync(join(workflowsDir, "trivial.mjs"), TRIVIAL);
writeFileSync(join(workflowsDir, "sleeper.mjs"), SLEEPER);
writeFileSync(join(workflowsDir, "emitter.mjs"), EMITTER);
const postgres = await startPostgres({ durable: true });
let nodeCount = 0;

/** Boots one cluster node on `url`; resolves once it serves its workflows. */
async function node(url: string, id: string): Promise<Booted & { id: string }> {
  nodeCount += 1;
  const booted = await boot(
    join(root, "shared"),
    workflowsDir,
    url,
    {
      PROMENADE_WORK_DIR: join(root, `work-${String(nodeCount)}`),
      PROMENADE_CLUSTER: "1",
      PROMENADE_NODE_ID: id,
      PROMENADE_LEASE_MS: String(LEASE_MS),
    },
    false,
  );
  // Serving: the workflow is visible once the first node deployed it.
  for (;;) {
    const res = await fetch(`${booted.base}/api/workflows/trivial`);
    if (res.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { ...booted, id };
}

async function runOf(base: string, id: string): Promise<{ status: string; nodeId?: string }> {
  const res = await fetch(`${base}/api/runs/${id}`);
  return ((await res.json()) as { run: { status: string; nodeId?: string } }).run;
}

/**
 * Cross-node live delivery: a run emitting 1,000 events/s executes on one node while a WebSocket
 * client follows it on the other; for each event, the time from its emission in the run process
 * (its `t`, stamped before it is committed) to the frame's arrival at the client.
 */
async function crossNode(): Promise<void> {
  console.log("\n## cross-node live delivery: 1,000 events/s, client on the other node");
  const url = await postgres.createDatabase();
  const nodes = [await node(url, "x1"), await node(url, "x2")];
  try {
    const res = await fetch(`${nodes[0]!.base}/api/workflows/emitter/runs`, { method: "POST" });
    const { run } = (await res.json()) as { run: { id: string } };
    let holder: string | undefined;
    while (holder === undefined) {
      const row = await runOf(nodes[0]!.base, run.id);
      if (typeof row.nodeId === "string") holder = row.nodeId;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const follower = nodes.find((n) => n.id !== holder)!;
    const ws = new WebSocket(`${follower.base.replace("http", "ws")}/api/ws`);
    const latencies: number[] = [];
    const ended = new Promise<void>((resolve) => {
      ws.addEventListener("open", () => {
        ws.send(JSON.stringify({ type: "subscribe", sub: "s", runId: run.id, verbose: true }));
      });
      ws.addEventListener("message", (message) => {
        const at = Date.now();
        const frame = JSON.parse(String(message.data)) as {
          type: string;
          event?: { kind: string; t: number };
        };
        if (frame.type === "event" && frame.event?.kind === "phase") {
          latencies.push(at - frame.event.t);
        }
        if (frame.type === "end") resolve();
      });
    });
    await ended;
    ws.close();
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = sorted[Math.floor(0.99 * (sorted.length - 1))] ?? Number.NaN;
    console.log(
      `emit on ${holder} → frame on ${follower.id}: ${summary(latencies, 1)} ms, p99 ${p99.toFixed(1)} ms (n=${String(latencies.length)})`,
    );
    console.log(`target p99 ≤ 50 ms: ${p99 <= 50 ? "MEETS" : "MISSES"} target`);
  } finally {
    await Promise.all(nodes.map((booted) => booted.stop()));
  }
}

/** Events of `id` as `{ kind, status, reason, t }`. */
async function statusEvents(
  base: string,
  id: string,
): Promise<{ status: string; reason?: string; t: number }[]> {
  const res = await fetch(`${base}/api/runs/${id}/events?channels=lifecycle&limit=1000`);
  const { events } = (await res.json()) as {
    events: { event: { kind: string; status: string; reason?: string; t: number } }[];
  };
  return events.filter((row) => row.event.kind === "run_status").map((row) => row.event);
}

async function throughput(): Promise<void> {
  console.log(`\n## throughput: ${String(RUNS)} trivial runs, ${String(CLIENTS)} clients`);
  for (const count of [1, 2, 3]) {
    const url = await postgres.createDatabase();
    const nodes: Booted[] = [];
    for (let i = 0; i < count; i += 1)
      nodes.push(await node(url, `t${String(count)}-${String(i)}`));
    try {
      // Clients spread over the nodes: each node takes its share of the starts.
      const rounds = await Promise.all(
        nodes.map((booted, index) =>
          round(
            booted,
            Math.round(RUNS / count),
            Math.max(1, Math.round(CLIENTS / count) + (index < CLIENTS % count ? 1 : 0)),
          ),
        ),
      );
      const total = rounds.reduce((sum, r) => sum + r.runsPerSecond, 0);
      const latencies = rounds.flatMap((r) => r.latencies);
      console.log(
        `${String(count)} node(s): ${total.toFixed(1)} runs/s, latency ${summary(latencies, 0)} ms`,
      );
    } finally {
      await Promise.all(nodes.map((booted) => booted.stop()));
    }
  }
}

async function failover(): Promise<void> {
  console.log(`\n## failover: ${String(KILLS)} SIGKILLs, lease ${String(LEASE_MS)} ms`);
  const url = await postgres.createDatabase();
  let generation = 0;
  const fresh = (): Promise<Booted & { id: string }> => node(url, `f${String(++generation)}`);
  let nodes = [await fresh(), await fresh()];
  const delays: number[] = [];
  try {
    for (let kill = 0; kill < KILLS; kill += 1) {
      const res = await fetch(`${nodes[0]!.base}/api/workflows/sleeper/runs`, { method: "POST" });
      const { run } = (await res.json()) as { run: { id: string } };
      let holder: string | undefined;
      while (holder === undefined) {
        const row = await runOf(nodes[0]!.base, run.id);
        if (row.status === "running" && row.nodeId !== undefined) holder = row.nodeId;
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const victim = nodes.find((n) => n.id === holder);
      if (victim === undefined) throw new Error(`run ${run.id} is held by unknown node ${holder}`);
      const survivor = nodes.find((n) => n !== victim)!;
      const killedAt = Date.now();
      victim.child.kill("SIGKILL");
      for (;;) {
        const events = await statusEvents(survivor.base, run.id);
        const back = events.find((e) => e.status === "running" && e.reason === "failover");
        if (back !== undefined) {
          delays.push(back.t - killedAt);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await fetch(`${survivor.base}/api/runs/${run.id}/cancel`, { method: "POST" });
      nodes = [survivor, await fresh()];
    }
    const within = delays.filter((ms) => ms <= LEASE_MS + 2000).length;
    console.log(`kill → running elsewhere: ${summary(delays, 0)} ms`);
    console.log(
      `target ≤ lease + 2 s (${String(LEASE_MS + 2000)} ms): ${String(within)}/${String(delays.length)} within; median ${median(delays) <= LEASE_MS + 2000 ? "MEETS" : "MISSES"} target`,
    );
  } finally {
    await Promise.all(nodes.map((booted) => booted.stop()));
  }
}

try {
  console.log(`# promenade-server cluster (node ${process.version}, ${new Date().toISOString()})`);
  await throughput();
  await crossNode();
  await failover();
} finally {
  await postgres.destroy();
  rmSync(root, { recursive: true, force: true });
}
