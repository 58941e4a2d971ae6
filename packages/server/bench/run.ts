/**
 * `pnpm --filter @promenade/server bench`: WebSocket fan-out against a bare `ws` server pushing
 * the same frames, one write per socket per turn like ours (the floor, measured in the same run), and JSON API requests/s under 32
 * keep-alive connections. Clients run in worker threads so the server under test has the main
 * thread to itself. Prints medians and spreads over several rounds, then the fan-out target as
 * one table row (figure, floor, ratio, target, verdict); no assertions (numbers depend on the
 * machine).
 */
import { Worker } from "node:worker_threads";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { WebSocket } from "ws";
import { createPromenadeServer } from "../src/index.ts";
import { createFakeEngine } from "../src/testing/index.ts";

const EVENTS = Number(process.env["BENCH_EVENTS"] ?? 50_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const now = (): number => performance.timeOrigin + performance.now();

interface WsResult {
  /** Events delivered per second, from the first event produced to the last one delivered. */
  rate: number;
  p50: number;
  p99: number;
}

/** What a client worker reports: `last` is when the last event arrived (same clock as `now`). */
interface WorkerResult {
  delivered: number;
  seconds: number;
  last: number;
  p50: number;
  p99: number;
}

function startWorker<T>(file: string, data: unknown, onReady?: () => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(file, import.meta.url), { workerData: data });
    worker.on("message", (msg: { type?: string }) => {
      if (msg.type === "ready") onReady?.();
      else {
        resolve(msg as T);
        void worker.terminate();
      }
    });
    worker.on("error", reject);
  });
}

/** Emit `EVENTS` phase events in batches, yielding between batches like a real producer. */
async function produce(emit: (i: number) => void): Promise<void> {
  for (let i = 0; i < EVENTS; i++) {
    emit(i);
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
}

async function ours(subscribers: number): Promise<WsResult> {
  const engine = createFakeEngine({ now });
  engine.addWorkflow({ slug: "bench" });
  const server = createPromenadeServer(engine, { log: () => {} });
  const { port } = await server.listen(0);
  const run = await engine.startRun("bench", { triggerKind: "manual" });
  engine.setStatus(run.id, "running");
  let go: () => void = () => {};
  const ready = new Promise<void>((r) => (go = r));
  const result = startWorker<WorkerResult>(
    "./ws-clients.ts",
    { url: `ws://127.0.0.1:${port}/api/ws`, subscribers, expected: EVENTS, runId: run.id },
    go,
  );
  await ready;
  await new Promise((r) => setTimeout(r, 200)); // let every subscribe reach `live`
  const started = now();
  await produce((i) => engine.emit(run.id, { kind: "phase", name: `p${i}`, id: `p${i}` }));
  const r = await result;
  await server.close({ graceMs: 100 });
  return { rate: r.delivered / ((r.last - started) / 1000), p50: r.p50, p99: r.p99 };
}

async function bare(subscribers: number): Promise<WsResult> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
  await new Promise((r) => wss.once("listening", r));
  const address = wss.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  let go: () => void = () => {};
  const ready = new Promise<void>((r) => (go = r));
  const result = startWorker<WorkerResult>(
    "./ws-clients.ts",
    { url: `ws://127.0.0.1:${port}`, subscribers, expected: EVENTS, runId: null },
    go,
  );
  await ready;
  await new Promise((r) => setTimeout(r, 200));
  const started = now();
  let corked = false;
  const runId = "01JDA7Q3M8X2ZC4K9T5VQW1HNB";
  await produce((i) => {
    // The same frame bytes our server sends for one event.
    const event = {
      kind: "phase",
      name: `p${i}`,
      id: `p${i}`,
      runId,
      turnId: runId,
      seq: i + 1,
      t: now(),
    };
    const frame = `{"type":"event","sub":"s0","runId":"${runId}","cursor":${i + 1},"event":${JSON.stringify(event)}}`;
    // Like our server: the frames of one turn leave in one write per socket.
    if (!corked) {
      corked = true;
      for (const client of wss.clients) socketOf(client)?.cork();
      process.nextTick(() => {
        corked = false;
        for (const client of wss.clients) socketOf(client)?.uncork();
      });
    }
    for (const client of wss.clients) client.send(frame);
  });
  const r = await result;
  for (const client of wss.clients) client.terminate();
  await new Promise((r) => wss.close(r));
  return { rate: r.delivered / ((r.last - started) / 1000), p50: r.p50, p99: r.p99 };
}

