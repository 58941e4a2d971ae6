/**
 * The WebSocket event channel: per-run subscriptions with channel filters and resume-after-cursor,
 * the all-runs lifecycle feed, heartbeats, limits and close codes.
 * Invariant: every selected stored event after the resume point reaches the subscriber exactly
 * once, in cursor order, across the replay→live seam and backpressure pauses — also when the
 * engine answers reads later than it publishes events: events published while a catch-up read is
 * in flight are held and merged after it by cursor. Live events are routed by the published
 * event's run id (run subscriptions) and workflow slug (feeds); a run row is read only for
 * catch-up, for the feed snapshot and for the Run a feed frame carries.
 * A lagging socket never buffers live events in memory: they are dropped and re-read from the
 * store by the pump, so per-socket memory stays within high water + one page + one frame (plus
 * the events published during one read's round trip, capped).
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
import { isTerminalStatus, NON_TERMINAL_STATUSES } from "./internal/status.ts";
import type { EngineApi, EventRow, PublishedEvent, RunRow, RunStatus } from "./ports.ts";
import { projectRun, projectRuns } from "./project.ts";
import { corkForTick } from "./internal/tick-cork.ts";

const SUB_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const RUN_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const SLUG_PATTERN = /^[A-Za-z0-9-]{1,100}$/;
/** Catch-up pages read in one pump turn before yielding to the event loop. */
const PAGES_PER_TURN = 16;
/**
 * Live events held per subscription while one catch-up read is in flight. Past it the held
 * events are dropped and the pump reads again (they are committed, so the store has them).
 */
const HELD_EVENTS_MAX = 4 * WS_PAGE;
/** A feed whose snapshot read failed waits this long before the next attempt, ms. */
const FEED_RETRY_MS = 1000;

interface RunSub {
  kind: "run";
  conn: Conn;
  sub: string;
  /** JSON-encoded `sub`, spliced into pre-built frames. */
  subJson: string;
  runId: string;
  channels: ReadonlySet<Channel>;
  delivered: number;
  /** `opening` until the run is known to exist and `subscribed` is sent. */
  mode: "opening" | "catching_up" | "live";
  /** A catch-up loop is running for this subscription. */
  pumping: boolean;
  /** Live events published while a catch-up read is in flight; `null` when no read is. */
  held: EventRow[] | null;
  heldOverflow: boolean;
  /** The run row read terminal after the log looked exhausted: the next exhaustion ends it. */
  rowTerminal: RunStatus | null;
  caughtUpSent: boolean;
  terminalStatus: string | null;
  terminalCursor: number;
  removed: boolean;
}

interface FeedFrame {
  row: PublishedEvent;
  run: RunRow;
}

interface FeedSub {
  kind: "runs";
  conn: Conn;
  sub: string;
  /** The `workflow` filter (a slug), or `null` for every workflow. */
  workflowSlug: string | null;
  /** Its id, once looked up. */
  workflowId: string | null;
  /** Frames dropped (backpressure, an unreadable run): a resync snapshot is due. */
  stale: boolean;
  /** Frames held while a snapshot is being read; `null` when none is. */
  held: FeedFrame[] | null;
  /** A frame was lost while the snapshot was read: resync after it. */
  lostWhileHeld: boolean;
  /** Earliest time (epoch ms) of the next resync attempt after a failed one. */
  retryAt: number;
  /** The last snapshot attempt failed (logged once until one succeeds). */
  failing: boolean;
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
  /** Protocol ping interval, ms (30 000 in production). */
  heartbeatMs: number;
  /** Slow-consumer window, ms; default 60 000. */
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

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
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

  /** The single engine listener's hook: route one committed event to run subscriptions. */
  onEvent(row: EventRow): void {
    const subs = this.byRun.get(row.runId);
    if (subs === undefined) return;
    let eventJson: string | undefined;
    for (const sub of subs) {
      if (sub.mode !== "live") {
        // A read in flight may or may not contain it: hold it, merge by cursor after the read.
        // Otherwise the next read will (it is committed).
        if (sub.held !== null) {
          if (sub.held.length < HELD_EVENTS_MAX) sub.held.push(row);
          else sub.heldOverflow = true;
        }
        continue;
      }
      eventJson ??= JSON.stringify(row.event);
      this.liveEvent(sub, row, eventJson);
    }
  }

