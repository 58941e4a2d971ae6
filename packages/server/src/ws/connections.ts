/**
 * WebSocket connections: the `ws` server (noServer mode), the set of open connections, the
 * `hello` frame, protocol-level heartbeats (a connection that answered nothing since the last
 * ping is terminated, unless this process itself was stalled meanwhile), closing every socket on shutdown, and writing frames (corked per turn of
 * the event loop, counted by type).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket } from "ws";
import type { RawData } from "ws";
import { WS_MAX_MESSAGE_BYTES, WS_MAX_SUBSCRIPTIONS, WS_PROTOCOL } from "../constants.ts";
import type { Metrics } from "../internal/metrics.ts";
import type { EngineApi } from "../ports.ts";
import { corkForTick } from "../internal/tick-cork.ts";
import type { FeedSub } from "./feeds.ts";
import type { RunSub } from "./run-subscriptions.ts";

/** A heartbeat this many periods after the previous one finds the process itself stalled. */
const STALLED_BEAT = 1.5;

/** One open connection. */
export interface Conn {
  ws: WebSocket;
  subs: Map<string, RunSub | FeedSub>;
  /** Something arrived since the last heartbeat ping. */
  alive: boolean;
  /** Since when (epoch ms) the socket's buffer has stayed at or above high water. */
  highSince: number | null;
  /** The pending pass over this lagging socket. */
  timer: ReturnType<typeof setTimeout> | null;
  closing: boolean;
}

/** What the connections report to the channel. */
export interface ConnectionEvents {
  /** A text frame arrived (binary frames close the socket with 1003). */
  onMessage(conn: Conn, data: RawData): void;
  /** The socket closed; `conn` is no longer counted. */
  onClose(conn: Conn): void;
}

/** Owns the `ws` server, the open connections and the heartbeat. */
export class Connections {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private readonly heartbeatMs: number;
  /** When (monotonic ms) the last heartbeat ran. */
  private lastBeatAt = performance.now();
  private readonly metrics: Metrics;
  private readonly events: ConnectionEvents;

  constructor(heartbeatMs: number, metrics: Metrics, events: ConnectionEvents) {
    this.heartbeatMs = heartbeatMs;
    this.metrics = metrics;
    this.events = events;
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: WS_MAX_MESSAGE_BYTES,
      clientTracking: false,
      // The bearer subprotocol is never echoed; the server checked the offer before upgrading.
      handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    });
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    this.heartbeat.unref();
  }

  get count(): number {
    return this.conns.size;
  }

  /** Complete an already-authorised upgrade. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws));
  }

  /** Close every socket with `code` and terminate stragglers after `terminateAfterMs`. */
  closeAll(code: number, reason: string, terminateAfterMs: number): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const conn of this.conns) {
      conn.closing = true;
      pending.push(
        new Promise((resolve) => {
          const t = setTimeout(() => {
            conn.ws.terminate();
            resolve();
          }, terminateAfterMs);
          conn.ws.once("close", () => {
            clearTimeout(t);
            resolve();
          });
        }),
      );
      conn.ws.close(code, reason);
    }
    return Promise.all(pending).then(() => undefined);
  }

  /** Stop the heartbeat and every connection's pending timer. */
  dispose(): void {
    clearInterval(this.heartbeat);
    for (const conn of this.conns) {
      if (conn.timer !== null) clearTimeout(conn.timer);
    }
  }

  private connected(ws: WebSocket): void {
    const conn: Conn = {
      ws,
      subs: new Map(),
      alive: true,
      highSince: null,
      timer: null,
      closing: false,
    };
    this.conns.add(conn);
    ws.on("pong", () => {
      conn.alive = true;
    });
    ws.on("message", (data: RawData, isBinary: boolean) => {
      conn.alive = true;
      if (isBinary) {
        ws.close(1003, "binary frames are not supported");
        return;
      }
      this.events.onMessage(conn, data);
    });
    ws.on("error", () => {
      // ws closes the socket itself (1009 for oversized messages); 'close' cleans up.
    });
    ws.on("close", (code: number) => {
      this.conns.delete(conn);
      if (conn.timer !== null) clearTimeout(conn.timer);
      this.events.onClose(conn);
      this.metrics.wsClosed.inc({ code: String(code) });
    });
    sendFrame(conn, this.metrics, {
      type: "hello",
      protocol: WS_PROTOCOL,
      heartbeatMs: this.heartbeatMs,
      limits: { maxSubscriptions: WS_MAX_SUBSCRIPTIONS, maxMessageBytes: WS_MAX_MESSAGE_BYTES },
    });
  }

  private beat(): void {
    const now = performance.now();
    // A beat that comes late means this process itself did not run for a while (a long pause,
    // CPU starvation): the peers' pongs may still sit unread, so no one is judged on this beat.
    const stalled = now - this.lastBeatAt > this.heartbeatMs * STALLED_BEAT;
    this.lastBeatAt = now;
    // Judged after this turn's poll phase, so a pong that arrived before the timer fired is read
    // first (timers run before pending socket input in each turn of the event loop).
    setImmediate(() => this.judge(stalled));
  }

  private judge(stalled: boolean): void {
    for (const conn of this.conns) {
      if (!conn.alive && !stalled) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {
        conn.ws.terminate();
      }
    }
  }
}

/** Sends one frame object (its `type` names it in the metrics). */
export function sendFrame(conn: Conn, metrics: Metrics, frame: Record<string, unknown>): void {
  sendText(conn, metrics, frame["type"] as string, JSON.stringify(frame));
}

/** Sends one pre-serialized frame of type `type`, if the socket is open. */
export function sendText(conn: Conn, metrics: Metrics, type: string, text: string): void {
  if (conn.ws.readyState !== WebSocket.OPEN) return;
  corkForTick(conn.ws, text.length);
  conn.ws.send(text);
  const m = metrics.wsFramesSent;
  m.set(type, (m.get(type) ?? 0) + 1);
}

/**
 * Marks a subscription removed and takes it off its connection; `false` when it already was.
 * The caller drops it from its own registry.
 */
export function detach(sub: { conn: Conn; sub: string; removed: boolean }): boolean {
  if (sub.removed) return false;
  sub.removed = true;
  if (sub.conn.subs.get(sub.sub) === sub) sub.conn.subs.delete(sub.sub);
  return true;
}

/** What run subscriptions and feeds need from the channel. */
export interface SubscriptionContext {
  engine: EngineApi;
  metrics: Metrics;
  log: (line: string) => void;
  /** Arranges a pass over a lagging connection (pumps, resyncs, slow-consumer check). */
  schedule(conn: Conn): void;
}
