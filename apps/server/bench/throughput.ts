/**
 * `pnpm bench` for promenade-server: run throughput of the built binary on SQLite and on
 * PostgreSQL, side by side in one run. Each round boots the binary on a fresh database, deploys
 * one trivial workflow and pushes BENCH_RUNS (100) runs through the HTTP API from BENCH_CLIENTS
 * (4) clients, each starting a run (`POST /api/workflows/trivial/runs`) and waiting for its `end`
 * frame on the WebSocket channel before starting the next. Rounds alternate between the two
 * databases so both see the same machine load. PostgreSQL is a throwaway cluster with its
 * durable defaults (fsync, synchronous commit). Prints median and spread (min–max) of runs/s and
 * of the per-run latency, and the PostgreSQL/SQLite ratio (target ≥ 50%).
 * Run: `pnpm bench` (builds first) or `node bench/throughput.ts` after `pnpm build`.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startPostgres } from "@promenade/store/testing";

const RUNS = Number(process.env["BENCH_RUNS"] ?? 100);
const CLIENTS = Number(process.env["BENCH_CLIENTS"] ?? 4);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const TARGET = 0.5;
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

const TRIVIAL = [
  'import { output } from "@promenade/workflow";',
  'export const meta = { slug: "trivial", triggers: [{ kind: "manual" }] };',
  "output(1);",
  "",
].join("\n");

interface Booted {
  child: ChildProcess;
  base: string;
  stop(): Promise<void>;
}

/** Boots the built binary on `dataDir` (and `databaseUrl`), resolves once it serves. */
function boot(dataDir: string, workflowsDir: string, databaseUrl?: string): Promise<Booted> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "",
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      ...(databaseUrl === undefined ? {} : { PROMENADE_DATABASE_URL: databaseUrl }),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let text = "";
    let base: string | undefined;
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
      base ??= /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      if (base !== undefined && text.includes("workflows deployed: 1")) {
        resolve({
          child,
          base,
          stop: async () => {
            child.kill("SIGTERM");
            await exited;
          },
        });
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited (${String(code)}):\n${text}`)));
  });
}

/** One WebSocket connection: start a run over HTTP, resolve on its `end` frame. */
async function client(base: string): Promise<{ run(): Promise<number>; close(): void }> {
  const ws = new WebSocket(`${base.replace("http", "ws")}/api/ws`);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("WebSocket failed")), { once: true });
  });
  const waiting = new Map<string, (status: string) => void>();
  ws.addEventListener("message", (message) => {
    const frame = JSON.parse(String(message.data)) as {
      type: string;
      sub?: string;
      status?: string;
    };
    if (frame.type === "end" && frame.sub !== undefined) {
      waiting.get(frame.sub)?.(frame.status ?? "");
      waiting.delete(frame.sub);
    }
  });
  let subs = 0;
  return {
    run: async () => {
      const started = performance.now();
      const res = await fetch(`${base}/api/workflows/trivial/runs`, { method: "POST" });
      if (res.status !== 201) throw new Error(`start failed: HTTP ${res.status}`);
      const { run } = (await res.json()) as { run: { id: string } };
      const sub = `s${String(++subs)}`;
      const ended = new Promise<string>((resolve) => waiting.set(sub, resolve));
      ws.send(JSON.stringify({ type: "subscribe", sub, runId: run.id, channels: ["lifecycle"] }));
      const status = await ended;
      if (status !== "completed") throw new Error(`run ${run.id} ended ${status}`);
      return performance.now() - started;
    },
    close: () => ws.close(),
  };
}

interface Round {
  runsPerSecond: number;
  latencies: number[];
}

async function round(server: Booted): Promise<Round> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => client(server.base)));
  // Warm-up: the first runs pay for lazy compilation and the first pool refill.
  await Promise.all(clients.map((c) => c.run()));
  let next = 0;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (next < RUNS) {
        next += 1;
        latencies.push(await c.run());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const c of clients) c.close();
  return { runsPerSecond: RUNS / seconds, latencies };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function summary(values: readonly number[], digits = 1): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${median(sorted).toFixed(digits)} (min ${sorted[0]!.toFixed(digits)} – max ${sorted.at(-1)!.toFixed(digits)})`;
}

if (!existsSync(MAIN)) {
  console.error(`${MAIN} is missing: run pnpm build first (pnpm bench does).`);
  process.exit(1);
}

const root = mkdtempSync(join(tmpdir(), "promenade-server-bench-"));
const workflowsDir = join(root, "workflows");
mkdirSync(workflowsDir);
writeFileSync(join(workflowsDir, "trivial.mjs"), TRIVIAL);
const postgres = await startPostgres({ durable: true });
const results = { sqlite: [] as Round[], postgres: [] as Round[] };
try {
  console.log(
    `# promenade-server run throughput (node ${process.version}, ${new Date().toISOString()})`,
  );
  console.log(
    `${RUNS} trivial runs per round through the HTTP API, ${CLIENTS} clients, ${ROUNDS} rounds per database, alternating`,
  );
  for (let index = 0; index < ROUNDS; index += 1) {
    for (const kind of ["sqlite", "postgres"] as const) {
      const dataDir = join(root, `${kind}-${String(index)}`);
      const url = kind === "postgres" ? await postgres.createDatabase() : undefined;
      const server = await boot(dataDir, workflowsDir, url);
      try {
        const result = await round(server);
        results[kind].push(result);
        console.log(
          `round ${String(index + 1)} ${kind.padEnd(8)} ${result.runsPerSecond.toFixed(1)} runs/s, latency median ${median(result.latencies).toFixed(0)} ms`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  const rate = (kind: "sqlite" | "postgres"): number[] => results[kind].map((r) => r.runsPerSecond);
  const latency = (kind: "sqlite" | "postgres"): number[] =>
    results[kind].map((r) => median(r.latencies));
  console.log("\n## Run throughput (runs/s)");
  console.log(`SQLite:     ${summary(rate("sqlite"))}`);
  console.log(`PostgreSQL: ${summary(rate("postgres"))}`);
  console.log("## Run latency, start → end frame (ms, median per round)");
  console.log(`SQLite:     ${summary(latency("sqlite"), 0)}`);
  console.log(`PostgreSQL: ${summary(latency("postgres"), 0)}`);
  const ratio = median(rate("postgres")) / median(rate("sqlite"));
  console.log(
    `PostgreSQL / SQLite: ${(ratio * 100).toFixed(0)}% — target ≥ ${String(TARGET * 100)}%: ${ratio >= TARGET ? "MEETS target" : "MISSES target"}`,
  );
} finally {
  await postgres.destroy();
  rmSync(root, { recursive: true, force: true });
}