  /**
   * The feeds a lifecycle event goes to (routed by its workflow slug, no read), or `null` when
   * none wants it. Decided when the event is published: a feed registered later gets the change
   * through its snapshot instead.
   */
  feedTargets(row: PublishedEvent): FeedSub[] | null {
    let targets: FeedSub[] | null = null;
    for (const feed of this.feeds) {
      if (feed.workflowSlug !== null && feed.workflowSlug !== row.workflowSlug) continue;
      (targets ??= []).push(feed);
    }
    return targets;
  }

  /**
   * Send one lifecycle change to the feeds chosen by {@link WsChannel.feedTargets}, with the run
   * as read after it (`null`: it could not be read — those feeds resync). Called in event order.
   */
  feedEvent(row: PublishedEvent, run: RunRow | null, targets: readonly FeedSub[]): void {
    for (const feed of targets) {
      if (feed.removed) continue;
      if (run === null) {
        if (feed.held !== null) feed.lostWhileHeld = true;
        else this.markStale(feed);
        continue;
      }
      if (feed.held !== null) {
        feed.held.push({ row, run });
        continue;
      }
      this.sendFeedFrame(feed, row, run);
    }
  }

  private sendFeedFrame(feed: FeedSub, row: PublishedEvent, run: RunRow): void {
    if (feed.stale) return;
    if (feed.conn.ws.bufferedAmount >= WS_HIGH_WATER) {
      this.deps.metrics.wsBackpressurePauses += 1;
      this.markStale(feed);
      return;
    }
    const frame = JSON.stringify({
      runId: row.runId,
      cursor: row.cursor,
      event: row.event,
      run: projectRun(run, row.workflowSlug),
    }).slice(1);
    this.sendRaw(feed.conn, "run", `{"type":"run","sub":${JSON.stringify(feed.sub)},${frame}`);
  }

