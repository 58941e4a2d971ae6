/**
 * Shared test factories: where the fixtures live, how to start the stdio fixture, and how to
 * take the `McpError` a call rejects with.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import {
  isMcpError,
  StdioTransport,
  type McpError,
  type StdioTransportOptions,
} from "../src/index.ts";

/** Absolute path of a file in test/fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** A transport to the SDK-built stdio fixture, stderr captured into `stderr`. */
export function stdioFixture(
  env: Record<string, string> = {},
  options: Partial<StdioTransportOptions> = {},
): { transport: StdioTransport; stderr: () => string } {
  let stderr = "";
  const transport = new StdioTransport({
    command: process.execPath,
    args: [fixturePath("stdio-server.ts")],
    env,
    stderr: "pipe",
    onStderr: (text) => {
      stderr += text;
    },
    label: "fixture",
    ...options,
  });
  return { transport, stderr: () => stderr };
}

/** Polls `check` until it returns true; fails naming `what` after `timeoutMs`. */
export async function eventually(
  check: () => boolean,
  what = "condition",
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * True while a process with this pid exists and is not a zombie. A killed orphan is reparented
 * to PID 1, which in a container may reap it late; its zombie must not count as "still running".
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // No procfs (macOS): signal 0 succeeding is all we know.
  }
}

/** Awaits a promise that must reject with an `McpError` (branded) and returns that error. */
export async function failure(promise: Promise<unknown>): Promise<McpError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (reason: unknown) => reason,
  );
  expect(isMcpError(error)).toBe(true);
  return error as McpError;
}
