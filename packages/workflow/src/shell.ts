/**
 * `shell(cmd)`: runs a shell command synchronously in the run's workspace (the process's working
 * directory) and returns its standard output without trailing newlines. A failing command throws
 * an error naming the exit code and the start of its standard error.
 */
import type * as ChildProcess from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { EngineError } from "./errors/index.ts";

/** Options of {@link shell}. */
export interface ShellOptions {
  /** Working directory, relative to the workspace. */
  cwd?: string;
  /** Variables added to the process environment. */
  env?: Record<string, string>;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
  /** Largest stdout or stderr in bytes (default 10 MiB). */
  maxBuffer?: number;
}

const STDERR_SHOWN = 2000;

/** `node:child_process`, loaded on the first call (importing the SDK stays free of it). */
function childProcess(): typeof ChildProcess {
  return (
    process.getBuiltinModule?.("node:child_process") ??
    (createRequire(import.meta.url)("node:child_process") as typeof ChildProcess)
  );
}

/** Runs `cmd` with the system shell and returns its stdout, trailing newlines removed. */
export function shell(cmd: string, opts: ShellOptions = {}): string {
  if (typeof cmd !== "string" || cmd.trim() === "") {
    throw new EngineError("VALIDATION", "shell(cmd) needs a non-empty command string.");
  }
  try {
    const out = childProcess().execSync(cmd, {
      cwd: opts.cwd === undefined ? process.cwd() : resolve(process.cwd(), opts.cwd),
      env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: opts.maxBuffer ?? 10 * 1024 * 1024,
      ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
    });
    return out.replace(/\n+$/, "");
  } catch (err) {
    const failure = err as { status?: number | null; signal?: string | null; stderr?: unknown };
    const stderr = typeof failure.stderr === "string" ? failure.stderr.slice(0, STDERR_SHOWN) : "";
    const how =
      typeof failure.status === "number"
        ? `exit code ${String(failure.status)}`
        : `signal ${String(failure.signal ?? "unknown")}`;
    throw new EngineError(
      "PROGRAM_ERROR",
      `shell command failed (${how}): ${cmd}${stderr === "" ? "" : `\n${stderr}`}`,
    );
  }
}