  private markStale(feed: FeedSub): void {
    feed.stale = true;
    this.schedule(feed.conn);
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
      this.sendFailure(conn, sub, err, "websocket message failed");
    }
  }

  /** The `error` frame for a failed request; unexpected failures are logged, never detailed. */
  private sendFailure(conn: Conn, sub: string | undefined, err: unknown, context: string): void {
    let code = "INTERNAL";
    let message = "Internal server error.";
    let hint: string | undefined;
    if (err instanceof ProtocolError) {
      ({ code, message, hint } = err);
    } else if (isEngineError(err) && (err.code === "VALIDATION" || err.code === "NOT_FOUND")) {
      ({ code, message, hint } = err);
    } else {
      this.deps.log(`${context}: ${describe(err)}`);
    }
    const frame: Record<string, unknown> = { type: "error" };
    if (sub !== undefined && SUB_PATTERN.test(sub)) frame["sub"] = sub;
    frame["code"] = code;
    frame["message"] = message;
    if (hint !== undefined) frame["hint"] = hint;
    this.send(conn, frame);
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
    if (!RUN_ID_PATTERN.test(runId)) throw new ProtocolError("NOT_FOUND", `Unknown run: ${runId}`);
    // Registered (and its id taken) while the run is looked up; `opening` ignores live events:
    // the first catch-up read starts after the lookup and sees everything committed before it.
    const rs: RunSub = {
      kind: "run",
      conn,
      sub,
      subJson: JSON.stringify(sub),
      runId,
      channels: new Set(channels),
      delivered: after,
      mode: "opening",
      pumping: false,
      held: null,
      heldOverflow: false,
      rowTerminal: null,
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
    void this.open(rs, after, channels);
  }

  private async open(rs: RunSub, after: number, channels: readonly Channel[]): Promise<void> {
    let run: RunRow | null;
    try {
      run = await this.deps.engine.getRun(rs.runId);
    } catch (err) {
      if (rs.removed) return;
      this.remove(rs);
      this.sendFailure(rs.conn, rs.sub, err, `websocket subscribe to run ${rs.runId} failed`);
      return;
    }
    if (rs.removed) return; // unsubscribed or disconnected meanwhile
    if (run === null) {
      this.remove(rs);
      this.sendFailure(
        rs.conn,
        rs.sub,
        new ProtocolError("NOT_FOUND", `Unknown run: ${rs.runId}`),
        "",
      );
      return;
    }
    this.send(rs.conn, { type: "subscribed", sub: rs.sub, runId: rs.runId, after, channels });
    rs.mode = "catching_up";
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
    if (workflow !== undefined && !SLUG_PATTERN.test(workflow)) {
      throw new ProtocolError(
        "NOT_FOUND",
        `Workflow "${workflow}" is not deployed on this engine.`,
      );
    }
    // Registered at once, holding its frames: every lifecycle change from here on reaches it,
    // after the snapshot; none before it does.
    const feed: FeedSub = {
      kind: "runs",
      conn,
      sub,
      workflowSlug: workflow ?? null,
      workflowId: null,
      stale: false,
      held: [],
      lostWhileHeld: false,
      retryAt: 0,
      failing: false,
      removed: false,
    };
    conn.subs.set(sub, feed);
    this.feeds.add(feed);
    void this.snapshot(feed, false);
  }

  /**
   * Read and send a `runs_snapshot`, then the frames held meanwhile (those the snapshot already
   * covers are skipped; clients also skip any cursor they hold). The feed holds frames from the
   * call until the snapshot is sent. A failed first snapshot removes the feed with an error frame;
   * a failed resync leaves it stale for a later attempt.
   */
  private async snapshot(feed: FeedSub, resync: boolean): Promise<void> {
    feed.held ??= [];
    const engine = this.deps.engine;
    let message: string;
    const covered = new Map<string, number>();
    try {
      if (feed.workflowSlug !== null && feed.workflowId === null) {
        const wf = await engine.getWorkflow(feed.workflowSlug);
        if (wf === null) {
          throw new ProtocolError(
            "NOT_FOUND",
            `Workflow "${feed.workflowSlug}" is not deployed on this engine.`,
          );
        }
        feed.workflowId = wf.id;
      }
      const query = {
        statuses: NON_TERMINAL_STATUSES,
        limit: WS_FEED_SNAPSHOT_MAX + 1,
        ...(feed.workflowId === null ? {} : { workflowId: feed.workflowId }),
      };
      // Cursors are read before the rows they go with: a row read later reflects every status
      // change up to its cursor (a status and its event commit together), so a client that skips
      // frames at or below the cursor never skips a change the row does not show.
      const first = await engine.listRuns(query);
      const cursors = new Map(
        await Promise.all(
          first
            .slice(0, WS_FEED_SNAPSHOT_MAX)
            .map(async (run) => [run.id, await engine.maxCursor(run.id)] as const),
        ),
      );
      const rows = await engine.listRuns(query);
      const listed = rows.slice(0, WS_FEED_SNAPSHOT_MAX);
      const projected =
        feed.workflowSlug === null
          ? await projectRuns(engine, listed)
          : listed.map((run) => projectRun(run, feed.workflowSlug));
      // A run first listed now has no cursor read: 0, so every frame of it applies.
      const runs = listed.map((run, i) => {
        const cursor = cursors.get(run.id) ?? 0;
        covered.set(run.id, cursor);
        return { run: projected[i], cursor };
      });
      message = JSON.stringify({
        type: "runs_snapshot",
        sub: feed.sub,
        resync,
        truncated: rows.length > WS_FEED_SNAPSHOT_MAX,
        runs,
      });
    } catch (err) {
      feed.held = null;
      feed.lostWhileHeld = false;
      if (feed.removed) return;
      if (!resync) {
        this.remove(feed);
        this.sendFailure(feed.conn, feed.sub, err, "websocket feed snapshot failed");
        return;
      }
      if (!feed.failing) this.deps.log(`websocket feed resync failed: ${describe(err)}`);
      feed.failing = true;
      feed.retryAt = Date.now() + FEED_RETRY_MS;
      this.markStale(feed);
      return;
    }
    const held = feed.held ?? [];
    const lost = feed.lostWhileHeld;
    feed.held = null;
    feed.lostWhileHeld = false;
    feed.failing = false;
    if (feed.removed) return;
    this.sendRaw(feed.conn, "runs_snapshot", message);
    for (const { row, run } of held) {
      if (row.cursor <= (covered.get(row.runId) ?? 0)) continue;
      this.sendFeedFrame(feed, row, run);
    }
    if (lost) this.markStale(feed);
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

  /** Start catching a subscription up from the store, unless it is already being caught up. */
  private pump(sub: RunSub): void {
    if (sub.removed || sub.mode !== "catching_up" || sub.pumping) return;
    if (sub.conn.ws.bufferedAmount > WS_LOW_WATER) {
      this.schedule(sub.conn);
      return;
    }
    sub.pumping = true;
    this.catchUp(sub)
      .catch((err: unknown) => this.storeFailure(sub, err))
      .finally(() => {
        sub.pumping = false;
      });
  }

  /**
   * Read stored events after `delivered`, page by page, while the socket has room. When a read
   * comes back short the log is exhausted: switch to live in that same turn, send `caught_up`
   * (once), then the events published while that read was in flight, merged by cursor. If the
   * run turned out terminal without its terminal event having been delivered, read once more
   * and end the subscription.
   */
  private async catchUp(sub: RunSub): Promise<void> {
    const ws = sub.conn.ws;
    const engine = this.deps.engine;
    let pages = 0;
    for (;;) {
      if (sub.removed || sub.mode !== "catching_up") return;
      if (ws.bufferedAmount >= WS_HIGH_WATER) {
        this.schedule(sub.conn);
        return;
      }
      if (pages++ === PAGES_PER_TURN) {
        // A long backlog to a fast client: yield so other sockets and HTTP requests get a turn.
        pages = 0;
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      sub.held = [];
      sub.heldOverflow = false;
      let rows: EventRow[];
      let arrived: EventRow[] = [];
      try {
        rows = await engine.listEvents(sub.runId, { afterCursor: sub.delivered, limit: WS_PAGE });
      } finally {
        arrived = sub.held ?? [];
        sub.held = null;
      }
      if (sub.removed) return;
      let full = false;
      for (const row of rows) {
        if (row.cursor <= sub.delivered) continue;
        // Checked per row, not per page: a page of large rows must not overshoot high water.
        if (ws.bufferedAmount >= WS_HIGH_WATER) {
          full = true;
          break;
        }
        this.deliver(sub, row, undefined);
      }
      if (full) {
        this.schedule(sub.conn);
        return;
      }
      if (rows.length >= WS_PAGE || sub.heldOverflow) continue;
      // Exhausted: live from this turn on, so the next published event reaches us.
      sub.mode = "live";
      if (!sub.caughtUpSent) {
        sub.caughtUpSent = true;
        this.sendRaw(
          sub.conn,
          "caught_up",
          `{"type":"caught_up","sub":${sub.subJson},"runId":"${sub.runId}","cursor":${sub.delivered}}`,
        );
      }
      for (const row of arrived) {
        this.liveEvent(sub, row, undefined);
        if (sub.removed || sub.mode !== "live") break;
      }
      if (sub.removed) return;
      if (sub.mode !== "live") continue; // backpressure while merging: the loop reschedules
      if (sub.terminalStatus !== null) {
        this.sendEnd(sub);
        return;
      }
      if (sub.rowTerminal !== null) {
        // Resumed past the terminal event: end with the run's final state.
        const cursor = await engine.maxCursor(sub.runId);
        if (sub.removed) return;
        sub.terminalStatus = sub.rowTerminal;
        sub.terminalCursor = cursor;
        this.sendEnd(sub);
        return;
      }
      const run = await engine.getRun(sub.runId);
      if (sub.removed || sub.mode !== "live") return;
      if (run === null || !isTerminalStatus(run.status)) return;
      // Terminal, but its terminal event has not reached us: read what is left, then end.
      sub.rowTerminal = run.status;
      sub.mode = "catching_up";
    }
  }

  /** A published event for a live subscription (also the events held across a read). */
  private liveEvent(sub: RunSub, row: EventRow, eventJson: string | undefined): void {
    if (row.cursor <= sub.delivered) return;
    if (sub.conn.ws.bufferedAmount >= WS_HIGH_WATER) {
      // Already committed: the pump re-reads it from the store once the socket drains.
      sub.mode = "catching_up";
      this.deps.metrics.wsBackpressurePauses += 1;
      this.schedule(sub.conn);
      return;
    }
    this.deliver(sub, row, eventJson);
    if (sub.terminalStatus !== null) this.sendEnd(sub);
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
    if (sub.removed) return;
    this.deps.log(`websocket catch-up of run ${sub.runId} failed: ${describe(err)}`);
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
    if (sub.conn.subs.get(sub.sub) === sub) sub.conn.subs.delete(sub.sub);
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
      } else if (sub.stale && sub.held === null) {
        if (conn.ws.bufferedAmount <= WS_LOW_WATER && now >= sub.retryAt) {
          sub.stale = false;
          void this.snapshot(sub, true);
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
    corkForTick(conn.ws, text.length);
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
