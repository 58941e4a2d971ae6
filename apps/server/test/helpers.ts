/* eslint-disable @typescript-eslint/no-explicit-any -- tests read untyped JSON API bodies */
/**
 * Shared by the binary's integration tests: start the built `promenade-server` (`dist/main.js`,
 * which the integration tests are built for) as a real process (clean environment plus the given
 * variables), read its startup address, poll the API.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const children: ChildProcess[] = [];

/** A started binary. */
export interface Server {
  child: ChildProcess;
  /** Everything it printed so far (stderr and stdout). */
  output: () => string;
  /** `http://<host>:PORT` once the `listening on` line is printed. */
  base: Promise<string>;
  exit: Promise<number | null>;
}

/**
 * Start the binary with `PATH`, `HOME` and `env` only; `prefix` is an argv that runs it (e.g.
 * inside a network namespace).
 */
export function start(
  env: Record<string, string>,
  args: string[] = [],
  options: { prefix?: readonly string[] } = {},
): Server {
  const [command, ...rest] = [...(options.prefix ?? []), process.execPath, MAIN, ...args];
  const child = spawn(command!, rest, {
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let text = "";
  const base = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      text += chunk.toString("utf8");
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(text);
      if (m?.[1] !== undefined) resolve(m[1]);
    };
    child.stderr.on("data", onData);
    child.stdout.on("data", (c: Buffer) => (text += c.toString("utf8")));
    child.on("exit", () => reject(new Error(`server exited before listening:\n${text}`)));
  });
  base.catch(() => {});
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => text, base, exit };
}

/** SIGKILL every binary still running (an `afterEach` hook). */
export function stopServers(): void {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** Fetch and parse a JSON body. */
export async function json(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  return res.json();
}

/** Poll `fn` every 100 ms until it returns a value. */
export async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

const TERMINAL = ["completed", "failed", "cancelled"];

/** A fresh data dir and a workflows dir holding `files` (name → program text). */
export function workspaceWith(files: Record<string, string>): {
  dataDir: string;
  workflowsDir: string;
} {
  const root = mkdtempSync(join(tmpdir(), "promenade-binary-"));
  const workflowsDir = join(root, "workflows");
  const dataDir = join(root, "data");
  mkdirSync(workflowsDir);
  mkdirSync(dataDir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(workflowsDir, name), text);
  return { dataDir, workflowsDir };
}

/** Polls `GET /api/runs/:id` until the run has ended; resolves with it. */
export async function terminalRun<T extends { status: string }>(
  base: string,
  id: string,
): Promise<T> {
  return waitFor(async () => {
    const run = (await json(`${base}/api/runs/${id}`)).run as T;
    return TERMINAL.includes(run.status) ? run : undefined;
  });
}