/** The TCP socket under a `ws` connection (`ws` keeps it as `_socket`). */
function socketOf(client: WebSocket): Duplex | undefined {
  return (client as unknown as { _socket?: Duplex })._socket;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function describe(values: number[], digits = 0): string {
  const s = [...values].sort((a, b) => a - b);
  return `${median(s).toFixed(digits)} (min ${(s[0] ?? 0).toFixed(digits)}, max ${(s[s.length - 1] ?? 0).toFixed(digits)})`;
}

/** The fan-out target: 20 subscribers get at least this share of the bare server's rate. */
const FANOUT_SUBSCRIBERS = 20;
const FANOUT_TARGET = 0.7;

async function wsBench(): Promise<void> {
  console.log(
    `WebSocket fan-out: one run emitting ${EVENTS} events, ${ROUNDS} rounds (median, min, max)`,
  );
  let table: string[] = [];
  for (const subscribers of [1, FANOUT_SUBSCRIBERS, 50]) {
    const o: WsResult[] = [];
    const b: WsResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      b.push(await bare(subscribers));
      o.push(await ours(subscribers));
    }
    const ratio = o.map((r, i) => r.rate / (b[i]?.rate ?? 1));
    console.log(`  ${subscribers} subscriber(s):`);
    console.log(
      `    promenade  events/s ${describe(o.map((r) => r.rate))}  p99 ms ${describe(
        o.map((r) => r.p99),
        1,
      )}  p50 ms ${describe(
        o.map((r) => r.p50),
        1,
      )}`,
    );
    console.log(
      `    bare ws    events/s ${describe(b.map((r) => r.rate))}  p99 ms ${describe(
        b.map((r) => r.p99),
        1,
      )}  p50 ms ${describe(
        b.map((r) => r.p50),
        1,
      )}`,
    );
    console.log(`    promenade / bare: ${describe(ratio.map((x) => x * 100))} %`);
    if (subscribers === FANOUT_SUBSCRIBERS) {
      const share = median(ratio);
      table = [
        "| figure | value | floor (same run) | ratio | target | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
        `| fan-out to ${subscribers} subscribers, events/s, first produced → last delivered (median of ${ROUNDS}) | ` +
          `${median(o.map((r) => r.rate)).toFixed(0)} | ${median(b.map((r) => r.rate)).toFixed(0)} (bare ws server, same frames) | ` +
          `${(share * 100).toFixed(0)}% | ≥ ${FANOUT_TARGET * 100}% | ${share >= FANOUT_TARGET ? "MEETS" : "MISSES"} |`,
      ];
    }
  }
  console.log("\n## Fan-out target (floor from this run)");
  for (const line of table) console.log(line);
}

async function apiBench(): Promise<void> {
  const engine = createFakeEngine();
  engine.addWorkflow({ slug: "bench", triggers: [{ kind: "manual" }] });
  const ids: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const run = await engine.startRun("bench", { triggerKind: "manual", input: { i } });
    engine.setStatus(run.id, "completed", { output: { ok: i } });
    ids.push(run.id);
  }
  const server = createPromenadeServer(engine, { log: () => {} });
  const { port } = await server.listen(0);
  console.log(
    `JSON API: 32 keep-alive connections on loopback, 5 s per round, ${ROUNDS} rounds (median, min, max)`,
  );
  for (const [label, paths] of [
    ["GET /api/runs (100 runs/page)", ["/api/runs"]],
    ["GET /api/runs/:id", ids.slice(0, 100).map((id) => `/api/runs/${id}`)],
  ] as const) {
    const rps: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const r = await startWorker<{ rps: number; failed: number }>("./http-load.ts", {
        port,
        paths,
        connections: 32,
        durationMs: 5000,
      });
      if (r.failed > 0) console.log(`    (${r.failed} failed requests)`);
      rps.push(r.rps);
    }
    console.log(`  ${label}: ${describe(rps)} req/s`);
  }
  await server.close({ graceMs: 100 });
}

const which = process.argv[2];
if (which !== "api") await wsBench();
if (which !== "ws") await apiBench();
