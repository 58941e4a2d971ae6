/**
 * Benchmark worker: a small keep-alive HTTP load generator. `connections` concurrent loops issue
 * GET `path` back to back for `durationMs` and report completed requests per second.
 */
import { Agent, get } from "node:http";
import { parentPort, workerData } from "node:worker_threads";

interface Job {
  port: number;
  paths: string[];
  connections: number;
  durationMs: number;
}

const job = workerData as Job;
const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
let completed = 0;
let failed = 0;
const deadline = performance.now() + job.durationMs;

function once(path: string): Promise<void> {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port: job.port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => {
        if (res.statusCode === 200) completed++;
        else failed++;
        resolve();
      });
    });
    req.on("error", () => {
      failed++;
      resolve();
    });
  });
}

async function loop(i: number): Promise<void> {
  let n = i;
  while (performance.now() < deadline) {
    await once(job.paths[n % job.paths.length] ?? "/");
    n++;
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: job.connections }, (_, i) => loop(i)));
const seconds = (performance.now() - started) / 1000;
agent.destroy();
parentPort?.postMessage({ rps: completed / seconds, failed });
