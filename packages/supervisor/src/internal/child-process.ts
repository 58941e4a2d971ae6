/**
 * Small, failure-tolerant operations on a run process: signalling one that may already be gone,
 * sending over an IPC channel that may have just closed, and the environment a process starts
 * with.
 */
import type { ChildProcess } from "node:child_process";

/** `child.kill(signal)`, ignoring a process that has already exited. */
export function safeKill(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    child.kill(signal);
  } catch {
    // Already gone.
  }
}

/** `process.kill(pid, signal)`, ignoring a process that has already exited. */
export function safeKillPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Sends one IPC message; a process that went away mid-send is handled by its pass. */
export function sendToChild(child: ChildProcess, message: unknown): void {
  if (!child.connected) return;
  try {
    child.send(message as object, (err) => {
      if (err !== null && err !== undefined) {
        // The process went away mid-send; its exit is handled by the pass.
      }
    });
  } catch {
    // Channel closed between the check and the send: same as above.
  }
}

/** The defined entries of an environment (a child's env holds strings only). */
export function definedEnv(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === "string") out[key] = value;
  return out;
}
