/**
 * `pnpm bench` for promenade-server (boot part): how long the built binary takes from `spawn` to
 * serving with its workflows deployed, on a fresh SQLite data dir and a workflows dir holding one
 * TypeScript workflow (so the deploy path, which parses and compiles, is in it). The floor, in the
 * same rounds: a bare Node process that opens an HTTP server and prints the same "listening" line.
 * Prints median and spread of each and their ratio; no assertions.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot, median, requireBuild, summary, TRIVIAL } from "./server-bench.ts";

const ROUNDS = Number(process.env["BENCH_BOOT_ROUNDS"] ?? 10);

const BARE_SERVER = [
  'const server = require("node:http").createServer();',
  'server.listen(0, "127.0.0.1", () =>',
  "  console.error(`listening on http://127.0.0.1:${server.address().port}`));",
].join("\n");

/** spawn → the bare HTTP server's "listening" line, in ms. */
function bareBoot(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ["-e", BARE_SERVER], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    child.stderr.setEncoding("utf8").once("data", () => {
      resolve(performance.now() - started);
      child.kill("SIGKILL");
    });
    child.once("error", reject);
  });
}

/** spawn → the binary serving with its one workflow deployed, in ms. */
async function serverBoot(): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), "promenade-bench-boot-"));
  const workflowsDir = join(root, "workflows");
  mkdirSync(workflowsDir);
  writeFileSync(join(workflowsDir, "trivial.ts"), TRIVIAL);
  try {
    const started = performance.now();
    const server = await boot(join(root, "data"), workflowsDir);
    const elapsed = performance.now() - started;
    await server.stop();
    return elapsed;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

requireBuild();
await serverBoot(); // the first boot warms the disk caches
const bare: number[] = [];
const server: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  bare.push(await bareBoot());
  server.push(await serverBoot());
}
console.log(`\n## Server boot (spawn → serving, one TypeScript workflow deployed), n=${ROUNDS}`);
console.log(`bare node HTTP server floor: ${summary(bare, 0)} ms`);
console.log(`promenade-server:            ${summary(server, 0)} ms`);
console.log(`ratio ${(median(server) / median(bare)).toFixed(1)}× the floor`);
