/**
 * Shared by the CLI's integration tests: run the built `promenade` command as a real process (as
 * installed: `bin/` over the bundle in `dist/`, which the integration tests are built for), start
 * the `promenade-server` binary on a free port with a temp data dir, write workflow files, and a
 * TCP proxy whose connections a test can cut (to drop the CLI's WebSocket mid-stream).
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The `promenade` command as published. */
export const CLI_MAIN = fileURLToPath(new URL("../bin/promenade.js", import.meta.url));
/** The `promenade-server` alias as published. */
export const SERVER_MAIN = fileURLToPath(new URL("../bin/promenade-server.js", import.meta.url));

const children: ChildProcess[] = [];

/** A running child process and what it printed so far. */
export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Only `PATH` and `HOME` from this process, plus `env`. */
function cleanEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env };
}

/** Spawn `node <args>` with a clean environment. */
export function spawnNode(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Proc {
  const child = spawn(process.execPath, args, {
    env: cleanEnv(options.env ?? {}),
    cwd: options.cwd ?? process.cwd(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Start `promenade <args>` (the built command). */
export function spawnCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Proc {
  return spawnNode([CLI_MAIN, ...args], options);
}

/** Run `promenade <args>` to completion. */
export async function cli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnCli(args, options);
  const code = await proc.exit;
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** A started server and its address. */
export interface Server extends Proc {
  /** `http://127.0.0.1:PORT` once it listens. */
  url: Promise<string>;
}

/** Watch a process's stderr for the `listening on` line. */
export function listening(proc: Proc): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.stderr());
      if (m?.[1] !== undefined) resolve(m[1]);
    };
    proc.child.stderr?.on("data", check);
    void proc.exit.then(() =>
      reject(new Error(`server exited before listening:\n${proc.stderr()}`)),
    );
  });
}

/** Start the `promenade-server` binary on a free port over a fresh data dir. */
export function startServer(env: Record<string, string> = {}): Server {
  const root = mkdtempSync(join(tmpdir(), "promenade-cli-server-"));
  const proc = spawnNode([SERVER_MAIN], {
    env: {
      PROMENADE_DATA_DIR: join(root, "data"),
      PROMENADE_WORKFLOWS_DIR: join(root, "workflows"),
      PROMENADE_PORT: "0",
      ...env,
    },
  });
  const url = listening(proc);
  url.catch(() => undefined);
  return { ...proc, url };
}

/** SIGKILL every child still running (an `afterEach` hook). */
export function killChildren(): void {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** A temp directory holding the given files. */
export function writeFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "promenade-cli-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Poll `fn` every 50 ms until it returns a value. */
export async function waitFor<T>(
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A TCP proxy to `target` whose open connections can be cut at once. */
export interface CuttableProxy {
  url: string;
  /** Destroy every open connection (both sides); new connections keep working. */
  cut(): number;
  /** Connections open right now. */
  connections(): number;
  close(): Promise<void>;
}

/** Start a proxy on a free loopback port in front of `targetUrl` (`http://host:port`). */
export async function startProxy(targetUrl: string): Promise<CuttableProxy> {
  const target = new URL(targetUrl);
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      const count = open.size / 2;
      for (const socket of [...open]) socket.destroy();
      open.clear();
      return count;
    },
    connections: () => open.size / 2,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
