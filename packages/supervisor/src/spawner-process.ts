/**
 * The spawner: a small Node process that creates the engine's run processes, so the engine (a
 * large process) never forks. A `fork()` copies the parent's page tables and leaves every page
 * of it copy-on-write: the fork itself costs milliseconds on the engine's event loop, and the
 * engine then pays a page fault for each page it writes next. From this process both cost
 * little, and nothing of it stalls the engine.
 *
 * Each run process gets three socket pairs — stdout, stderr and its IPC channel on fd 3 (Node
 * opens it as the channel from `NODE_CHANNEL_FD`) — whose engine ends are handed over the
 * spawner's own IPC channel; from then on the engine and the run process talk directly, and
 * this process only reports the exit and delivers signals. It exits when the engine's channel
 * closes (the engine ended); run processes not handed over yet then lose their channel too and
 * end on their own. It holds none of the engine's own stdio (its stderr is a pipe the engine
 * reads), so an engine that was killed is seen to close its output at once.
 *
 * Runs as a plain script (no imports beyond Node's), so it starts from its TypeScript source
 * too.
 *
 * Engine → spawner: `spawn` {id, file, args, cwd, env}, `kill` {id, signal}.
 * Spawner → engine: `spawned` {id, pid} with the IPC socket, then `stdout` and `stderr` {id}
 * with their sockets, `exit` {id, code, signal}; `failed` {id, message} when the process could
 * not be created.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";

interface SpawnRequest {
  type: "spawn";
  id: number;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

interface KillRequest {
  type: "kill";
  id: number;
  signal: NodeJS.Signals;
}

/** How often the spawner checks that its engine is still there. */
const ORPHAN_CHECK_MS = 500;

const children = new Map<number, ChildProcess>();

function send(message: object, handle?: Socket): void {
  if (!process.connected) return;
  try {
    if (handle === undefined) process.send?.(message);
    else process.send?.(message, handle);
  } catch {
    // The engine is gone: the disconnect handler ends this process.
  }
}

function create(request: SpawnRequest): void {
  let child: ChildProcess;
  try {
    child = spawn(request.file, request.args, {
      cwd: request.cwd,
      env: { ...request.env, NODE_CHANNEL_FD: "3", NODE_CHANNEL_SERIALIZATION_MODE: "json" },
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
  } catch (err) {
    send({ type: "failed", id: request.id, message: (err as Error).message });
    return;
  }
  if (child.pid === undefined) {
    // The spawn failed (no such file, no such directory…): Node reports it as an `error` event.
    child.once("error", (err) => send({ type: "failed", id: request.id, message: err.message }));
    return;
  }
  const ipc = child.stdio[3] as Socket;
  const out = child.stdout as Socket;
  const err = child.stderr as Socket;
  // This end must read nothing: the sockets go to the engine as they are, and whatever this
  // process read from them would be lost.
  for (const socket of [ipc, out, err]) stopReading(socket);
  children.set(request.id, child);
  child.once("exit", (code, signal) => {
    children.delete(request.id);
    send({ type: "exit", id: request.id, code, signal });
  });
  child.on("error", () => {
    // A signal to a process already gone: its exit is reported anyway.
  });
  send({ type: "spawned", id: request.id, pid: child.pid }, ipc);
  send({ type: "stdout", id: request.id }, out);
  send({ type: "stderr", id: request.id }, err);
}

function stopReading(socket: Socket): void {
  const handle = (socket as unknown as { _handle?: { readStop?: () => number } })._handle;
  handle?.readStop?.();
}

function kill(request: KillRequest): void {
  try {
    children.get(request.id)?.kill(request.signal);
  } catch {
    // Gone already.
  }
}

process.on("message", (raw: unknown) => {
  const message = raw as { type?: unknown };
  if (message === null || typeof message !== "object") return;
  if (message.type === "spawn") create(message as SpawnRequest);
  else if (message.type === "kill") kill(message as KillRequest);
});
process.on("disconnect", () => process.exit(0));
// Node does not emit `disconnect` when the engine's end closes while a socket sent to it awaits
// its acknowledgement (it postpones the disconnect until the acknowledgement, which a dead
// engine never sends): look at the channel, too.
setInterval(() => {
  if (!process.connected || process.channel === undefined || process.channel === null) {
    process.exit(0);
  }
}, ORPHAN_CHECK_MS).unref();
