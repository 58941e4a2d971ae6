/**
 * A run process created by the spawner, seen from the engine with the surface of a
 * `ChildProcess` the supervisor uses: `pid`, `stdout`/`stderr`, `send`, `kill`, `connected`,
 * `exitCode`/`signalCode`, `ref`/`unref`, `channel`, and the `spawn`, `message`, `error`,
 * `exit`, `disconnect` and `close` events in the order Node emits them.
 *
 * The process's sockets arrive a moment after the call that created it: until then messages
 * sent to it wait here, and `stdout`/`stderr` are streams of this object's own that the sockets
 * are piped into when they come. The IPC channel speaks Node's JSON framing (one
 * `JSON.stringify`d message per line), the framing the run process's `process.send` uses.
 */
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { PassThrough } from "node:stream";

/** What the spawner client does for a remote process. */
export interface RemoteOwner {
  kill(id: number, signal: NodeJS.Signals): void;
  /** The process's `ref()` state changed (it keeps the engine alive until its exit, or not). */
  refChanged(): void;
}

/**
 * `stdout`/`stderr`: a stream with the `ref`/`unref` of the socket behind it. `sourceClosed`
 * is called once that socket has closed (or the stream ended without one), whether or not
 * anyone read the stream — when a `ChildProcess`'s pipe counts as closed.
 */
class OutputStream extends PassThrough {
  private readonly hold = new SocketRef();
  private readonly sourceClosed: () => void;

  constructor(sourceClosed: () => void) {
    super();
    this.sourceClosed = sourceClosed;
  }

  /** Ends the stream without a socket (the process never handed one over). */
  endWithoutSource(): void {
    if (this.hold.socket !== null) return;
    if (!this.writableEnded) this.end();
    this.sourceClosed();
  }

  attach(socket: Socket): void {
    this.hold.set(socket);
    socket.on("error", (err) => this.destroy(err));
    // A stream being read counts as closed once its reader has had everything (its `end`),
    // so the `close` of the process never overtakes output still on its way.
    socket.once("close", () => {
      if (this.readableFlowing === true && !this.readableEnded && !this.destroyed) {
        this.once("end", this.sourceClosed);
      } else {
        this.sourceClosed();
      }
    });
    socket.pipe(this);
  }

  ref(): void {
    this.hold.ref();
  }

  unref(): void {
    this.hold.unref();
  }
}

/**
 * `ref`/`unref` of a socket that may not have arrived yet (applied to it when it does): the
 * `channel` of a remote child, and what its output streams hold.
 */
class SocketRef {
  socket: Socket | null = null;
  private referenced = true;

  set(socket: Socket): void {
    this.socket = socket;
    if (!this.referenced) socket.unref();
  }

  ref(): void {
    this.referenced = true;
    this.socket?.ref();
  }

  unref(): void {
    this.referenced = false;
    this.socket?.unref();
  }
}

export class RemoteChild extends EventEmitter {
  readonly id: number;
  pid: number | undefined = undefined;
  readonly stdout = new OutputStream(() => this.streamClosed("stdout"));
  readonly stderr = new OutputStream(() => this.streamClosed("stderr"));
  readonly stdin = null;
  readonly channel = new SocketRef();
  connected = true;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed = false;
  /** Whether it keeps the engine's event loop alive until it exits (`ref`/`unref`). */
  referenced = true;
  private readonly owner: RemoteOwner;
  /** Lines sent before the IPC socket arrived. */
  private readonly outbox: { line: string; callback?: (error: Error | null) => void }[] = [];
  private inbox = "";
  private open = { ipc: true, stdout: true, stderr: true };
  private closed = false;

  constructor(id: number, owner: RemoteOwner) {
    super();
    this.id = id;
    this.owner = owner;
    for (const name of ["stdout", "stderr"] as const) this[name].on("error", () => undefined);
  }

