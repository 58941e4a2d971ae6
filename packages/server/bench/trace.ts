/**
 * `pnpm --filter @promenade/server bench` (trace part): `GET /api/runs/:id/trace` latency over
 * loopback for runs of 10,000 events shaped like agent runs (phases, turns with tool calls,
 * streamed text, per-request model records). Cold: the first read of each run (the whole log is
 * read and built); warm: a second read (nothing new to consume). Also the steps of a 50,000-event
 * run. The engine is the in-memory fake, so this measures the server's own work (reading pages,
 * building, folding, serialising); prints p50/p95, no assertions.
 */
import { createPromenadeServer, TRACE_SCAN_BUDGET } from "../src/index.ts";
import { createFakeEngine, fillAgentShapedRun } from "../src/testing/index.ts";

const RUNS = Number(process.env["BENCH_TRACE_RUNS"] ?? 40);
const EVENTS = 10_000;

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? 0;
}

interface TraceBody {
  coverage: { complete: boolean; eventsScanned: number };
  spans: unknown[];
}

/**
 * Server-side time of each request, from the `request` event to the response's `finish`: wall
 * time and the process's CPU time (requests run one at a time, so the CPU delta is that
 * request's; the client parses the body after `finish`). CPU time stays meaningful on a loaded
 * machine, where wall time mostly measures waiting for a core.
 */
const serverSide: { wall: number; cpu: number }[] = [];

async function timed(url: string): Promise<{ ms: number; body: TraceBody }> {
  const started = performance.now();
  const res = await fetch(url);
  const body = (await res.json()) as TraceBody;
  return { ms: performance.now() - started, body };
}

const engine = createFakeEngine();
engine.addWorkflow({ slug: "bench" });
const ids: string[] = [];
for (let i = 0; i < RUNS; i++) {
  const run = await engine.startRun("bench", { triggerKind: "manual" });
  fillAgentShapedRun(engine, run.id, EVENTS);
  ids.push(run.id);
}
const count = engine.peekEvents(ids[0] ?? "").length;
const big = await engine.startRun("bench", { triggerKind: "manual" });
fillAgentShapedRun(engine, big.id, 50_000);

const server = createPromenadeServer(engine, { log: () => {} });
server.httpServer.prependListener("request", (_req, res) => {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  res.once("finish", () => {
    const used = process.cpuUsage(cpu);
    serverSide.push({ wall: performance.now() - wall, cpu: (used.user + used.system) / 1000 });
  });
});
const { port } = await server.listen(0);
const base = `http://127.0.0.1:${port}`;
await timed(`${base}/api/runs/${ids[0] ?? ""}`); // open the connection

async function round(): Promise<{ client: number[]; side: { wall: number; cpu: number }[] }> {
  const client: number[] = [];
  serverSide.length = 0;
  for (const id of ids) {
    const r = await timed(`${base}/api/runs/${id}/trace`);
    if (!r.body.coverage.complete) throw new Error("a 10,000-event trace should be complete");
    client.push(r.ms);
  }
  return { client, side: serverSide.splice(0) };
}

function line(
  label: string,
  r: { client: number[]; side: { wall: number; cpu: number }[] },
): string {
  const wall = r.side.map((x) => x.wall);
  const cpu = r.side.map((x) => x.cpu);
  return (
    `  ${label} client p50 ${percentile(r.client, 50).toFixed(1)} ms, p95 ${percentile(r.client, 95).toFixed(1)} ms` +
    ` | server wall p50 ${percentile(wall, 50).toFixed(1)} ms, cpu p50 ${percentile(cpu, 50).toFixed(1)} ms`
  );
}

const spans = (await timed(`${base}/api/runs/${ids[0] ?? ""}/trace`)).body.spans.length;
const cold = await round(); // every run but the first is read for the first time
const warm = await round();
console.log(
  `Trace API: ${RUNS} runs of ${count} events (${spans} spans each), one request at a time`,
);
console.log(line("cold (first read):", cold));
console.log(line("warm (cached):    ", warm));
const steps: string[] = [];
for (;;) {
  serverSide.length = 0;
  const r = await timed(`${base}/api/runs/${big.id}/trace`);
  const side = serverSide[0];
  steps.push(
    `${r.ms.toFixed(1)} ms, server cpu ${(side?.cpu ?? 0).toFixed(1)} ms (${r.body.coverage.eventsScanned} events, ${r.body.spans.length} spans)`,
  );
  if (r.body.coverage.complete) break;
}
console.log(`  50,000-event run, ${TRACE_SCAN_BUDGET} events per request: ${steps.join("; ")}`);
await server.close({ graceMs: 100 });
