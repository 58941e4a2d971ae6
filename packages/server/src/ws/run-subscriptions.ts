/**
 * Per-run subscriptions: channel filters, resume after a cursor, catch-up from the store and the
 * switch to live events. Invariant: every selected stored event after the resume point reaches the
 * subscriber exactly once, in cursor order, across the replay→live seam and backpressure pauses —
 * also when the engine answers reads later than it publishes events: events published while a
 * catch-up read is in flight are held and merged after it by cursor. Live events are routed by the
 * published event's run id; a run row is read only for catch-up. A lagging socket never buffers
 * live events in memory: they are dropped and re-read from the store by the pump, so per-socket
 * memory stays within high water + one page + one frame (plus the events published during one
 * read's round trip, capped).
 */
import { channelOf } from "@promenade/workflow";
import type { Channel } from "@promenade/workflow";
import { WS_HIGH_WATER, WS_LOW_WATER, WS_PAGE } from "../constants.ts";
import { isTerminalStatus } from "../internal/status.ts";
import type { EventRow, RunRow, RunStatus } from "../ports.ts";
import { detach, sendFrame, sendText } from "./connections.ts";
import type { Conn, SubscriptionContext } from "./connections.ts";
import { describe } from "../internal/error-text.ts";
import { RUN_ID_PATTERN } from "../internal/ids.ts";
import { failureFrame, ProtocolError } from "./protocol.ts";

/** Catch-up pages read in one pump turn before yielding to the event loop. */
const PAGES_PER_TURN = 16;
/**
 * Live events held per subscription while one catch-up read is in flight. Past it the held
 * events are dropped and the pump reads again (they are committed, so the store has them).
 */
const HELD_EVENTS_MAX = 4 * WS_PAGE;

export interface RunSub {
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

/** Every run subscription of the channel, by run id. */
export class RunSubscriptions {
  private readonly ctx: SubscriptionContext;
  private readonly byRun = new Map<string, Set<RunSub>>();

  constructor(ctx: SubscriptionContext) {
    this.ctx = ctx;
  }

  get count(): number {
    let run = 0;
    for (const subs of this.byRun.values()) run += subs.size;
    return run;
  }

  /** Registers a subscription (capacity already checked) and opens it. */
  subscribe(
    conn: Conn,
    request: { sub: string; runId: string; after: number; channels: readonly Channel[] },
  ): void {
    const { sub, runId, after, channels } = request;
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

  /** The lagging-socket pass for one subscription; `true` while it is still behind. */
  service(sub: RunSub): boolean {
    if (sub.mode === "catching_up") this.pump(sub);
    return !sub.removed && sub.mode === "catching_up";
  }

  remove(sub: RunSub): void {
    if (!detach(sub)) return;
    const set = this.byRun.get(sub.runId);
    if (set !== undefined) {
      set.delete(sub);
      if (set.size === 0) this.byRun.delete(sub.runId);
    }
  }

  private async open(rs: RunSub, after: number, channels: readonly Channel[]): Promise<void> {
    let run: RunRow | null;
    try {
      run = await this.ctx.engine.getRun(rs.runId);
    } catch (err) {
      if (rs.removed) return;
      this.remove(rs);
      this.fail(rs, err, `websocket subscribe to run ${rs.runId} failed`);
      return;
    }
    if (rs.removed) return; // unsubscribed or disconnected meanwhile
    if (run === null) {
      this.remove(rs);
      this.fail(rs, new ProtocolError("NOT_FOUND", `Unknown run: ${rs.runId}`), "");
      return;
    }
    sendFrame(rs.conn, this.ctx.metrics, {
      type: "subscribed",
      sub: rs.sub,
      runId: rs.runId,
      after,
      channels,
    });
    rs.mode = "catching_up";
    this.pump(rs);
  }

  private fail(rs: RunSub, err: unknown, context: string): void {
    sendFrame(rs.conn, this.ctx.metrics, failureFrame(rs.sub, err, this.ctx.log, context));
  }

  /** Start catching a subscription up from the store, unless it is already being caught up. */
  private pump(sub: RunSub): void {
    if (sub.removed || sub.mode !== "catching_up" || sub.pumping) return;
    if (sub.conn.ws.bufferedAmount > WS_LOW_WATER) {
      this.ctx.schedule(sub.conn);
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
    const engine = this.ctx.engine;
    let pages = 0;
    for (;;) {
      if (sub.removed || sub.mode !== "catching_up") return;
      if (ws.bufferedAmount >= WS_HIGH_WATER) {
        this.ctx.schedule(sub.conn);
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
        this.ctx.schedule(sub.conn);
        return;
      }
      if (rows.length >= WS_PAGE || sub.heldOverflow) continue;
      // Exhausted: live from this turn on, so the next published event reaches us.
      sub.mode = "live";
      if (!sub.caughtUpSent) {
        sub.caughtUpSent = true;
        sendText(
          sub.conn,
          this.ctx.metrics,
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
      this.ctx.metrics.wsBackpressurePauses += 1;
      this.ctx.schedule(sub.conn);
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
      sendText(
        sub.conn,
        this.ctx.metrics,
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
    sendFrame(sub.conn, this.ctx.metrics, {
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
    this.ctx.log(`websocket catch-up of run ${sub.runId} failed: ${describe(err)}`);
    this.remove(sub);
    sendFrame(sub.conn, this.ctx.metrics, {
      type: "error",
      sub: sub.sub,
      code: "INTERNAL",
      message: "Internal server error.",
    });
  }
}
