/**
 * The WebSocket event channel (spec 04 §3): per-run subscriptions with channel filters and
 * resume-after-cursor, the all-runs lifecycle feed, heartbeats, limits and close codes.
 * Invariant (§3.5): every selected stored event after the resume point reaches the subscriber
 * exactly once, in cursor order, across the replay→live seam and backpressure pauses. A lagging
 * socket never buffers live events in memory: they are dropped and re-read from the store by
 * the pump, so per-socket memory stays within high water + one page + one frame.
 * Knows nothing about HTTP routing or auth (the server checks the upgrade before calling here).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket } from "ws";
import type { RawData } from "ws";
import { channelOf, selectChannels } from "@promenade/workflow";
import type { Channel } from "@promenade/workflow";
import { isEngineError } from "@promenade/workflow/errors";
import { jsonTextDepthProblem, tooDeepMessage } from "@promenade/workflow/limits";
import {
  WS_FEED_SNAPSHOT_MAX,
  WS_HIGH_WATER,
  WS_LOW_WATER,
  WS_MAX_MESSAGE_BYTES,
  WS_MAX_SUBSCRIPTIONS,
  WS_PAGE,
  WS_PROTOCOL,
  WS_PUMP_INTERVAL_MS,
  WS_SLOW_CONSUMER_MS,
} from "./constants.ts";
import type { Metrics } from "./internal/metrics.ts";
import { isTerminalStatus } from "./internal/status.ts";
import type { EngineApi, EventRow, RunRow, RunStatus } from "./ports.ts";

const SUB_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const RUN_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const SLUG_PATTERN = /^[A-Za-z0-9-]{1,100}$/;
const ACTIVE: RunStatus[] = ["queued", "pending", "running", "cancelling"];
/** Catch-up pages read in one synchronous pump turn before yielding to the event loop. */
const PAGES_PER_TURN = 16;

interface RunSub {
  kind: "run";
  conn: Conn;
  sub: string;
  /** JSON-encoded `sub`, spliced into pre-built frames. */
  subJson: string;
  runId: string;
  channels: ReadonlySet<Channel>;
  delivered: number;
  mode: "catching_up" | "live";
  caughtUpSent: boolean;
  terminalStatus: string | null;
  terminalCursor: number;
  removed: boolean;
}

interface FeedSub {
  kind: "runs";
  conn: Conn;
  sub: string;
  workflowId: string | null;
  stale: boolean;
  removed: boolean;
}

interface Conn {
  ws: WebSocket;
  subs: Map<string, RunSub | FeedSub>;
  alive: boolean;
  highSince: number | null;
  timer: ReturnType<typeof setTimeout> | null;
  closing: boolean;
}

/** What the channel needs from its server. */
export interface WsChannelDeps {
  engine: EngineApi;
  metrics: Metrics;
  log: (line: string) => void;
  /** Run → API projection (adds `workflowSlug`). */
  projectRun: (run: RunRow) => Record<string, unknown>;
  /** Protocol ping interval, ms (spec: 30 000). */
  heartbeatMs: number;
  /** Slow-consumer window, ms (spec: 60 000). */
  slowConsumerMs?: number;
}

class ProtocolError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.code = code;
    this.hint = hint;
  }
}

/** The channel: owns the `ws` server (noServer mode) and every open connection. */
export class WsChannel {
  private readonly wss: WebSocketServer;
  private readonly deps: WsChannelDeps;
  private readonly conns = new Set<Conn>();
  private readonly byRun = new Map<string, Set<RunSub>>();
  private readonly feeds = new Set<FeedSub>();
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private readonly slowConsumerMs: number;

