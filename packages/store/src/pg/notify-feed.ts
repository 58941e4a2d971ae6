/**
 * The feed across processes: a store opened with `listen` also hands its subscribers the events
 * that other processes (the other nodes of a cluster) commit to the same database. Each of their
 * event-appending statements notifies channel `promenade_events` at commit with the run, its
 * cursor range and the writer's origin (a trigger does it, see the migrations); this feed LISTENs
 * on its own session-mode connection, re-reads the announced rows from the table and delivers
 * them. A poll every few seconds compares each live run's highest cursor with what was delivered,
 * so a notification missed while the connection was down (or a writer that died between commit
 * and notify) is caught up too.
 *
 * Invariants, per run: events reach the subscribers in strictly increasing cursor order, each
 * exactly once, whether this store wrote them or another process did; a batch this store commits
 * while a catch-up read of the same run is in flight waits behind it. Events committed before the
 * store opened are not replayed. The feed never writes.
 */
import pg from "pg";
import { isTerminal, RUN_STATUSES, TERMINAL_STATUSES } from "@promenade/workflow/records";
import type { EventRow, PublishedEvent } from "../types.ts";
import type { RunEvent } from "../internal/sdk.ts";
import { INT8_AS_NUMBER } from "./statements.ts";

/** The channel the event trigger notifies. */
export const EVENTS_CHANNEL = "promenade_events";
/** The channel on which a run's holder is told that another node asked something of it. */
export const SIGNALS_CHANNEL = "promenade_signals";
/** Rows read per catch-up query. */
const PAGE = 1_000;
/**
 * How far back, in ms, a poll also looks at runs created by others (their creation stamps come
 * from other machines' clocks): a run created and finished while notifications were missed is
 * still found within this skew.
 */
const CREATED_WINDOW_MS = 60_000;
/** Pause before connecting again after the listening connection was lost, ms. */
const RECONNECT_MS = 500;

const TERMINAL: readonly string[] = TERMINAL_STATUSES;
/** The statuses of runs that may still get events (the poll reads them through their index). */
const LIVE = RUN_STATUSES.filter((status) => !isTerminal(status));

/** A run's workflow id and slug. */
export interface FeedRoute {
  workflowId: string;
  workflowSlug: string;
}

/** What the feed needs from its store. */
export interface NotifyFeedOptions {
  /** Connection string of the listening session (a direct, session-mode connection). */
  url: string;
  connectTimeoutMs: number;
  /** The store's pool, for catch-up reads and polls. */
  pool: pg.Pool;
  /** This store's origin: notifications carrying it are its own writes, delivered locally. */
  origin: string;
  /** The run's workflow id and slug, or `null` for a run that no longer exists. */
  route: (runId: string) => Promise<FeedRoute | null>;
  /** Hands events to the subscribers, in the order given. */
  emit: (rows: readonly PublishedEvent[]) => void;
  /** Called with the run id of each notification on the signals channel. */
  signal: (runId: string) => void;
  /** Ms between polls. */
  pollMs: number;
  /** Epoch ms (the window of runs created by others is taken from it). */
  now: () => number;
  /** Reports trouble (lost connection, failed reads), once per episode. */
  log: (line: string) => void;
}

interface RunState {
  /** Highest cursor delivered. */
  delivered: number;
  /** Highest cursor announced by another process (or found by a poll). */
  wanted: number;
  /** A catch-up read is running. */
  busy: boolean;
  /** This store's own batches that arrived during a catch-up, in commit order. */
  waiting: PublishedEvent[][];
  /** The run ended (a terminal status was delivered or read). */
  ended: boolean;
  /** The run's creation instant, once a poll has seen it (ends its state's life). */
  createdAt: number | null;
}

interface PollRow {
  id: string;
  status: string;
  created_at: number;
  high: number;
}

const POLL = `SELECT r.id, r.status, r.created_at,
    COALESCE((SELECT max(e.cursor) FROM run_events e WHERE e.run_id = r.id), 0) AS high
  FROM runs r
  WHERE r.status = ANY($1::text[]) OR r.created_at > $2 OR r.id = ANY($3::text[])`;

