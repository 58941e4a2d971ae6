/**
 * A scripted stand-in for a run process, for unit tests that need crashes, signals and IPC
 * without spawning Node: `createFakeLaunch(script)` returns a `launch` whose children record
 * what the supervisor sends and let the test send messages, write output and exit.
 * Mirrors the `ChildProcess` surface the supervisor uses (message/exit/close/error events,
 * piped stdout/stderr, `send`, `kill`, `connected`), nothing more.
 */
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import type { LaunchArgs, LaunchFunction } from "../ports.ts";

/** One fake run process. */
export class FakeChild extends EventEmitter {
  /** Arguments the supervisor launched it with. */
  readonly args: LaunchArgs;
  /** Messages the supervisor sent, in order. */
  readonly received: unknown[] = [];
  /** Signals the supervisor sent, in order. */
  readonly signals: NodeJS.Signals[] = [];
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly pid: number;
  connected = true;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  /** When false, SIGTERM is recorded but ignored (a program with a no-op SIGTERM handler). */
  exitOnSigterm = true;
  private exiting = false;
  private static nextPid = 100_000;

  constructor(args: LaunchArgs) {
    super();
    this.args = args;
    this.pid = FakeChild.nextPid++;
  }

  /**
   * Supervisor → child. Emits `parent-message` with every message, and `init` with the run's
   * `init` (a pooled process gets `warm_up` first).
   */
  send(message: unknown, callback?: (error: Error | null) => void): boolean {
    this.received.push(message);
    queueMicrotask(() => {
      this.emit("parent-message", message);
      if ((message as { type?: unknown } | null)?.type === "init") this.emit("init", message);
      callback?.(null);
    });
    return true;
  }

  /** Child → supervisor (as `process.send` would). Delivered on a later tick. */
  post(message: unknown): void {
    setImmediate(() => {
      if (this.connected) this.emit("message", message);
    });
  }

  /** Writes to the child's stdout or stderr pipe. */
  write(stream: "stdout" | "stderr", data: string | Uint8Array): void {
    this[stream].write(data);
  }

  /** Ends the process: pipes close, `exit` then `close` fire. */
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exiting) return;
    this.exiting = true;
    // Messages posted before the exit are still delivered first (they are queued the same way).
    setImmediate(() => {
      this.exitCode = code;
      this.signalCode = signal;
      this.connected = false;
      this.emit("exit", code, signal);
      this.stdout.end();
      this.stderr.end();
      this.emit("disconnect");
      setImmediate(() => this.emit("close", code, signal));
    });
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    this.signals.push(signal);
    if (this.exiting) return false;
    if (signal === "SIGTERM" && !this.exitOnSigterm) return true;
    this.exit(null, signal);
    return true;
  }

  /** The `init` message, once received. */
  get init(): Record<string, unknown> | undefined {
    return this.received.find((m) => (m as { type?: string }).type === "init") as
      Record<string, unknown> | undefined;
  }

  ref(): void {}
  unref(): void {}
}

/** `launch` plus every child it created. */
export interface FakeLaunch {
  launch: LaunchFunction;
  children: FakeChild[];
}

/**
 * A fake `launch`. `script(child, index)` runs for each launched child (index = launch count,
 * 0-based); typical scripts wait for the run via `child.once("init", …)` and then
 * `post` a `done` and `exit(0)`. Throwing from `script` makes the launch itself fail.
 */
export function createFakeLaunch(script: (child: FakeChild, index: number) => void): FakeLaunch {
  const children: FakeChild[] = [];
  const launch: LaunchFunction = (args) => {
    const child = new FakeChild(args);
    const index = children.length;
    children.push(child);
    script(child, index);
    return child as unknown as ChildProcess;
  };
  return { launch, children };
}

/** Script helper: after `init`, report `done` with `output` and exit 0. */
export function completeWith(output: unknown): (child: FakeChild) => void {
  return (child) => {
    child.once("init", () => {
      child.post({ type: "done", output, outputDeclared: output !== undefined });
      child.exit(0);
    });
  };
}
