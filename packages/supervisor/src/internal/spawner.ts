/**
 * The engine's side of the spawner process (see `spawner-process.ts`): starts it once, asks it
 * for run processes, and routes what it hands back (sockets, exits) to their {@link RemoteChild}.
 *
 * One spawner serves the whole engine process, started by the first supervisor that uses it.
 * It keeps the event loop alive only while a process it created is referenced and has not
 * exited; when idle it is unreferenced and ends with the engine (its channel closes). If it
 * ever dies, the processes it reported are killed directly and count as ended by `SIGKILL`, and
 * the next request starts a new one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { safeKillPid } from "./child-process.ts";
import { RemoteChild } from "./remote-child.ts";

/** What a run process is started with. */
export interface SpawnArgs {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
}

/** The spawner process's entry: beside the bundle in `dist/`, or the source file in `src/`. */
export function spawnerEntryPath(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith(".ts")
    ? join(dirname(here), "..", "spawner-process.ts")
    : join(dirname(here), "spawner-process.js");
}

export class Spawner {
  private readonly entry: string;
  private process: ChildProcess | null = null;
  private readonly children = new Map<number, RemoteChild>();
  private nextId = 1;

  constructor(entry: string = spawnerEntryPath()) {
    this.entry = entry;
  }

  /** A new run process, created in the spawner; its sockets follow (see {@link RemoteChild}). */
  spawn(args: SpawnArgs): RemoteChild {
    const id = this.nextId++;
    const child = new RemoteChild(id, {
      kill: (target, signal) => this.kill(target, signal),
      refChanged: () => this.updateRef(),
    });
    const spawner = this.ensure();
    this.children.set(id, child);
    child.once("exit", () => this.forget(id));
    child.once("error", () => {
      if (child.pid === undefined) this.forget(id);
    });
    this.updateRef();
    spawner.send({ type: "spawn", id, ...args, args: [...args.args] });
    return child;
  }

  /** The spawner process's pid, while it runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the spawner process if it is not running (it is otherwise started by a spawn). */
  prepare(): void {
    try {
      this.ensure();
      this.updateRef();
    } catch {
      // Reported by the first spawn, which fails the same way.
    }
  }

  private ensure(): ChildProcess {
    if (this.process !== null) return this.process;
    if (!existsSync(this.entry)) {
      throw new Error(
        `The spawner entry ${this.entry} does not exist: build @promenade/supervisor (pnpm build) or reinstall it.`,
      );
    }
    // Not `fork`: the engine's own flags (test loaders, inspector) are not the spawner's.
    // Its stderr is relayed, not inherited: a process holding the engine's own stderr would keep
    // it open after the engine died.
    const proc = spawn(process.execPath, [this.entry], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "json",
      env: process.env,
    });
    this.process = proc;
    proc.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    (proc.stderr as { unref?: () => void } | null)?.unref?.();
    proc.on("message", (message: SpawnerMessage, handle?: Socket) => this.receive(message, handle));
    proc.on("error", () => undefined); // its exit (or the failed spawn's close) follows
    proc.once("close", () => this.lost(proc));
    return proc;
  }

  private receive(message: SpawnerMessage, handle: Socket | undefined): void {
    const child = this.children.get(message.id);
    if (child === undefined) {
      handle?.destroy();
      return;
    }
    switch (message.type) {
      case "spawned":
        if (handle !== undefined) child.spawned(message.pid, handle);
        break;
      case "stdout":
      case "stderr":
        if (handle !== undefined) child.output(message.type, handle);
        break;
      case "exit":
        child.exited(message.code, message.signal);
        break;
      case "failed":
        child.failed(message.message);
        break;
    }
  }

  private kill(id: number, signal: NodeJS.Signals): void {
    const spawner = this.process;
    if (spawner?.connected === true) {
      spawner.send({ type: "kill", id, signal });
      return;
    }
    const pid = this.children.get(id)?.pid;
    if (pid !== undefined) safeKillPid(pid, signal);
  }

  private forget(id: number): void {
    this.children.delete(id);
    this.updateRef();
  }

  /** The spawner keeps the engine alive while a referenced process of it lives. */
  private updateRef(): void {
    const spawner = this.process;
    if (spawner === null) return;
    const needed = [...this.children.values()].some((child) => child.referenced);
    if (needed) {
      spawner.ref();
      spawner.channel?.ref();
    } else {
      spawner.unref();
      spawner.channel?.unref();
    }
  }

  /** The spawner ended: its processes are killed directly and end; the next spawn starts one. */
  private lost(proc: ChildProcess): void {
    if (this.process === proc) this.process = null;
    const children = [...this.children.values()];
    this.children.clear();
    for (const child of children) {
      if (child.pid !== undefined) safeKillPid(child.pid, "SIGKILL");
      child.lost();
    }
  }
}

type SpawnerMessage =
  | { type: "spawned"; id: number; pid: number }
  | { type: "stdout" | "stderr"; id: number }
  | { type: "exit"; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { type: "failed"; id: number; message: string };

let shared: Spawner | null = null;

/** The engine process's spawner. */
export function sharedSpawner(): Spawner {
  shared ??= new Spawner();
  return shared;
}
