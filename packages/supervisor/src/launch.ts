/**
 * Spawning run processes. `spawn`, not `fork`, so the engine's own `execArgv`
 * (test loaders, inspector flags) is never inherited; stdin ignored, stdout/stderr piped, a JSON
 * IPC channel. `createLaunch` adds Node flags, e.g. `--conditions=@promenade/source` to run the
 * child runtime from TypeScript sources; it spawns from this process. `createSpawnerLaunch`
 * (the default) has the spawner process create them instead, so this process never forks.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { getPriority, setPriority } from "node:os";
import { sharedSpawner } from "./internal/spawner.ts";
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

/**
 * A {@link LaunchFunction} starting `node [...execArgv] <childEntryPath>` like
 * {@link createLaunch}, but in the spawner: a small process of its own that forks instead of this
 * one. A fork of a large process (the engine) blocks its event loop for milliseconds and leaves it
 * paying a page fault for each page it writes afterwards; from the spawner neither reaches the
 * engine. The run process's pipes and IPC channel connect to this process as with `spawn`.
 */
export function createSpawnerLaunch(options: CreateLaunchOptions = {}): LaunchFunction {
  const execArgv = options.execArgv ?? [];
  const nodePath = options.nodePath ?? process.execPath;
  return ({ childEntryPath, cwd, env }) =>
    sharedSpawner().spawn({
      file: nodePath,
      args: [...execArgv, childEntryPath],
      cwd,
      env,
    }) as unknown as ChildProcess;
}

/** Starts the spawner now, so the first run does not wait for it to boot. */
export function prepareSpawner(): void {
  sharedSpawner().prepare();
}

/** The default launch: `node <childEntryPath>`, created by the spawner process. */
export const defaultLaunch: LaunchFunction = createSpawnerLaunch();

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