  constructor(deps: WsChannelDeps) {
    this.deps = deps;
    this.slowConsumerMs = deps.slowConsumerMs ?? WS_SLOW_CONSUMER_MS;
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: WS_MAX_MESSAGE_BYTES,
      clientTracking: false,
      // The bearer subprotocol is never echoed; the server checked the offer before upgrading.
      handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    });
    this.heartbeat = setInterval(() => this.beat(), deps.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Active subscriptions by kind. */
  subscriptionCounts(): { run: number; runs: number } {
    let run = 0;
    for (const subs of this.byRun.values()) run += subs.size;
    return { run, runs: this.feeds.size };
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

  /** Stop timers (the engine listener is owned by the server). */
  dispose(): void {
    clearInterval(this.heartbeat);
    for (const conn of this.conns) {
      if (conn.timer !== null) clearTimeout(conn.timer);
    }
  }

  /** The single engine listener's hook: route one committed event to subscribers. */
  onEvent(row: EventRow): void {
    const subs = this.byRun.get(row.runId);
    let eventJson: string | undefined;
    if (subs !== undefined) {
      for (const sub of subs) {
        if (sub.mode !== "live" || row.cursor <= sub.delivered) continue;
        if (sub.conn.ws.bufferedAmount >= WS_HIGH_WATER) {
          // Already committed: the pump re-reads it from the store once the socket drains.
          sub.mode = "catching_up";
          this.deps.metrics.wsBackpressurePauses += 1;
          this.schedule(sub.conn);
          continue;
        }
        eventJson ??= JSON.stringify(row.event);
        this.deliver(sub, row, eventJson);
        if (sub.terminalStatus !== null) this.sendEnd(sub);
      }
    }
    if (row.event.kind === "run_status" && this.feeds.size > 0) this.feedEvent(row);
  }

  private feedEvent(row: EventRow): void {
    const run = this.deps.engine.getRun(row.runId);
    if (run === null) return;
    let frame: string | undefined;
    for (const feed of this.feeds) {
      if (feed.workflowId !== null && feed.workflowId !== run.workflowId) continue;
      if (feed.stale) continue;
      if (feed.conn.ws.bufferedAmount >= WS_HIGH_WATER) {
        feed.stale = true;
        this.deps.metrics.wsBackpressurePauses += 1;
        this.schedule(feed.conn);
        continue;
      }
      frame ??= JSON.stringify({
        runId: row.runId,
        cursor: row.cursor,
        event: row.event,
        run: this.deps.projectRun(run),
      }).slice(1);
      this.sendRaw(feed.conn, "run", `{"type":"run","sub":${JSON.stringify(feed.sub)},${frame}`);
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
      this.onMessage(conn, data);
    });
    ws.on("error", () => {
      // ws closes the socket itself (1009 for oversized messages); 'close' cleans up.
    });
    ws.on("close", (code: number) => {
      this.conns.delete(conn);
      if (conn.timer !== null) clearTimeout(conn.timer);
      for (const sub of conn.subs.values()) this.remove(sub);
      this.deps.metrics.wsClosed.inc({ code: String(code) });
    });
    this.send(conn, {
      type: "hello",
      protocol: WS_PROTOCOL,
      heartbeatMs: this.deps.heartbeatMs,
      limits: { maxSubscriptions: WS_MAX_SUBSCRIPTIONS, maxMessageBytes: WS_MAX_MESSAGE_BYTES },
    });
  }

  private beat(): void {
    for (const conn of this.conns) {
      if (!conn.alive) {
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

  private onMessage(conn: Conn, data: RawData): void {
    let msg: unknown;
    let sub: string | undefined;
    try {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString("utf8")
        : Buffer.from(data as ArrayBuffer).toString("utf8");
      const tooDeep = jsonTextDepthProblem(text);
      if (tooDeep !== null)
        throw new ProtocolError("VALIDATION", tooDeepMessage("Message", tooDeep));
      try {
        msg = JSON.parse(text) as unknown;
      } catch {
        throw new ProtocolError("BAD_MESSAGE", "Message is not valid JSON.");
      }
      if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
        throw new ProtocolError("BAD_MESSAGE", "Message must be a JSON object.");
      }
      const m = msg as Record<string, unknown>;
      if (typeof m["sub"] === "string") sub = m["sub"];
      switch (m["type"]) {
        case "subscribe":
          this.subscribe(conn, m);
          return;
        case "subscribe_runs":
          this.subscribeRuns(conn, m);
          return;
        case "unsubscribe": {
          strict(m, ["type", "sub"]);
          const s = requireSub(m);
          const existing = conn.subs.get(s);
          if (existing !== undefined) this.remove(existing);
          this.send(conn, { type: "unsubscribed", sub: s });
          return;
        }
        case "ping": {
          strict(m, ["type", "nonce"]);
          const nonce = m["nonce"];
          if (nonce !== undefined && (typeof nonce !== "string" || nonce.length > 64)) {
            throw new ProtocolError(
              "VALIDATION",
              'Field "nonce" must be a string of at most 64 characters.',
            );
          }
          this.send(
            conn,
            nonce === undefined
              ? { type: "pong", t: Date.now() }
              : { type: "pong", nonce, t: Date.now() },
          );
          return;
        }
        default:
          throw new ProtocolError(
            "BAD_MESSAGE",
            m["type"] === undefined
              ? 'Message has no "type".'
              : `Unknown message type ${JSON.stringify(m["type"])}.`,
            "Valid types: subscribe, subscribe_runs, unsubscribe, ping.",
          );
      }
    } catch (err) {
      let code = "INTERNAL";
      let message = "Internal server error.";
      let hint: string | undefined;
      if (err instanceof ProtocolError) {
        ({ code, message, hint } = err);
      } else if (isEngineError(err) && (err.code === "VALIDATION" || err.code === "NOT_FOUND")) {
        ({ code, message, hint } = err);
      } else {
        this.deps.log(
          `websocket message failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      }
      const frame: Record<string, unknown> = { type: "error" };
      if (sub !== undefined && SUB_PATTERN.test(sub)) frame["sub"] = sub;
      frame["code"] = code;
      frame["message"] = message;
      if (hint !== undefined) frame["hint"] = hint;
      this.send(conn, frame);
    }
  }

  private subscribe(conn: Conn, m: Record<string, unknown>): void {
    strict(m, ["type", "sub", "runId", "after", "channels", "verbose"]);
    const sub = requireSub(m);
    const runId = m["runId"];
    if (typeof runId !== "string") {
      throw new ProtocolError("VALIDATION", 'Field "runId" must be a string.');
    }
    const after = m["after"] ?? 0;
    if (typeof after !== "number" || !Number.isSafeInteger(after) || after < 0) {
      throw new ProtocolError("VALIDATION", 'Field "after" must be a non-negative integer cursor.');
    }
    const channelsField = m["channels"];
    if (channelsField !== undefined) {
      if (
        !Array.isArray(channelsField) ||
        channelsField.length === 0 ||
        !channelsField.every((c) => typeof c === "string")
      ) {
        throw new ProtocolError(
          "VALIDATION",
          'Field "channels" must be a non-empty array of channel names.',
          "Valid channels: lifecycle, phase, output, log, agent.",
        );
      }
    }
    const verbose = m["verbose"];
    if (verbose !== undefined && typeof verbose !== "boolean") {
      throw new ProtocolError("VALIDATION", 'Field "verbose" must be a boolean.');
    }
    const channels = selectChannels({
      channels: channelsField,
      verbose,
    });
    this.checkCapacity(conn, sub);
    const run = RUN_ID_PATTERN.test(runId) ? this.deps.engine.getRun(runId) : null;
    if (run === null) throw new ProtocolError("NOT_FOUND", `Unknown run: ${runId}`);
    const rs: RunSub = {
      kind: "run",
      conn,
      sub,
      subJson: JSON.stringify(sub),
      runId,
      channels: new Set(channels),
      delivered: after,
      mode: "catching_up",
      caughtUpSent: false,
      terminalStatus: null,
      terminalCursor: 0,
      removed: false,
    };
    conn.subs.set(sub, rs);
    let set = this.byRun.get(runId);
    if (set === undefined) {
      set = new Set();
      this.byRun.set(runId, set);
    }
    set.add(rs);
    this.send(conn, { type: "subscribed", sub, runId, after, channels });
    this.pump(rs);
  }

  private subscribeRuns(conn: Conn, m: Record<string, unknown>): void {
    strict(m, ["type", "sub", "workflow"]);
    const sub = requireSub(m);
    const workflow = m["workflow"];
    if (workflow !== undefined && typeof workflow !== "string") {
      throw new ProtocolError("VALIDATION", 'Field "workflow" must be a workflow slug.');
    }
    this.checkCapacity(conn, sub);
    let workflowId: string | null = null;
    if (workflow !== undefined) {
      const wf = SLUG_PATTERN.test(workflow) ? this.deps.engine.getWorkflow(workflow) : null;
      if (wf === null) {
        throw new ProtocolError(
          "NOT_FOUND",
          `Workflow "${workflow}" is not deployed on this engine.`,
        );
      }
      workflowId = wf.id;
    }
    const feed: FeedSub = { kind: "runs", conn, sub, workflowId, stale: false, removed: false };
    // Register and snapshot in one synchronous turn: every later change arrives as a `run` frame.
    conn.subs.set(sub, feed);
    this.feeds.add(feed);
    this.sendSnapshot(feed, false);
  }

  private sendSnapshot(feed: FeedSub, resync: boolean): void {
    const query = {
      statuses: ACTIVE,
      limit: WS_FEED_SNAPSHOT_MAX + 1,
      ...(feed.workflowId === null ? {} : { workflowId: feed.workflowId }),
    };
    const rows = this.deps.engine.listRuns(query);
    const truncated = rows.length > WS_FEED_SNAPSHOT_MAX;
    const runs = rows.slice(0, WS_FEED_SNAPSHOT_MAX).map((run) => ({
      run: this.deps.projectRun(run),
      cursor: this.deps.engine.maxCursor(run.id),
    }));
    this.send(feed.conn, { type: "runs_snapshot", sub: feed.sub, resync, truncated, runs });
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

  /** Catch a subscription up from the store while the socket has room (spec 04 §3.5 step 2). */
  private pump(sub: RunSub): void {
    if (sub.removed || sub.mode === "live") return;
    const ws = sub.conn.ws;
    if (ws.bufferedAmount > WS_LOW_WATER) {
      this.schedule(sub.conn);
      return;
    }
    let pages = 0;
    while (ws.bufferedAmount < WS_HIGH_WATER) {
      if (pages++ === PAGES_PER_TURN) {
        // A long backlog to a fast client: yield so other sockets and HTTP requests get a turn.
        setImmediate(() => this.pump(sub));
        return;
      }
      let rows: EventRow[];
      try {
        rows = this.deps.engine.listEvents(sub.runId, {
          afterCursor: sub.delivered,
          limit: WS_PAGE,
        });
      } catch (err) {
        this.storeFailure(sub, err);
        return;
      }
      let full = false;
      for (const row of rows) {
        // Checked per row, not per page: a page of large rows must not overshoot high water.
        if (ws.bufferedAmount >= WS_HIGH_WATER) {
          full = true;
          break;
        }
        this.deliver(sub, row, undefined);
      }
      if (full) break;
      if (rows.length < WS_PAGE) {
        // Exhausted: switch to live in the same turn, so the next committed event reaches us.
        sub.mode = "live";
        if (!sub.caughtUpSent) {
          sub.caughtUpSent = true;
          this.sendRaw(
            sub.conn,
            "caught_up",
            `{"type":"caught_up","sub":${sub.subJson},"runId":"${sub.runId}","cursor":${sub.delivered}}`,
          );
        }
        if (sub.terminalStatus !== null) {
          this.sendEnd(sub);
        } else {
          const run = this.deps.engine.getRun(sub.runId);
          if (run !== null && isTerminalStatus(run.status)) {
            // Resumed past the terminal event: end with the run's final state.
            sub.terminalStatus = run.status;
            sub.terminalCursor = this.deps.engine.maxCursor(sub.runId);
            this.sendEnd(sub);
          }
        }
        return;
      }
    }
    this.schedule(sub.conn);
  }

  private deliver(sub: RunSub, row: EventRow, eventJson: string | undefined): void {
    sub.delivered = row.cursor;
    const kind = row.event.kind;
    const channel = channelOf(row.event);
    if (channel !== undefined && sub.channels.has(channel)) {
      this.sendRaw(
        sub.conn,
        "event",
        `{"type":"event","sub":${sub.subJson},"runId":"${sub.runId}","cursor":${row.cursor},"event":${eventJson ?? JSON.stringify(row.event)}}`,
      );
    }
    if (kind === "run_status") {
      const status = row.event["status"];
      if (typeof status === "string" && isTerminalStatus(status)) {
        sub.terminalStatus = status;
        sub.terminalCursor = row.cursor;
      }
    }
  }

  private sendEnd(sub: RunSub): void {
    this.send(sub.conn, {
      type: "end",
      sub: sub.sub,
      runId: sub.runId,
      status: sub.terminalStatus,
      cursor: sub.terminalCursor,
    });
    this.remove(sub);
  }

  private storeFailure(sub: RunSub, err: unknown): void {
    this.deps.log(
      `websocket catch-up of run ${sub.runId} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    this.remove(sub);
    this.send(sub.conn, {
      type: "error",
      sub: sub.sub,
      code: "INTERNAL",
      message: "Internal server error.",
    });
  }

  private remove(sub: RunSub | FeedSub): void {
    if (sub.removed) return;
    sub.removed = true;
    sub.conn.subs.delete(sub.sub);
    if (sub.kind === "runs") {
      this.feeds.delete(sub);
      return;
    }
    const set = this.byRun.get(sub.runId);
    if (set !== undefined) {
      set.delete(sub);
      if (set.size === 0) this.byRun.delete(sub.runId);
    }
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
      if (sub.kind === "run") {
        if (sub.mode === "catching_up") this.pump(sub);
        if (!sub.removed && sub.mode === "catching_up") behind = true;
      } else if (sub.stale) {
        if (conn.ws.bufferedAmount <= WS_LOW_WATER) {
          sub.stale = false;
          this.sendSnapshot(sub, true);
        } else {
          behind = true;
        }
      }
    }
    if (behind) this.schedule(conn);
  }

  private send(conn: Conn, frame: Record<string, unknown>): void {
    this.sendRaw(conn, frame["type"] as string, JSON.stringify(frame));
  }

  private sendRaw(conn: Conn, type: string, text: string): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.ws.send(text);
    const m = this.deps.metrics.wsFramesSent;
    m.set(type, (m.get(type) ?? 0) + 1);
  }
}

function strict(m: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(m)) {
    if (!allowed.includes(key)) {
      throw new ProtocolError(
        "VALIDATION",
        `Unknown field "${key}" in ${String(m["type"])} message.`,
        `Allowed fields: ${allowed.join(", ")}.`,
      );
    }
  }
}

function requireSub(m: Record<string, unknown>): string {
  const sub = m["sub"];
  if (typeof sub !== "string" || !SUB_PATTERN.test(sub)) {
    throw new ProtocolError("VALIDATION", 'Field "sub" must match ^[A-Za-z0-9._:-]{1,64}$.');
  }
  return sub;
}