  /** The process exists: its pid and IPC socket. */
  spawned(pid: number, ipc: Socket): void {
    this.pid = pid;
    this.channel.set(ipc);
    ipc.setEncoding("utf8");
    ipc.on("data", (chunk: string) => this.receive(chunk));
    ipc.on("error", () => undefined);
    ipc.once("close", () => this.channelClosed());
    for (const { line, callback } of this.outbox.splice(0)) this.write(ipc, line, callback);
    this.emit("spawn");
  }

  /** One output socket arrived. */
  output(name: "stdout" | "stderr", socket: Socket): void {
    this[name].attach(socket);
  }

  /** The spawner saw the process exit. */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitCode !== null || this.signalCode !== null) return;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit("exit", code, signal);
    this.maybeClose();
  }

  /** The process could not be created: `error` with no pid, as Node reports a failed spawn. */
  failed(message: string): void {
    this.connected = false;
    this.open = { ipc: false, stdout: false, stderr: false };
    this.outbox.length = 0;
    this.stdout.endWithoutSource();
    this.stderr.endWithoutSource();
    this.emit("error", new Error(message));
  }

  /**
   * The spawner went away before reporting this process's exit: the process was signalled
   * (`SIGKILL`) directly and counts as ended by it; streams not handed over yet end empty.
   */
  lost(): void {
    if (this.pid === undefined) {
      this.failed("the spawner process ended before this run process was created");
      return;
    }
    if (this.channel.socket === null) this.channelClosed();
    this.stdout.endWithoutSource();
    this.stderr.endWithoutSource();
    this.exited(null, "SIGKILL");
  }

  send(message: unknown, callback?: (error: Error | null) => void): boolean {
    if (!this.connected) {
      const error = new Error("Channel closed");
      if (callback !== undefined) queueMicrotask(() => callback(error));
      return false;
    }
    const line = `${JSON.stringify(message)}\n`;
    const ipc = this.channel.socket;
    if (ipc === null) this.outbox.push(callback === undefined ? { line } : { line, callback });
    else this.write(ipc, line, callback);
    return true;
  }

  disconnect(): void {
    if (!this.connected) return;
    this.channel.socket?.end();
    if (this.channel.socket === null) this.channelClosed();
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    this.killed = true;
    this.owner.kill(this.id, signal);
    return true;
  }

  ref(): void {
    this.referenced = true;
    this.owner.refChanged();
  }

  unref(): void {
    this.referenced = false;
    this.owner.refChanged();
  }

  private write(ipc: Socket, line: string, callback?: (error: Error | null) => void): void {
    ipc.write(line, (err) => callback?.(err ?? null));
  }

  private receive(chunk: string): void {
    this.inbox += chunk;
    let end = this.inbox.indexOf("\n");
    while (end >= 0) {
      const line = this.inbox.slice(0, end);
      this.inbox = this.inbox.slice(end + 1);
      end = this.inbox.indexOf("\n");
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        continue; // not a message of the JSON framing: nothing a run process sends
      }
      if (isInternal(message)) continue;
      this.emit("message", message);
    }
  }

  private channelClosed(): void {
    if (!this.open.ipc) return;
    this.open.ipc = false;
    if (this.connected) {
      this.connected = false;
      this.emit("disconnect");
    }
    this.maybeClose();
  }

  private streamClosed(name: "stdout" | "stderr"): void {
    if (!this.open[name]) return;
    this.open[name] = false;
    this.maybeClose();
  }

  /** `close`: the process exited and its pipes and channel have closed. */
  private maybeClose(): void {
    if (this.closed || (this.exitCode === null && this.signalCode === null)) return;
    if (this.open.ipc || this.open.stdout || this.open.stderr) return;
    this.closed = true;
    this.emit("close", this.exitCode, this.signalCode);
  }
}

/** Node's own messages on an IPC channel (`{ cmd: "NODE_…" }`), never the program's. */
function isInternal(message: unknown): boolean {
  if (typeof message !== "object" || message === null) return false;
  const cmd = (message as { cmd?: unknown }).cmd;
  return typeof cmd === "string" && cmd.startsWith("NODE_");
}
