/**
 * The WebSocket event channel: per-run subscriptions with channel filters and resume-after-cursor
 * (`ws/run-subscriptions.ts`), the all-runs lifecycle feed (`ws/feeds.ts`), connections and
 * heartbeats (`ws/connections.ts`), message parsing (`ws/protocol.ts`), limits and close codes.
 * This file routes client messages and paces lagging sockets: a socket whose buffer stays at or
 * above high water for the slow-consumer window is closed 4008.
 * Knows nothing about HTTP routing or auth (the server checks the upgrade before calling here).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket } from "ws";
import type { RawData } from "ws";
import {
  WS_HIGH_WATER,
  WS_MAX_SUBSCRIPTIONS,
  WS_PUMP_INTERVAL_MS,
  WS_SLOW_CONSUMER_MS,
} from "./constants.ts";
import type { Metrics } from "./internal/metrics.ts";
import type { EngineApi, EventRow, PublishedEvent, RunRow } from "./ports.ts";
import { Connections, sendFrame } from "./ws/connections.ts";
import type { Conn } from "./ws/connections.ts";
import { Feeds } from "./ws/feeds.ts";
import type { FeedSub } from "./ws/feeds.ts";
import { decodeMessage, failureFrame, parseMessage, ProtocolError } from "./ws/protocol.ts";
import { RunSubscriptions } from "./ws/run-subscriptions.ts";
import type { RunSub } from "./ws/run-subscriptions.ts";

/** What the channel needs from its server. */
export interface WsChannelDeps {
  engine: EngineApi;
  metrics: Metrics;
  log: (line: string) => void;
  /** Protocol ping interval, ms (30 000 in production). */
  heartbeatMs: number;
  /** Slow-consumer window, ms; default 60 000. */
  slowConsumerMs?: number;
}

/** The channel: owns the connections, the run subscriptions and the feeds. */
export class WsChannel {
  private readonly deps: WsChannelDeps;
  private readonly connections: Connections;
  private readonly runs: RunSubscriptions;
  private readonly feeds: Feeds;
  private readonly slowConsumerMs: number;

  constructor(deps: WsChannelDeps) {
    this.deps = deps;
    this.slowConsumerMs = deps.slowConsumerMs ?? WS_SLOW_CONSUMER_MS;
    const ctx = {
      engine: deps.engine,
      metrics: deps.metrics,
      log: deps.log,
      schedule: (conn: Conn) => this.schedule(conn),
    };
    this.runs = new RunSubscriptions(ctx);
    this.feeds = new Feeds(ctx);
    this.connections = new Connections(deps.heartbeatMs, deps.metrics, {
      onMessage: (conn, data) => this.onMessage(conn, data),
      onClose: (conn) => {
        for (const sub of conn.subs.values()) this.remove(sub);
      },
    });
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.connections.count;
  }

  /** Active subscriptions by kind. */
  subscriptionCounts(): { run: number; runs: number } {
    return { run: this.runs.count, runs: this.feeds.count };
  }

  /** Complete an already-authorised upgrade. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.connections.accept(req, socket, head);
  }

  /** Close every socket with `code` and terminate stragglers after `terminateAfterMs`. */
  closeAll(code: number, reason: string, terminateAfterMs: number): Promise<void> {
    return this.connections.closeAll(code, reason, terminateAfterMs);
  }

  /** Stop timers (the engine listener is owned by the server). */
  dispose(): void {
    this.connections.dispose();
  }

  /** The single engine listener's hook: route one committed event to run subscriptions. */
  onEvent(row: EventRow): void {
    this.runs.onEvent(row);
  }

  /**
   * The feeds a lifecycle event goes to (routed by its workflow slug, no read), or `null` when
   * none wants it. Decided when the event is published: a feed registered later gets the change
   * through its snapshot instead.
   */
  feedTargets(row: PublishedEvent): FeedSub[] | null {
    return this.feeds.targets(row);
  }

  /**
   * Send one lifecycle change to the feeds chosen by {@link WsChannel.feedTargets}, with the run
   * as read after it (`null`: it could not be read — those feeds resync). Called in event order.
   */
  feedEvent(row: PublishedEvent, run: RunRow | null, targets: readonly FeedSub[]): void {
    this.feeds.event(row, run, targets);
  }

  private onMessage(conn: Conn, data: RawData): void {
    let sub: string | undefined;
    try {
      const m = decodeMessage(data);
      if (typeof m["sub"] === "string") sub = m["sub"];
      const msg = parseMessage(m);
      switch (msg.type) {
        case "subscribe":
          this.checkCapacity(conn, msg.sub);
          this.runs.subscribe(conn, msg);
          return;
        case "subscribe_runs":
          this.checkCapacity(conn, msg.sub);
          this.feeds.subscribe(conn, msg);
          return;
        case "unsubscribe": {
          const existing = conn.subs.get(msg.sub);
          if (existing !== undefined) this.remove(existing);
          sendFrame(conn, this.deps.metrics, { type: "unsubscribed", sub: msg.sub });
          return;
        }
        case "ping":
          sendFrame(
            conn,
            this.deps.metrics,
            msg.nonce === undefined
              ? { type: "pong", t: Date.now() }
              : { type: "pong", nonce: msg.nonce, t: Date.now() },
          );
          return;
      }
    } catch (err) {
      sendFrame(
        conn,
        this.deps.metrics,
        failureFrame(sub, err, this.deps.log, "websocket message failed"),
      );
    }
  }

  private checkCapacity(conn: Conn, sub: string): void {
    if (conn.subs.has(sub)) {
      throw new ProtocolError(
        "DUPLICATE_SUBSCRIPTION",
        `Subscription "${sub}" is already active on this connection.`,
        "Choose another sub id or unsubscribe first.",
      );
    }
    if (conn.subs.size >= WS_MAX_SUBSCRIPTIONS) {
      throw new ProtocolError(
        "TOO_MANY_SUBSCRIPTIONS",
        `At most ${WS_MAX_SUBSCRIPTIONS} subscriptions per connection.`,
        "Unsubscribe from runs you no longer follow.",
      );
    }
  }

  private remove(sub: RunSub | FeedSub): void {
    if (sub.kind === "runs") this.feeds.remove(sub);
    else this.runs.remove(sub);
  }

  private schedule(conn: Conn): void {
    if (conn.timer !== null || conn.closing) return;
    conn.timer = setTimeout(() => {
      conn.timer = null;
      this.service(conn);
    }, WS_PUMP_INTERVAL_MS);
  }

  /** The ≤100 ms pass over one lagging socket: slow-consumer check, pumps, feed resyncs. */
  private service(conn: Conn): void {
    if (conn.closing || conn.ws.readyState !== WebSocket.OPEN) return;
    const buffered = conn.ws.bufferedAmount;
    const now = Date.now();
    if (buffered >= WS_HIGH_WATER) {
      conn.highSince ??= now;
      if (now - conn.highSince >= this.slowConsumerMs) {
        conn.closing = true;
        conn.ws.close(4008, "slow consumer");
        setTimeout(() => conn.ws.terminate(), 5000).unref();
        return;
      }
    } else {
      conn.highSince = null;
    }
    let behind = buffered >= WS_HIGH_WATER;
    for (const sub of [...conn.subs.values()]) {
      const lagging = sub.kind === "run" ? this.runs.service(sub) : this.feeds.service(sub, now);
      if (lagging) behind = true;
    }
    if (behind) this.schedule(conn);
  }
}
