/**
 * Spawning run processes. `spawn`, not `fork`, so the engine's own `execArgv`
 * (test loaders, inspector flags) is never inherited; stdin ignored, stdout/stderr piped, a JSON
 * IPC channel. `createLaunch` adds Node flags, e.g. `--conditions=@promenade/source` to run the
 * child runtime from TypeScript sources.
 */
import { spawn } from "node:child_process";
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
