/**
 * What the server binary's benches share: boot the built binary on a fresh data dir (with extra
 * environment), drive runs through the HTTP API from several clients (each starts a run and waits
 * for its `end` frame on the WebSocket channel), and summarise rounds as median and spread.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The built binary the benches boot. */
export const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** A one-file workflow that outputs 1: the run lifecycle and nothing else. */
export const TRIVIAL = [
  'import { output } from "@promenade/workflow";',
  'export const meta = { slug: "trivial", triggers: [{ kind: "manual" }] };',
  "output(1);",
  "",
].join("\n");

/** Exits with a hint when the binary was not built. */
export function requireBuild(): void {
  if (!existsSync(MAIN)) {
    console.error(`${MAIN} is missing: run pnpm build first (pnpm bench does).`);
    process.exit(1);
  }
}

export interface Booted {
  child: ChildProcess;
  base: string;
  stop(): Promise<void>;
}

/**
 * Boots the built binary on `dataDir` (and `databaseUrl`), resolves once it serves and has
 * deployed its one workflow — or, with `untilDeployed: false`, once it listens (a cluster node
 * joining after another deployed the workflow deploys nothing itself).
 */
export function boot(
  dataDir: string,
  workflowsDir: string,
  databaseUrl?: string,
  env: Record<string, string> = {},
  untilDeployed = true,
): Promise<Booted> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "",
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      ...(databaseUrl === undefined ? {} : { PROMENADE_DATABASE_URL: databaseUrl }),
      ...env,
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
      if (base !== undefined && (!untilDeployed || text.includes("workflows deployed: 1"))) {
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

export interface Round {
  runsPerSecond: number;
  latencies: number[];
}

export async function round(server: Booted, runs: number, clientCount: number): Promise<Round> {
  const clients = await Promise.all(Array.from({ length: clientCount }, () => client(server.base)));
  // Warm-up: the first runs pay for lazy compilation and the first pool refill.
  await Promise.all(clients.map((c) => c.run()));
  let next = 0;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (next < runs) {
        next += 1;
        latencies.push(await c.run());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const c of clients) c.close();
  return { runsPerSecond: runs / seconds, latencies };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function summary(values: readonly number[], digits = 1): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${median(sorted).toFixed(digits)} (min ${sorted[0]!.toFixed(digits)} – max ${sorted.at(-1)!.toFixed(digits)})`;
}