const READ = `SELECT cursor, event FROM run_events WHERE run_id = $1 AND cursor > $2
  ORDER BY cursor LIMIT ${String(PAGE)}`;

/** The cross-process half of a listening store's feed. */
export class NotifyFeed {
  readonly #o: NotifyFeedOptions;
  readonly #runs = new Map<string, RunState>();
  #client: pg.Client | null = null;
  #closed = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | null = null;
  /** Start of the last successful poll (the next one looks at runs created since, minus skew). */
  #polledAt: number;
  #troubled = false;

  constructor(options: NotifyFeedOptions) {
    this.#o = options;
    this.#polledAt = options.now();
  }

  /**
   * Listens, then records where every run the database holds now stands (nothing before that is
   * delivered). Rejects when the database cannot be reached.
   */
  async start(): Promise<void> {
    await this.#listen();
    await this.#poll(true);
    this.#schedulePoll();
  }

  /** Delivers a batch this store committed (one or more runs, each in cursor order). */
  local(rows: readonly PublishedEvent[]): void {
    let start = 0;
    for (let i = 1; i <= rows.length; i++) {
      if (i === rows.length || rows[i]!.runId !== rows[start]!.runId) {
        this.#localRun(rows.slice(start, i));
        start = i;
      }
    }
  }

  /** Stops listening and polling. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    this.#client = null;
    if (client !== null) await client.end().catch(() => undefined);
    await this.#polling?.catch(() => undefined);
  }

  /** Runs whose state the feed keeps (for tests and metrics). */
  get trackedRuns(): number {
    return this.#runs.size;
  }

