/**
 * Spawning run processes. `spawn`, not `fork`, so the engine's own `execArgv`
 * (test loaders, inspector flags) is never inherited; stdin ignored, stdout/stderr piped, a JSON
 * IPC channel. `createLaunch` adds Node flags, e.g. `--conditions=@promenade/source` to run the
 * child runtime from TypeScript sources.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { getPriority, setPriority } from "node:os";
import type { LaunchFunction } from "./ports.ts";

/** Options of {@link createLaunch}. */
export interface CreateLaunchOptions {
  /** Extra Node flags placed before the entry path. Default `[]`. */
  execArgv?: readonly string[];
  /** Node binary. Default `process.execPath`. */
  nodePath?: string;
}

/** A {@link LaunchFunction} spawning `node [...execArgv] <childEntryPath>`. */
export function createLaunch(options: CreateLaunchOptions = {}): LaunchFunction {
  const execArgv = options.execArgv ?? [];
  const nodePath = options.nodePath ?? process.execPath;
  return ({ childEntryPath, cwd, env }) =>
    spawn(nodePath, [...execArgv, childEntryPath], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
}

/** The default launch: `spawn(process.execPath, [childEntryPath], …)`. */
export const defaultLaunch: LaunchFunction = createLaunch();

/** Niceness added to run processes unless configured. */
export const DEFAULT_RUN_NICENESS = 0;

/**
 * Lowers a started process's CPU priority by `niceness` below this process's (capped at 19, the
 * lowest). Best effort: a process that has already exited, or a system that refuses, keeps the
 * priority it has.
 */
export function lowerPriority(child: ChildProcess, niceness: number): void {
  if (niceness === 0 || child.pid === undefined) return;
  try {
    setPriority(child.pid, Math.min(19, getPriority() + niceness));
  } catch {
    // Gone already, or not allowed here: it runs at the inherited priority.
  }
}
