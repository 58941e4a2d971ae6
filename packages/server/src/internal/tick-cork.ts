/**
 * Write batching for a WebSocket: the first frame sent to a socket in a turn of the event loop
 * corks the underlying TCP socket and the end of the turn uncorks it, so the frames queued for
 * that socket in the turn leave together in one `writev` instead of one write per frame. A
 * corked socket is flushed early once it holds {@link FLUSH_BYTES}, so a turn that fans out a
 * large batch starts delivering before the whole batch is serialized.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/** Bytes a corked socket may hold before it is flushed within the turn. */
const FLUSH_BYTES = 16 * 1024;

/** Sockets corked in the current turn, with the bytes sent to each since its last flush. */
const corked = new WeakMap<Duplex, { bytes: number }>();

/**
 * Called before sending a frame of `bytes` to `ws`: corks its socket until the end of the current
 * turn, or flushes it when it already holds a full batch. No-op for a socket without a transport.
 */
export function corkForTick(ws: WebSocket, bytes: number): void {
  // `ws` keeps its transport as `_socket`; without it (never in practice) frames go out unbatched.
  const socket = (ws as unknown as { _socket?: Duplex })._socket;
  if (socket === undefined || socket.destroyed) return;
  const batch = corked.get(socket);
  if (batch === undefined) {
    corked.set(socket, { bytes });
    socket.cork();
    process.nextTick(() => {
      corked.delete(socket);
      socket.uncork();
    });
    return;
  }
  batch.bytes += bytes;
  if (batch.bytes >= FLUSH_BYTES) {
    batch.bytes = 0;
    socket.uncork();
    socket.cork();
  }
}
