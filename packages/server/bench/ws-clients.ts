/**
 * Benchmark worker: opens N WebSocket subscribers to one run (our server or the bare floor),
 * counts delivered `event` frames and records delivery latency (receive time − the event's `t`,
 * stamped with the same high-resolution wall clock by the producer). Posts a summary when every
 * subscriber has seen `expected` events.
 */
import { parentPort, workerData } from "node:worker_threads";
import WebSocket from "ws";

interface Job {
  url: string;
  subscribers: number;
  expected: number;
  runId: string | null;
}

const job = workerData as Job;
const now = (): number => performance.timeOrigin + performance.now();
const latencies: number[] = [];
let delivered = 0;
let finished = 0;
let first = Infinity;
let last = 0;
let opened = 0;

for (let i = 0; i < job.subscribers; i++) {
  const ws = new WebSocket(job.url, ["promenade.events.v1"], { perMessageDeflate: false });
  let count = 0;
  ws.on("open", () => {
    if (job.runId !== null) {
      ws.send(
        JSON.stringify({ type: "subscribe", sub: `s${i}`, runId: job.runId, channels: ["phase"] }),
      );
    }
    opened++;
    if (opened === job.subscribers) parentPort?.postMessage({ type: "ready" });
  });
  ws.on("message", (data: Buffer) => {
    const text = data.toString("utf8");
    if (!text.startsWith('{"type":"event"')) return;
    const t = now();
    // Cheap parse: the event's `t` is the last numeric field before the closing braces.
    const m = /"t":([0-9.]+)\}\}$/.exec(text);
    if (m?.[1] !== undefined && delivered % 7 === 0) latencies.push(t - Number(m[1]));
    if (first === Infinity) first = t;
    last = t;
    delivered++;
    count++;
    if (count === job.expected) {
      finished++;
      ws.close();
      if (finished === job.subscribers) {
        latencies.sort((a, b) => a - b);
        parentPort?.postMessage({
          type: "done",
          delivered,
          seconds: (last - first) / 1000,
          last,
          p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
          p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
        });
      }
    }
  });
}