  #localRun(rows: PublishedEvent[]): void {
    const first = rows[0];
    if (first === undefined) return;
    let state = this.#runs.get(first.runId);
    if (state === undefined) {
      state = newState(first.cursor - 1);
      this.#runs.set(first.runId, state);
    }
    if (state.busy) {
      state.waiting.push(rows);
      return;
    }
    this.#deliver(state, rows);
  }

  #deliver(state: RunState, rows: readonly PublishedEvent[]): void {
    const fresh = rows.filter((row) => row.cursor > state.delivered);
    if (fresh.length === 0) return;
    state.delivered = fresh.at(-1)!.cursor;
    if (state.wanted < state.delivered) state.wanted = state.delivered;
    for (const row of fresh) {
      if (row.event.kind === "run_status" && isTerminal(row.event.status)) {
        state.ended = true;
      }
    }
    this.#o.emit(fresh);
  }

  /** A notification: `<run id>:<low>:<high>:<origin>`. */
  #notified(payload: string): void {
    const parts = payload.split(":");
    if (parts.length < 4) return;
    const [runId, lowText, highText] = parts as [string, string, string];
    const origin = parts.slice(3).join(":");
    if (origin === this.#o.origin) return;
    const low = Number(lowText);
    const high = Number(highText);
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) return;
    this.#want(runId, low - 1, high);
  }

  /** Events up to `high` exist for `runId`; deliver from `floor` when the run is new here. */
  #want(runId: string, floor: number, high: number): void {
    let state = this.#runs.get(runId);
    if (state === undefined) {
      state = newState(floor);
      this.#runs.set(runId, state);
    }
    if (high <= state.delivered) return;
    if (high > state.wanted) state.wanted = high;
    if (!state.busy) void this.#catchUp(runId, state);
  }

  async #catchUp(runId: string, state: RunState): Promise<void> {
    state.busy = true;
    try {
      const route = await this.#o.route(runId);
      while (route !== null && !this.#closed && state.wanted > state.delivered) {
        const { rows } = await this.#o.pool.query<{ cursor: number; event: string }>({
          text: READ,
          values: [runId, state.delivered],
          types: INT8_AS_NUMBER,
        });
        if (rows.length === 0) break;
        this.#deliver(
          state,
          rows.map((row) => published(runId, route, row.cursor, JSON.parse(row.event) as RunEvent)),
        );
        if (rows.length < PAGE && state.wanted <= state.delivered) break;
      }
    } catch (error) {
      // The next poll finds what is still missing.
      this.#trouble(`reading events of run ${runId} failed: ${messageOf(error)}`);
    } finally {
      state.busy = false;
      const waiting = state.waiting.splice(0);
      for (const rows of waiting) this.#deliver(state, rows);
    }
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#o.url,
      connectionTimeoutMillis: this.#o.connectTimeoutMs,
      keepAlive: true,
      application_name: "promenade (event feed)",
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}; LISTEN ${SIGNALS_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    client.on("notification", (message) => {
      if (message.payload === undefined) return;
      if (message.channel === EVENTS_CHANNEL) this.#notified(message.payload);
      else if (message.channel === SIGNALS_CHANNEL) this.#o.signal(message.payload);
    });
    const lost = (): void => {
      if (this.#client !== client) return;
      this.#client = null;
      void client.end().catch(() => undefined);
      this.#trouble("the event feed's connection to PostgreSQL was lost; reconnecting");
      this.#scheduleReconnect();
    };
    client.on("error", lost);
    client.on("end", lost);
    this.#client = client;
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#listen().then(
        // What was committed while nobody listened is found by comparing cursors.
        () => this.#pollNow(),
        () => this.#scheduleReconnect(),
      );
    }, RECONNECT_MS);
    this.#reconnectTimer.unref();
  }

  #schedulePoll(): void {
    if (this.#closed) return;
    this.#pollTimer = setTimeout(() => {
      this.#pollNow();
      this.#schedulePoll();
    }, this.#o.pollMs);
    this.#pollTimer.unref();
  }

  #pollNow(): void {
    if (this.#closed || this.#polling !== null) return;
    this.#polling = this.#poll(false)
      .catch((error: unknown) => {
        this.#trouble(`polling for events failed: ${messageOf(error)}`);
      })
      .finally(() => {
        this.#polling = null;
      });
  }

  /**
   * Compares each live (or recently created, or tracked) run's highest cursor with what was
   * delivered and catches up the difference. The first poll only records where runs stand.
   */
  async #poll(first: boolean): Promise<void> {
    const startedAt = this.#o.now();
    const since = first ? startedAt : this.#polledAt;
    const tracked = [...this.#runs.keys()];
    const { rows } = await this.#o.pool.query<PollRow>({
      text: POLL,
      values: [LIVE, since - CREATED_WINDOW_MS, tracked],
      types: INT8_AS_NUMBER,
    });
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      let state = this.#runs.get(row.id);
      if (state === undefined) {
        // Known before this store opened: start after what it holds now. Otherwise the run
        // was created since and every one of its events is new here.
        state = newState(first ? row.high : 0);
        this.#runs.set(row.id, state);
      }
      state.createdAt = row.created_at;
      if (TERMINAL.includes(row.status)) state.ended = true;
      if (row.high > state.delivered) this.#want(row.id, state.delivered, row.high);
    }
    // A run's state is dropped once it ended, everything was delivered and no later poll can
    // find it by its creation time; a run deleted meanwhile is dropped too.
    const horizon = since - CREATED_WINDOW_MS;
    for (const [runId, state] of this.#runs) {
      if (state.busy) continue;
      const gone = !seen.has(runId) && tracked.includes(runId);
      const done =
        state.ended &&
        state.createdAt !== null &&
        state.createdAt <= horizon &&
        state.wanted <= state.delivered;
      if (gone || done) this.#runs.delete(runId);
    }
    this.#polledAt = startedAt;
    if (this.#troubled && this.#client !== null) {
      this.#troubled = false;
      this.#o.log("the event feed is caught up again");
    }
  }

  #trouble(line: string): void {
    if (this.#troubled) return;
    this.#troubled = true;
    this.#o.log(line);
  }
}

function newState(delivered: number): RunState {
  return {
    delivered,
    wanted: delivered,
    busy: false,
    waiting: [],
    ended: false,
    createdAt: null,
  };
}

function published(
  runId: string,
  route: FeedRoute,
  cursor: number,
  event: RunEvent,
): PublishedEvent {
  const row: EventRow = { runId, cursor, event };
  return { ...row, workflowId: route.workflowId, workflowSlug: route.workflowSlug };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
