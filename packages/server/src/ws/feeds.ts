/**
 * The all-runs lifecycle feeds (`subscribe_runs`, optionally filtered by workflow): a
 * `runs_snapshot` of the non-terminal runs, then one frame per lifecycle change carrying the run
 * as read after it. Routed by the published event's workflow slug, no read; a feed that lost
 * frames (backpressure, an unreadable run) is marked stale and resynced with a fresh snapshot.
 */
import { WS_FEED_SNAPSHOT_MAX, WS_HIGH_WATER, WS_LOW_WATER } from "../constants.ts";
import { NON_TERMINAL_STATUSES } from "../internal/status.ts";
import type { PublishedEvent, RunRow } from "../ports.ts";
import { projectRun, projectRuns } from "../project.ts";
import { detach, sendFrame, sendText } from "./connections.ts";
import type { Conn, SubscriptionContext } from "./connections.ts";
import { describe } from "../internal/error-text.ts";
import { SLUG_PATTERN } from "../internal/ids.ts";
import { failureFrame, ProtocolError } from "./protocol.ts";

/** A feed whose snapshot read failed waits this long before the next attempt, ms. */
const FEED_RETRY_MS = 1000;

interface FeedFrame {
  row: PublishedEvent;
  run: RunRow;
}

export interface FeedSub {
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

/** Every lifecycle feed of the channel. */
export class Feeds {
  private readonly ctx: SubscriptionContext;
  private readonly feeds = new Set<FeedSub>();

  constructor(ctx: SubscriptionContext) {
    this.ctx = ctx;
  }

  get count(): number {
    return this.feeds.size;
  }

  /** Registers a feed (capacity already checked) and sends its snapshot. */
  subscribe(conn: Conn, request: { sub: string; workflow: string | undefined }): void {
    const { sub, workflow } = request;
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
   * The feeds a lifecycle event goes to (routed by its workflow slug, no read), or `null` when
   * none wants it. Decided when the event is published: a feed registered later gets the change
   * through its snapshot instead.
   */
  targets(row: PublishedEvent): FeedSub[] | null {
    let targets: FeedSub[] | null = null;
    for (const feed of this.feeds) {
      if (feed.workflowSlug !== null && feed.workflowSlug !== row.workflowSlug) continue;
      (targets ??= []).push(feed);
    }
    return targets;
  }

  /**
   * Send one lifecycle change to the feeds chosen by {@link Feeds.targets}, with the run as read
   * after it (`null`: it could not be read — those feeds resync). Called in event order.
   */
  event(row: PublishedEvent, run: RunRow | null, targets: readonly FeedSub[]): void {
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

  /** The lagging-socket pass for one feed; `true` while it is still behind. */
  service(feed: FeedSub, now: number): boolean {
    if (!feed.stale || feed.held !== null) return false;
    if (feed.conn.ws.bufferedAmount <= WS_LOW_WATER && now >= feed.retryAt) {
      feed.stale = false;
      void this.snapshot(feed, true);
      return false;
    }
    return true;
  }

  remove(feed: FeedSub): void {
    if (detach(feed)) this.feeds.delete(feed);
  }

  private sendFeedFrame(feed: FeedSub, row: PublishedEvent, run: RunRow): void {
    if (feed.stale) return;
    if (feed.conn.ws.bufferedAmount >= WS_HIGH_WATER) {
      this.ctx.metrics.wsBackpressurePauses += 1;
      this.markStale(feed);
      return;
    }
    const frame = JSON.stringify({
      runId: row.runId,
      cursor: row.cursor,
      event: row.event,
      run: projectRun(run, row.workflowSlug),
    }).slice(1);
    sendText(
      feed.conn,
      this.ctx.metrics,
      "run",
      `{"type":"run","sub":${JSON.stringify(feed.sub)},${frame}`,
    );
  }

  private markStale(feed: FeedSub): void {
    feed.stale = true;
    this.ctx.schedule(feed.conn);
  }

  /**
   * Read and send a `runs_snapshot`, then the frames held meanwhile (those the snapshot already
   * covers are skipped; clients also skip any cursor they hold). The feed holds frames from the
   * call until the snapshot is sent. A failed first snapshot removes the feed with an error frame;
   * a failed resync leaves it stale for a later attempt.
   */
  private async snapshot(feed: FeedSub, resync: boolean): Promise<void> {
    feed.held ??= [];
    const engine = this.ctx.engine;
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
        sendFrame(
          feed.conn,
          this.ctx.metrics,
          failureFrame(feed.sub, err, this.ctx.log, "websocket feed snapshot failed"),
        );
        return;
      }
      if (!feed.failing) this.ctx.log(`websocket feed resync failed: ${describe(err)}`);
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
    sendText(feed.conn, this.ctx.metrics, "runs_snapshot", message);
    for (const { row, run } of held) {
      if (row.cursor <= (covered.get(row.runId) ?? 0)) continue;
      this.sendFeedFrame(feed, row, run);
    }
    if (lost) this.markStale(feed);
  }
}
