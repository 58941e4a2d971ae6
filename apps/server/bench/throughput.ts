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
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "@promenade/store/testing";
import { boot, median, requireBuild, round, summary, TRIVIAL } from "./server-bench.ts";
import type { Round } from "./server-bench.ts";

const RUNS = Number(process.env["BENCH_RUNS"] ?? 100);
const CLIENTS = Number(process.env["BENCH_CLIENTS"] ?? 4);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const TARGET = 0.5;

requireBuild();

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
        const result = await round(server, RUNS, CLIENTS);
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
