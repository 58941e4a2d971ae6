/**
 * `pnpm bench` for promenade-server: run throughput with OpenTelemetry trace export on and off,
 * side by side. Each round boots the built binary on a fresh SQLite data dir — once with
 * `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a local OTLP/HTTP receiver started by this bench, once
 * without it — and pushes BENCH_RUNS (100) trivial runs through the HTTP API from BENCH_CLIENTS
 * (4) clients (start a run, wait for its `end` frame). Rounds alternate between the two so both
 * see the same machine load. The receiver decodes every export (OTLP JSON) and counts spans, so
 * the "on" rounds are known to have exported each run. Prints median and spread (min–max) of
 * runs/s and per-run latency per mode and the on/off ratio (target ≥ 95%: export costs ≤ 5%).
 * Run: `pnpm bench` (builds first) or `node bench/otlp-overhead.ts` after `pnpm build`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot, median, requireBuild, round, summary, TRIVIAL } from "./server-bench.ts";
import type { Round } from "./server-bench.ts";

const RUNS = Number(process.env["BENCH_RUNS"] ?? 100);
const CLIENTS = Number(process.env["BENCH_CLIENTS"] ?? 4);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 6);
const TARGET = 0.95;

interface OtlpJson {
  resourceSpans?: { scopeSpans?: { spans?: { attributes?: { key: string }[] }[] }[] }[];
}

/** A local OTLP/HTTP traces receiver: answers 200 and counts spans and distinct run ids. */
async function startReceiver(): Promise<{
  url: string;
  spans: () => number;
  requests: () => number;
  close(): Promise<void>;
}> {
  let spans = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests += 1;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpJson;
        for (const resource of body.resourceSpans ?? []) {
          for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
        }
      } catch {
        // Not JSON (a protobuf exporter): the request still counts.
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    spans: () => spans,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

requireBuild();

const root = mkdtempSync(join(tmpdir(), "promenade-otlp-bench-"));
const workflowsDir = join(root, "workflows");
mkdirSync(workflowsDir);
writeFileSync(join(workflowsDir, "trivial.mjs"), TRIVIAL);
const receiver = await startReceiver();
const results = { off: [] as Round[], on: [] as Round[] };
try {
  console.log(
    `# promenade-server run throughput, OTLP trace export on vs off (node ${process.version}, ${new Date().toISOString()})`,
  );
  console.log(
    `${String(RUNS)} trivial runs per round through the HTTP API on SQLite, ${String(CLIENTS)} clients, ${String(ROUNDS)} rounds per mode, alternating; receiver ${receiver.url}`,
  );
  for (let index = 0; index < ROUNDS; index += 1) {
    for (const mode of ["off", "on"] as const) {
      const dataDir = join(root, `${mode}-${String(index)}`);
      const env: Record<string, string> =
        mode === "on" ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } : {};
      const spansBefore = receiver.spans();
      const server = await boot(dataDir, workflowsDir, undefined, env);
      let result: Round;
      try {
        result = await round(server, RUNS, CLIENTS);
      } finally {
        // SIGTERM flushes the export queue before the binary exits.
        await server.stop();
      }
      results[mode].push(result);
      const exported = receiver.spans() - spansBefore;
      if (mode === "on" && exported < RUNS) {
        throw new Error(
          `export on, but the receiver got ${String(exported)} spans for ${String(RUNS)} runs`,
        );
      }
      if (mode === "off" && exported !== 0) {
        throw new Error(`export off, but the receiver got ${String(exported)} spans`);
      }
      console.log(
        `round ${String(index + 1)} export ${mode.padEnd(3)} ${result.runsPerSecond.toFixed(1)} runs/s, latency median ${median(result.latencies).toFixed(0)} ms${mode === "on" ? `, ${String(exported)} spans exported` : ""}`,
      );
    }
  }
  const rate = (mode: "off" | "on"): number[] => results[mode].map((r) => r.runsPerSecond);
  const latency = (mode: "off" | "on"): number[] => results[mode].map((r) => median(r.latencies));
  console.log("\n## Run throughput (runs/s)");
  console.log(`export off: ${summary(rate("off"))}`);
  console.log(`export on:  ${summary(rate("on"))}`);
  console.log("## Run latency, start → end frame (ms, median per round)");
  console.log(`export off: ${summary(latency("off"), 0)}`);
  console.log(`export on:  ${summary(latency("on"), 0)}`);
  const ratio = median(rate("on")) / median(rate("off"));
  console.log(
    `on / off: ${(ratio * 100).toFixed(1)}% — target ≥ ${String(TARGET * 100)}%: ${ratio >= TARGET ? "MEETS target" : "MISSES target"} (${String(receiver.requests())} OTLP requests received)`,
  );
} finally {
  await receiver.close();
  rmSync(root, { recursive: true, force: true });
}
