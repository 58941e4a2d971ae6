/**
 * The PostgreSQL implementation of `AsyncStore` (drizzle-orm's pg dialect over a `pg` connection
 * pool; opened by `./open.ts`). Same contract as the SQLite store: same validation, error codes, size
 * limits, paging order and event feed; every method returns a promise.
 *
 * Invariants: arguments are validated before any SQL runs; every multi-row invariant is one
 * transaction; a batch of events is one multi-row INSERT; cursors are unique per run (the
 * primary key refuses a duplicate with `CONFLICT`); writes to one run from this store are
 * serialized, and their events are published to `subscribe` listeners right after their COMMIT
 * resolves, per run in cursor order. A lost or unreachable server makes calls fail with
 * `INTERNAL` while it lasts; the pool reconnects by itself when the server answers again.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type pg from "pg";
import { and, asc, eq, inArray, isNull, max, sql } from "drizzle-orm";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import { TURN_CURSOR_STRIDE } from "@promenade/workflow";
import { isTerminal } from "@promenade/workflow/records";
import { toArtifactRow, toEventRow, toRunRow, toWorkflowRow } from "../internal/rows.ts";
import { createUlidFactory } from "../internal/ulid.ts";
import type {
  ArtifactRow,
  AsyncStore,
  CreateArtifactArgs,
  CreateInputRequestArgs,
  CreateRunArgs,
  EventAppend,
  EventListener,
  EventRow,
  FireCronArgs,
  HumanInputRequestRow,
  InputRequestSettlement,
  ListEventsOptions,
  ListInputRequestsFilter,
  ListRunsFilter,
  ListWorkflowsOptions,
  PruneRunsArgs,
  PruneRunsResult,
  PruneVersionsArgs,
  PruneVersionsResult,
  PublishedEvent,
  RequestKey,
  RunRow,
  RunUsage,
  RunUsageDelta,
  StatusChange,
  UpsertWorkflowArgs,
  WebhookDelivery,
  WorkflowRow,
  WorkflowVersionRow,
  WorkflowVersionSummary,
} from "../types.ts";
import { describe, requireInteger, requireString } from "../internal/args.ts";
import { readRequestKey, requestKeyConflict } from "../internal/request-keys.ts";
import { deliveryConflict, readDelivery, type DeliveryHolder } from "../internal/deliveries.ts";
import {
  prepareEvents,
  readArtifact,
  readCreateRun,
  readFireCron,
  readListEvents,
  readListRuns,
  readStatusChange,
  readUpsertWorkflow,
  readUsage,
  requireKey,
  statusEvent,
  type Limits,
  type PreparedEvent,
} from "./args.ts";
import { connectionFailure, type PgTarget } from "./connect.ts";
import { PgInputRequests } from "./input-requests.ts";
import type { JsonValue } from "../internal/sdk.ts";
import { pruneBatch } from "./retention.ts";
import { listEventsStatement, listRunsStatement, runAnchorStatement } from "./listings.ts";
import { readPruneArgs, readPruneVersionsArgs } from "../internal/prune.ts";
import type { EngineLock } from "./lock.ts";
import { NotifyFeed, SIGNALS_CHANNEL } from "./notify-feed.ts";
import {
  checkFence,
  claimQueued,
  leaseLost,
  claimRun,
  heartbeat,
  releaseLeases,
  requestCancel,
  setDraining,
  takeOverExpired,
  type Fence,
  type HeldRun,
} from "./cluster.ts";
import { constraintOf, driverError, eventWriteError } from "./errors.ts";
import {
  claimRequestKeyStatement,
  requestKeyBindingStatement,
  sweepRequestKeysStatement,
} from "./request-keys.ts";
import {
  claimDeliveryStatement,
  deliveryHolderStatement,
  sweepDeliveriesStatement,
} from "./deliveries.ts";
import {
  commitStatusStatement,
  createRunDiagnosis,
  createRunStatement,
  fireCronStatement,
  insertEventsStatement,
  INT8_AS_NUMBER,
  runByKeyStatement,
  type QueuedRun,
  type RunRecord,
  type Statement,
} from "./statements.ts";
import { artifacts, cronFires, runEvents, runs, workflows } from "./schema.ts";
import {
  contentHash,
  toVersionRow,
  toVersionSummary,
  unknownVersion,
  type RawVersion,
} from "../internal/versions.ts";
import {
  currentVersionStatement,
  getVersionStatement,
  insertVersionStatement,
  listVersionsStatement,
  pruneVersionsBatch,
  upsertWorkflowStatement,
  versionLookupStatement,
} from "./versions.ts";

/** The PostgreSQL store: {@link AsyncStore} with every method returning a promise. */
export interface PgStore extends AsyncStore {
  getWorkflow(slug: string): Promise<WorkflowRow | null>;
  getWorkflowById(id: string): Promise<WorkflowRow | null>;
  listWorkflows(options?: ListWorkflowsOptions): Promise<WorkflowRow[]>;
  undeployWorkflow(slug: string): Promise<WorkflowRow | null>;
  getRun(id: string): Promise<RunRow | null>;
  listRuns(filter?: ListRunsFilter): Promise<RunRow[]>;
  listEvents(runId: string, options?: ListEventsOptions): Promise<EventRow[]>;
  maxCursor(runId: string): Promise<number>;
  listArtifacts(runId: string): Promise<ArtifactRow[]>;
  upsertWorkflow(args: UpsertWorkflowArgs): Promise<WorkflowRow>;
  createRun(args: CreateRunArgs): Promise<{ run: RunRow; created: boolean }>;
  fireCron(args: FireCronArgs): Promise<RunRow | null>;
  commitStatus(runId: string, change: StatusChange): Promise<RunRow | null>;
  incrementRestarts(id: string): Promise<number>;
  addActiveMs(id: string, ms: number): Promise<number>;
  scheduleRetry(id: string, at: number): Promise<number>;
  clearRetry(id: string): Promise<void>;
  addRunUsage(id: string, usage: RunUsageDelta): Promise<RunUsage>;
  getRunUsage(id: string): Promise<RunUsage>;
  appendEvents(runId: string, rows: readonly EventAppend[]): Promise<void>;
  lastCronFire(workflowId: string, triggerIndex: number): Promise<number | null>;
  createArtifact(args: CreateArtifactArgs): Promise<ArtifactRow>;
  getInputRequest(runId: string, key: string): Promise<HumanInputRequestRow | null>;
  listInputRequests(filter?: ListInputRequestsFilter): Promise<HumanInputRequestRow[]>;
  createInputRequest(
    runId: string,
    args: CreateInputRequestArgs,
  ): Promise<{ request: HumanInputRequestRow; created: boolean }>;
  settleInputRequest(
    runId: string,
    key: string,
    settlement: InputRequestSettlement,
  ): Promise<HumanInputRequestRow | null>;
  pruneRuns(args: PruneRunsArgs): Promise<PruneRunsResult>;
  pruneVersions(args: PruneVersionsArgs): Promise<PruneVersionsResult>;
  ping(): Promise<void>;
  subscribe(listener: EventListener): () => void;
  /**
   * The holder's half of an answer another node stored: writes the request's
   * `human_input_resolved` event (after `pending`, at `stamp` or a fresh block) and clears its
   * unannounced mark; `null` (nothing written) when it has no unannounced answer.
   */
  announceInputAnswer(
    runId: string,
    key: string,
    options?: { pending?: readonly EventAppend[]; stamp?: { cursor: number; seq: number } },
  ): Promise<HumanInputRequestRow | null>;
  /** The cluster side of the store; `null` unless it was opened with `cluster`. */
  readonly cluster: ClusterStore | null;
  /**
   * Ends the pool and gives up the one-engine lock. Idempotent; every later call rejects with
   * `INTERNAL` ("closed").
   */
  close(): Promise<void>;
}

/**
 * What a cluster node does with the shared `runs` queue (see `./cluster.ts`). Every run it
 * claims, takes over or restarts is held under a fence (node id + epoch): from then on every write
 * of this store for that run checks the fence in its own transaction and fails with a
 * lease-lost `CONFLICT` (see `isLeaseLost`) once another node took the run over or the lease
 * expired. {@link ClusterStore.forget} drops the fence of a run the node no longer executes.
 */
export interface ClusterStore {
  /** This node's id. */
  readonly nodeId: string;
  /** The lease length in ms. */
  readonly leaseMs: number;
  /** Claims up to `limit` unheld queued runs, oldest first, through the concurrency gate. */
  claimQueued(limit: number): Promise<HeldRun[]>;
  /** Claims one run nobody holds (queued, or active with an expired lease); `null` otherwise. */
  claimRun(runId: string): Promise<HeldRun | null>;
  /**
   * Takes over runs whose lease expired (and active runs nobody holds); `mine` adds the runs
   * recorded under this node's id (a restart of a node with a fixed id). Runs in `skip` (still
   * being wound down here) are left alone.
   */
  takeOverExpired(limit: number, mine: boolean, skip?: readonly string[]): Promise<HeldRun[]>;
  /**
   * Extends the leases of every held run; answers the runs still held (with their status) and
   * the ids of the runs lost (every further write of this store for them is refused until
   * {@link ClusterStore.forget}).
   */
  heartbeat(): Promise<{ held: HeldRun[]; lost: string[] }>;
  /** Ends the leases of these held runs (default: all) now; their writes are refused after. */
  release(runIds?: readonly string[]): Promise<number>;
  /**
   * Drops what this node knows of a run it no longer executes (it ended, or its lost process is
   * gone): after this, its writes for the run are no longer refused up front.
   */
  forget(runId: string): void;
  /** The runs this node holds, with their epochs. */
  held(): ReadonlyMap<string, number>;
  /**
   * Records a cancel request for a run another node holds (and tells the nodes on the signals
   * channel); `false` when it is terminal.
   */
  requestCancel(runId: string): Promise<boolean>;
  /**
   * Stores an answer taken by this node for a run it does not execute: the request is resolved
   * (first answer wins; `null` when none is pending) and marked unannounced, and the nodes are
   * told on the signals channel; the run's holder writes its `human_input_resolved` event with
   * {@link PgStore.announceInputAnswer}.
   */
  answerRemotely(
    runId: string,
    key: string,
    answer: { response: JsonValue; respondedBy: string | null },
  ): Promise<HumanInputRequestRow | null>;
  /** Answers stored by other nodes for these runs whose events are not written yet. */
  unannouncedAnswers(runIds: readonly string[]): Promise<{ runId: string; key: string }[]>;
  /**
   * Calls `listener(runId)` when another node asked something of a run (a cancel, an answer):
   * its holder should look. Returns the unsubscribe function.
   */
  onSignal(listener: (runId: string) => void): () => void;
  /** Marks this node draining in `cluster_nodes`. */
  setDraining(draining: boolean): Promise<void>;
}

/** Rows per INSERT statement: 4 parameters each, well under PostgreSQL's 65,535. */
const INSERT_CHUNK = 10_000;
/** Cached run → workflow routes of the feed before the cache is emptied. */
const MAX_ROUTES = 10_000;

/** The store's validated options. */
export interface Settings extends Limits {
  url: string;
  target: PgTarget;
  now: () => number;
  maxConnections: number;
  connectTimeoutMs: number;
  onListenerError: ((error: unknown, row: PublishedEvent) => void) | undefined;
  /**
   * Also deliver the events other processes commit to the database, and tag this store's own
   * writes with `origin` so they can tell them apart (see `./notify-feed.ts`).
   */
  listen: { origin: string; pollMs: number; log: (line: string) => void } | null;
  /** Cluster mode: this node's id and lease length; `null` outside a cluster. */
  cluster: { nodeId: string; leaseMs: number } | null;
}

type Db = NodePgDatabase;
type RawWorkflow = typeof workflows.$inferSelect;
type Route = { workflowId: string; workflowSlug: string };

/** Full version rows kept in memory (the versions current runs execute). */
const CACHED_VERSIONS = 32;

/** Rolls back a keyed run whose request key is still bound (caught by `createRun`). */
class KeyBound extends Error {}

/** The store on an open, migrated pool (built by `openPgStore`). */
export class PgStoreImpl implements PgStore {
  readonly #pool: pg.Pool;
  readonly #poolDb: Db;
  /** The connection of the fenced transaction the current call runs in, if any. */
  readonly #scope = new AsyncLocalStorage<pg.PoolClient>();
  /** Runs this node holds in a cluster: run id → epoch of the hold. */
  readonly #fences = new Map<string, number>();
  /**
   * Runs this node held and lost (or released), until it forgets them: every write for them is
   * refused at once, without asking the database.
   */
  readonly #revoked = new Map<string, number>();
  readonly cluster: ClusterStore | null;
  readonly #settings: Settings;
  readonly #newId: () => string;
  #closed = false;
  readonly #listeners = new Set<EventListener>();
  /** Listeners of the signals channel (a cluster node's holder side). */
  readonly #signalListeners = new Set<(runId: string) => void>();
  /** runId → its workflow id and slug (neither ever changes); emptied when it grows large. */
  readonly #routes = new Map<string, Route>();
  /** Parsed workflow rows by id, with the `version` they were read at. */
  readonly #workflows = new Map<string, { version: number; row: WorkflowRow }>();
  /** Version rows by `<workflowId>:<number>` (immutable, so never stale), at most a few. */
  readonly #versions = new Map<string, WorkflowVersionRow>();
  /** The tail of each run's write chain: this store's writes to one run run one at a time. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #inputs: PgInputRequests;
  /** The one-engine-per-database lock (`null` when opened with `exclusive: false`). */
  readonly #lock: EngineLock | null;
  /** Events of other processes, when the store listens for them (`null` otherwise). */
  readonly #feed: NotifyFeed | null;

  constructor(pool: pg.Pool, settings: Settings, lock: EngineLock | null = null) {
    // Bound methods: ports are passed around as picked or destructured functions.
    for (const key of Object.getOwnPropertyNames(PgStoreImpl.prototype)) {
      const value: unknown = Reflect.get(this, key);
      if (key !== "constructor" && typeof value === "function") {
        Object.defineProperty(this, key, {
          value: value.bind(this),
          configurable: true,
          writable: true,
        });
      }
    }
    this.#pool = pool;
    this.#lock = lock;
    this.#poolDb = drizzle({ client: pool });
    this.#settings = settings;
    this.#newId = createUlidFactory(settings.now);
    const { listen } = settings;
    this.#feed =
      listen === null
        ? null
        : new NotifyFeed({
            url: settings.url,
            connectTimeoutMs: settings.connectTimeoutMs,
            pool,
            origin: listen.origin,
            pollMs: listen.pollMs,
            log: listen.log,
            now: settings.now,
            route: (runId) => this.#route(runId),
            emit: (rows) => {
              this.#emit(rows);
            },
            signal: (runId) => {
              for (const listener of this.#signalListeners) {
                try {
                  listener(runId);
                } catch {
                  // A failing signal listener cannot stop the others.
                }
              }
            },
          });
    this.#inputs = new PgInputRequests({
      pool,
      limits: settings,
      now: () => settings.now(),
      newId: () => this.#newId(),
      serial: (runId, fn) => this.#serial(runId, fn),
      fence: async (client, runId) => {
        const cluster = this.#settings.cluster;
        const revoked = this.#revoked.get(runId);
        if (cluster !== null && revoked !== undefined) {
          throw leaseLost(runId, { nodeId: cluster.nodeId, epoch: revoked });
        }
        const fence = this.#fenceOf(runId);
        if (fence !== undefined) await checkFence(client, runId, fence);
      },
      publish: async (runId, rows) => {
        if (rows.length === 0 || this.#listeners.size === 0) return;
        const route = await this.#route(runId);
        if (route !== null) this.#deliver(this.#published(route, runId, rows));
      },
    });
    const { cluster } = settings;
    this.cluster = cluster === null ? null : this.#clusterStore(cluster.nodeId, cluster.leaseMs);
  }

  // ---------------------------------------------------------------- cluster

  #clusterStore(nodeId: string, leaseMs: number): ClusterStore {
    const fences = this.#fences;
    const revoked = this.#revoked;
    const hold = (runs: HeldRun[]): HeldRun[] => {
      for (const run of runs) {
        fences.set(run.runId, run.epoch);
        revoked.delete(run.runId);
      }
      return runs;
    };
    const revoke = (runId: string, epoch: number): void => {
      fences.delete(runId);
      revoked.set(runId, epoch);
    };
    const onPool = <T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> =>
      this.#pool.connect().then(async (client) => {
        try {
          return await fn(client);
        } finally {
          client.release();
        }
      });
    return {
      nodeId,
      leaseMs,
      claimQueued: (limit) =>
        this.#run("claimQueued", async () =>
          hold(await this.#transaction((client) => claimQueued(client, nodeId, leaseMs, limit))),
        ),
      claimRun: (runId) =>
        this.#run("claimRun", async () => {
          const held = await onPool((client) => claimRun(client, nodeId, leaseMs, runId));
          return held === null ? null : (hold([held])[0] ?? null);
        }),
      takeOverExpired: (limit, mine, skip = []) =>
        this.#run("takeOverExpired", async () =>
          hold(
            await onPool((client) => takeOverExpired(client, nodeId, leaseMs, limit, mine, skip)),
          ),
        ),
      heartbeat: () =>
        this.#run("heartbeat", async () => {
          const sent = new Map(fences);
          const held = await onPool((client) => heartbeat(client, nodeId, leaseMs, sent));
          const kept = new Set(held.map((run) => run.runId));
          const lost: string[] = [];
          for (const [runId, epoch] of sent) {
            if (kept.has(runId)) continue;
            // Claimed again while the heartbeat was under way: a newer hold, not lost.
            if (fences.get(runId) === epoch) revoke(runId, epoch);
            lost.push(runId);
          }
          return { held, lost };
        }),
      release: (runIds) =>
        this.#run("releaseLeases", async () => {
          const chosen = new Map<string, number>();
          for (const [runId, epoch] of fences) {
            if (runIds === undefined || runIds.includes(runId)) chosen.set(runId, epoch);
          }
          for (const [runId, epoch] of chosen) revoke(runId, epoch);
          return onPool((client) => releaseLeases(client, nodeId, chosen));
        }),
      forget: (runId) => {
        fences.delete(runId);
        revoked.delete(runId);
      },
      held: () => new Map(fences),
      requestCancel: (runId) =>
        this.#run("requestCancel", () =>
          onPool(async (client) => {
            const recorded = await requestCancel(client, runId);
            if (recorded) await client.query("SELECT pg_notify($1, $2)", [SIGNALS_CHANNEL, runId]);
            return recorded;
          }),
        ),
      answerRemotely: (runId, key, answer) =>
        this.#run("answerRemotely", () => this.#inputs.answerRemotely(runId, key, answer)),
      unannouncedAnswers: (runIds) =>
        this.#run("unannouncedAnswers", () => this.#inputs.unannounced(runIds)),
      onSignal: (listener) => {
        this.#signalListeners.add(listener);
        return () => {
          this.#signalListeners.delete(listener);
        };
      },
      setDraining: (draining) =>
        this.#run("setDraining", () => onPool((client) => setDraining(client, nodeId, draining))),
    };
  }

  // ---------------------------------------------------------------- plumbing

  /** Drizzle on the current fenced transaction's connection, else on the pool. */
  get #db(): Db {
    const client = this.#scope.getStore();
    return client === undefined ? this.#poolDb : drizzle({ client });
  }

  #fenceOf(runId: string): Fence | undefined {
    const cluster = this.#settings.cluster;
    const epoch = this.#fences.get(runId);
    return cluster === null || epoch === undefined ? undefined : { nodeId: cluster.nodeId, epoch };
  }

  /**
   * Runs `fn` (a write for `runId`) as it is outside a cluster or for a run this node does not
   * hold; for a held run, inside one transaction that first checks and locks the fence, so the
   * write commits only while this node still holds the run's lease at its epoch.
   */
  #fenced<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    const cluster = this.#settings.cluster;
    const revoked = this.#revoked.get(runId);
    if (cluster !== null && revoked !== undefined) {
      return Promise.reject(leaseLost(runId, { nodeId: cluster.nodeId, epoch: revoked }));
    }
    const fence = this.#fenceOf(runId);
    if (fence === undefined || this.#scope.getStore() !== undefined) return fn();
    return this.#transaction(async (client) => {
      await checkFence(client, runId, fence);
      return this.#scope.run(client, fn);
    });
  }

  /** Runs one public operation: closed check, then driver errors become `EngineError`s. */
  async #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      throw new EngineError(
        "INTERNAL",
        "The store is closed.",
        "Open a new store (or engine) to keep working with this database.",
      );
    }
    try {
      return await fn();
    } catch (error) {
      throw this.#wrap(error, operation);
    }
  }

  #wrap(error: unknown, operation: string): unknown {
    if (isEngineError(error)) return error;
    const lost = connectionFailure(error, this.#settings.target, false);
    if (lost !== undefined) return lost;
    const found = driverError(error);
    if (found === undefined) return error;
    return new EngineError(
      "INTERNAL",
      `Store ${operation} failed: ${found.message} (${found.code ?? "unknown"}).`,
      found.code === "53100"
        ? "The database server's disk is full; free space and retry."
        : "Check the database server's log; restore from a backup if the database is damaged.",
      { cause: error },
    );
  }

  /** Runs one hand-written statement (see statements.ts) on the pool. */
  async #query<T extends object>(statement: Statement): Promise<T[]> {
    const on = this.#scope.getStore() ?? this.#pool;
    const result = await on.query<T & pg.QueryResultRow>({
      ...(statement.name === undefined ? {} : { name: statement.name }),
      text: statement.text,
      values: statement.values,
      types: INT8_AS_NUMBER,
    });
    return result.rows;
  }

  /** `BEGIN … COMMIT` on one pooled connection; any throw rolls back and rethrows. */
  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    // Inside a fenced transaction: one transaction, on its connection.
    const scoped = this.#scope.getStore();
    if (scoped !== undefined) return fn(scoped);
    const client = await this.#pool.connect();
    let broken = false;
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Runs `fn` after every earlier write of this store to `runId` has settled. */
  #serial<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(runId) ?? Promise.resolve();
    const result = previous.then(fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#chains.set(runId, tail);
    void tail.then(() => {
      if (this.#chains.get(runId) === tail) this.#chains.delete(runId);
    });
    return result;
  }

  // ---------------------------------------------------------------- feed

  subscribe(listener: EventListener): () => void {
    if (this.#closed) {
      throw new EngineError("INTERNAL", "The store is closed.");
    }
    if (typeof listener !== "function") {
      throw new EngineError("VALIDATION", "subscribe(listener): listener must be a function.");
    }
    // A wrapper per subscription: the same function subscribed twice is called twice and each
    // unsubscribe removes exactly its own subscription.
    const entry: EventListener = (row) => listener(row);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /**
   * Starts delivering other processes' events (a listening store; see `openPgStore`'s `listen`).
   * Rejects when the database cannot be reached.
   */
  async startFeed(): Promise<void> {
    await this.#feed?.start();
  }

  /** Hands events this store committed to the feed. */
  #deliver(rows: readonly PublishedEvent[]): void {
    if (this.#feed === null) this.#emit(rows);
    else this.#feed.local(rows);
  }

  /** Hands committed events to every listener, in the order given. */
  #emit(rows: readonly PublishedEvent[]): void {
    for (const row of rows) {
      for (const listener of this.#listeners) {
        try {
          listener(row);
        } catch (error) {
          try {
            this.#settings.onListenerError?.(error, row);
          } catch {
            // An error from the error hook itself is dropped.
          }
        }
      }
    }
  }

  #published(route: Route, runId: string, rows: readonly PreparedEvent[]): PublishedEvent[] {
    return rows.map((row) => ({
      runId,
      cursor: row.cursor,
      event: row.event,
      workflowId: route.workflowId,
      workflowSlug: route.workflowSlug,
    }));
  }

  #remember(runId: string, route: Route): void {
    if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
    this.#routes.set(runId, route);
  }

  /** The run's workflow id and slug, or `null` for an unknown run. */
  async #route(runId: string): Promise<Route | null> {
    const cached = this.#routes.get(runId);
    if (cached !== undefined) return cached;
    const [route] = await this.#db
      .select({ workflowId: runs.workflowId, workflowSlug: workflows.slug })
      .from(runs)
      .innerJoin(workflows, eq(workflows.id, runs.workflowId))
      .where(eq(runs.id, runId));
    if (route === undefined) return null;
    this.#remember(runId, route);
    return route;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * One trivial query, answered within the connect timeout: a server that stopped answering
   * (rather than refusing) makes health checks fail promptly instead of hanging with it. Rejects
   * `CONFLICT` while another engine holds this store's lost one-engine lock.
   */
  ping(): Promise<void> {
    return this.#run("ping", async () => {
      // The lock was lost (the server restarted) and another engine took it meanwhile.
      const lockProblem = this.#lock?.problem;
      if (lockProblem !== undefined) throw lockProblem;
      const limit = this.#settings.connectTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const silence = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(
            new EngineError(
              "INTERNAL",
              `PostgreSQL at ${this.#settings.target.label} is unavailable: no answer within ${String(limit)} ms.`,
              "Check that the database server is running and reachable; the store reconnects by itself once it answers again.",
            ),
          );
        }, limit);
      });
      const query = this.#db.execute(sql`SELECT 1`);
      // The query may still settle after the deadline; its outcome no longer matters.
      query.catch(() => undefined);
      try {
        await Promise.race([query, silence]);
      } finally {
        clearTimeout(timer);
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Let writes already under way finish before the pool goes.
    await Promise.all([...this.#chains.values()]);
    await this.#feed?.close();
    await this.#pool.end();
    await this.#lock?.release();
  }

  // ---------------------------------------------------------------- workflows

  getWorkflow(slug: string): Promise<WorkflowRow | null> {
    return this.#run("getWorkflow", async () => {
      requireKey(slug, "getWorkflow(slug)", "slug");
      const [head] = await this.#db
        .select({ id: workflows.id, version: workflows.version })
        .from(workflows)
        .where(and(eq(workflows.slug, slug), isNull(workflows.undeployedAt)));
      return head === undefined ? null : this.#workflowAt(head.id, head.version);
    });
  }

  getWorkflowById(id: string): Promise<WorkflowRow | null> {
    return this.#run("getWorkflowById", async () => {
      requireKey(id, "getWorkflowById(id)", "id");
      const [head] = await this.#db
        .select({ version: workflows.version })
        .from(workflows)
        .where(eq(workflows.id, id));
      return head === undefined ? null : this.#workflowAt(id, head.version);
    });
  }

  /**
   * The parsed row of workflow `id` at `version`: from the cache when it holds that version,
   * else read (programs can be megabytes: a cached row saves the transfer and the re-parse).
   */
  async #workflowAt(id: string, version: number): Promise<WorkflowRow | null> {
    const cached = this.#workflows.get(id);
    if (cached !== undefined && cached.version === version) return cached.row;
    const [raw] = await this.#db.select().from(workflows).where(eq(workflows.id, id));
    return raw === undefined ? null : this.#cacheWorkflow(raw);
  }

  #cacheWorkflow(raw: RawWorkflow): WorkflowRow {
    const row = Object.freeze(toWorkflowRow(raw));
    this.#workflows.set(raw.id, { version: raw.version, row });
    return row;
  }

  listWorkflows(options: ListWorkflowsOptions = {}): Promise<WorkflowRow[]> {
    return this.#run("listWorkflows", async () => {
      if (typeof options !== "object" || options === null) {
        throw new EngineError(
          "VALIDATION",
          `listWorkflows(options): options must be an object, got ${describe(options)}.`,
        );
      }
      const heads = await this.#db
        .select({ id: workflows.id, version: workflows.version })
        .from(workflows)
        .where(options.includeUndeployed === true ? undefined : isNull(workflows.undeployedAt))
        .orderBy(asc(workflows.slug));
      const stale = heads
        .filter((head) => this.#workflows.get(head.id)?.version !== head.version)
        .map((head) => head.id);
      const fresh = new Map<string, WorkflowRow>();
      if (stale.length > 0) {
        const raws = await this.#db.select().from(workflows).where(inArray(workflows.id, stale));
        for (const raw of raws) fresh.set(raw.id, this.#cacheWorkflow(raw));
      }
      const rows: WorkflowRow[] = [];
      for (const head of heads) {
        const row = fresh.get(head.id) ?? this.#workflows.get(head.id)?.row;
        if (row !== undefined) rows.push(row);
      }
      return rows;
    });
  }

  undeployWorkflow(slug: string): Promise<WorkflowRow | null> {
    return this.#run("undeployWorkflow", async () => {
      requireKey(slug, "undeployWorkflow(slug)", "slug");
      // Bumping `version` retires every cached copy of the row.
      const [raw] = await this.#db
        .update(workflows)
        .set({ undeployedAt: this.#settings.now(), version: sql`${workflows.version} + 1` })
        .where(and(eq(workflows.slug, slug), isNull(workflows.undeployedAt)))
        .returning();
      return raw === undefined ? null : this.#cacheWorkflow(raw);
    });
  }

  upsertWorkflow(args: UpsertWorkflowArgs): Promise<WorkflowRow> {
    return this.#run("upsertWorkflow", async () => {
      const w = readUpsertWorkflow(args, this.#settings);
      const now = this.#settings.now();
      const raw = await this.#transaction(async (client) => {
        const query = async <T extends object>(statement: Statement): Promise<T[]> =>
          (await client.query<T & pg.QueryResultRow>({ ...statement, types: INT8_AS_NUMBER })).rows;
        const [row] = await query<RawWorkflow>(upsertWorkflowStatement(this.#newId(), w, now));
        if (row === undefined) {
          throw new EngineError("INTERNAL", `Workflow "${w.slug}" vanished after upsert.`);
        }
        // The upsert holds the workflow row's lock until COMMIT: deploys of one workflow
        // number their versions one at a time.
        const content = { manifest: w.manifest, program: w.program, config: w.config };
        const hash = contentHash({ ...content, skills: w.skills });
        const [current] = await query<{ number: number; hash: string }>(
          currentVersionStatement(row.id),
        );
        if (current?.hash !== hash) {
          await query(
            insertVersionStatement({
              id: this.#newId(),
              workflowId: row.id,
              number: (current?.number ?? 0) + 1,
              hash,
              ...content,
              skills: w.skills,
              deployedAt: now,
            }),
          );
        }
        return row;
      });
      return this.#cacheWorkflow(raw);
    });
  }

  listWorkflowVersions(workflowId: string): Promise<WorkflowVersionSummary[]> {
    return this.#run("listWorkflowVersions", async () => {
      requireKey(workflowId, "listWorkflowVersions(workflowId)", "workflowId");
      const rows = await this.#query<WorkflowVersionSummary>(listVersionsStatement(workflowId));
      return rows.map(toVersionSummary);
    });
  }

  getWorkflowVersion(workflowId: string, version: number): Promise<WorkflowVersionRow | null> {
    return this.#run("getWorkflowVersion", async () => {
      requireKey(workflowId, "getWorkflowVersion(workflowId)", "workflowId");
      requireInteger(version, "getWorkflowVersion: version", 0);
      const key = `${workflowId}:${String(version)}`;
      const cached = this.#versions.get(key);
      if (cached !== undefined) return cached;
      const [raw] = await this.#query<RawVersion>(getVersionStatement(workflowId, version));
      if (raw === undefined) return null;
      const row = Object.freeze(toVersionRow(raw));
      if (this.#versions.size >= CACHED_VERSIONS) {
        const oldest = this.#versions.keys().next().value;
        if (oldest !== undefined) this.#versions.delete(oldest);
      }
      this.#versions.set(key, row);
      return row;
    });
  }

  // ---------------------------------------------------------------- runs

  getRun(id: string): Promise<RunRow | null> {
    return this.#run("getRun", async () => {
      requireKey(id, "getRun(id)", "id");
      const [raw] = await this.#db.select().from(runs).where(eq(runs.id, id));
      return raw === undefined ? null : toRunRow(raw);
    });
  }

  createRun(args: CreateRunArgs): Promise<{ run: RunRow; created: boolean }> {
    return this.#run("createRun", async () => {
      const w = readCreateRun(args, this.#settings);
      const requestKey = readRequestKey(args);
      const delivery = readDelivery(args);
      if (w.version !== null) {
        // Versions are never renumbered: a number found now is there when the run is inserted.
        const [found] = await this.#query<{ slug: string; id: string | null }>(
          versionLookupStatement(w.workflowId, w.version),
        );
        if (found !== undefined && found.id === null) throw unknownVersion(found.slug, w.version);
      }
      const queued = this.#queuedRun(
        w.workflowId,
        w.triggerKind,
        w.input,
        w.parentRunId,
        w.key,
        w.version,
      );
      // A child created by the node executing its parent is a write of the parent's holder.
      if (w.parentRunId !== null && this.#fenceOf(w.parentRunId) !== undefined) {
        const parent = w.parentRunId;
        return this.#fenced(parent, () => this.#createQueued(w, queued, requestKey, delivery));
      }
      return this.#createQueued(w, queued, requestKey, delivery);
    });
  }

  async #createQueued(
    w: ReturnType<typeof readCreateRun>,
    queued: QueuedRun,
    requestKey: RequestKey | null,
    delivery: WebhookDelivery | null,
  ): Promise<{ run: RunRow; created: boolean }> {
    {
      if (requestKey !== null || delivery !== null) {
        return this.#createKeyedRun(queued, requestKey, delivery);
      }
      const [inserted] = await this.#query<RunRecord & { workflowSlug: string }>(
        createRunStatement(queued),
      );
      if (inserted !== undefined) {
        return { run: this.#created(inserted, queued.event), created: true };
      }
      // Nothing written: an unknown workflow or parent, or the key is taken.
      const [diagnosis] = await this.#query<{ slug: string | null; parentExists: boolean }>(
        createRunDiagnosis(w.workflowId, w.parentRunId),
      );
      if (diagnosis?.slug == null) {
        throw new EngineError(
          "NOT_FOUND",
          `Unknown workflow: ${w.workflowId}`,
          "Deploy the workflow before creating runs of it.",
        );
      }
      if (diagnosis.parentExists !== true) {
        throw new EngineError("NOT_FOUND", `Unknown parent run: ${w.parentRunId ?? ""}`);
      }
      const [existing] =
        w.key === null ? [] : await this.#query<RunRecord>(runByKeyStatement(w.parentRunId, w.key));
      if (existing === undefined) {
        throw new EngineError(
          "INTERNAL",
          `createRun: run of workflow ${w.workflowId} was not written.`,
        );
      }
      if (existing.workflowId !== w.workflowId) {
        throw new EngineError(
          "CONFLICT",
          `Idempotency key "${w.key ?? ""}" already belongs to run ${existing.id} of another workflow (${existing.workflowId}).`,
          "Use a key that includes the workflow, or reuse it only for the same workflow.",
        );
      }
      return { run: toRunRow(existing), created: false };
    }
  }

  /**
   * Creates a top-level run under a request key and/or a webhook delivery, in one transaction:
   * the run and its queued event, then the delivery's keys (a key still remembered rolls it all
   * back with the delivery `CONFLICT`), then the request key (still bound: rolled back, and the
   * run it is bound to is the answer, or `CONFLICT` for another fingerprint).
   */
  async #createKeyedRun(
    queued: QueuedRun,
    requestKey: RequestKey | null,
    delivery: WebhookDelivery | null,
  ): Promise<{ run: RunRow; created: boolean }> {
    const { workflowId, createdAt: now } = queued;
    let bound: { fingerprint: string; runId: string } | undefined;
    const created = await this.#transaction(async (client) => {
      const query = async <T extends object>(statement: Statement): Promise<T[]> =>
        (await client.query<T & pg.QueryResultRow>({ ...statement, types: INT8_AS_NUMBER })).rows;
      const [record] = await query<RunRecord & { workflowSlug: string }>(
        createRunStatement(queued),
      );
      if (record === undefined) {
        throw new EngineError(
          "NOT_FOUND",
          `Unknown workflow: ${workflowId}`,
          "Deploy the workflow before creating runs of it.",
        );
      }
      if (delivery !== null) {
        await query(sweepDeliveriesStatement(workflowId, now));
        const claimed = await query(claimDeliveryStatement(workflowId, delivery, queued.id, now));
        if (claimed.length < delivery.keys.length) {
          const [holder] = await query<DeliveryHolder>(
            deliveryHolderStatement(workflowId, delivery, now),
          );
          throw holder === undefined
            ? new EngineError("INTERNAL", "createRun: a delivery key was neither free nor held.")
            : deliveryConflict(holder);
        }
      }
      if (requestKey !== null) {
        await query(sweepRequestKeysStatement(workflowId, now));
        const claimed = await query(
          claimRequestKeyStatement(workflowId, requestKey, queued.id, now),
        );
        if (claimed.length === 0) {
          // Still bound: read the binding the claim waited for, then roll everything back.
          [bound] = await query<{ fingerprint: string; runId: string }>(
            requestKeyBindingStatement(workflowId, requestKey.key),
          );
          throw new KeyBound();
        }
      }
      return record;
    }).catch((error: unknown) => {
      if (error instanceof KeyBound) return null;
      throw error;
    });
    if (created !== null) return { run: this.#created(created, queued.event), created: true };
    if (bound === undefined || requestKey === null) {
      throw new EngineError("INTERNAL", "createRun: a request key was neither free nor bound.");
    }
    if (bound.fingerprint !== requestKey.fingerprint) {
      throw requestKeyConflict(requestKey.key, bound.runId);
    }
    const [row] = await this.#db.select().from(runs).where(eq(runs.id, bound.runId));
    if (row === undefined) throw new EngineError("INTERNAL", `Run ${bound.runId} vanished.`);
    return { run: toRunRow(row), created: false };
  }

  /** The values of a new `queued` run and the JSON of its `queued` event. */
  #queuedRun(
    workflowId: string,
    triggerKind: string,
    input: string | null,
    parentRunId: string | null,
    key: string | null,
    version: number | null = null,
  ): QueuedRun {
    const id = this.#newId();
    const createdAt = this.#settings.now();
    const event = JSON.stringify(statusEvent(id, "queued", undefined, 1, createdAt));
    return { id, workflowId, triggerKind, input, parentRunId, key, version, createdAt, event };
  }

  /** A run a statement just created: remembered for the feed, its queued event delivered. */
  #created(record: RunRecord & { workflowSlug: string }, eventText: string): RunRow {
    const { workflowSlug, ...raw } = record;
    const route = { workflowId: raw.workflowId, workflowSlug };
    this.#remember(raw.id, route);
    if (this.#listeners.size > 0) {
      const event = statusEvent(raw.id, "queued", undefined, 1, raw.createdAt);
      this.#deliver(
        this.#published(route, raw.id, [
          { cursor: 1, event, channel: "lifecycle", text: eventText },
        ]),
      );
    }
    return toRunRow(raw);
  }

  fireCron(args: FireCronArgs): Promise<RunRow | null> {
    return this.#run("fireCron", async () => {
      const c = readFireCron(args, this.#settings);
      const queued = this.#queuedRun(c.workflowId, "cron", c.input, null, null);
      let inserted: (RunRecord & { workflowSlug: string }) | undefined;
      try {
        [inserted] = await this.#query<RunRecord & { workflowSlug: string }>(
          fireCronStatement(c, queued),
        );
      } catch (error) {
        // Another process recorded the same instant first: its run stands, ours was rolled back.
        const found = driverError(error);
        if (found?.code === "23505" && constraintOf(error) === "cron_fires_pkey") return null;
        throw error;
      }
      if (inserted !== undefined) return this.#created(inserted, queued.event);
      const [workflow] = await this.#db
        .select({ id: workflows.id })
        .from(workflows)
        .where(eq(workflows.id, c.workflowId));
      if (workflow === undefined) {
        throw new EngineError("NOT_FOUND", `Unknown workflow: ${c.workflowId}`);
      }
      return null;
    });
  }

  commitStatus(runId: string, change: StatusChange): Promise<RunRow | null> {
    return this.#run("commitStatus", async () => {
      const s = readStatusChange(runId, change, this.#settings);
      return this.#serial(runId, () =>
        this.#fenced(runId, async () => {
          // Read before writing: an unknown run fails in the statement with NOT_FOUND.
          const route = this.#listeners.size > 0 ? await this.#route(runId) : null;
          const event = statusEvent(
            runId,
            s.to,
            s.error ?? s.eventError,
            s.stamp?.seq ?? 1,
            this.#settings.now(),
            s.reason,
          );
          const text = JSON.stringify(event);
          if (Buffer.byteLength(text) > this.#settings.maxValueBytes) {
            throw new EngineError(
              "VALIDATION",
              `commitStatus(${runId}): event is ${String(Buffer.byteLength(text))} bytes of JSON, over the ${String(this.#settings.maxValueBytes)}-byte limit.`,
            );
          }
          let result: (RunRecord & { known: boolean; stampCursor: number | null }) | undefined;
          try {
            [result] = await this.#query<
              RunRecord & { known: boolean; stampCursor: number | null }
            >(
              commitStatusStatement({
                runId,
                to: s.to,
                expect: s.expect,
                output: s.output,
                error: s.errorText,
                startedAt: s.startedAt,
                endedAt: s.endedAt,
                pending: s.pending,
                cursor: s.stamp?.cursor,
                event: text,
                stride: TURN_CURSOR_STRIDE,
                ...(isTerminal(s.to) ? { cancelRequestsAt: this.#settings.now() } : {}),
              }),
            );
          } catch (error) {
            throw eventWriteError(error, runId);
          }
          if (result === undefined || !result.known) {
            throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
          }
          const { known: _known, stampCursor, ...raw } = result;
          const written: PreparedEvent[] = [...s.pending];
          if (stampCursor !== null) {
            written.push({ cursor: stampCursor, event, channel: "lifecycle", text });
            written.sort((a, b) => a.cursor - b.cursor);
          }
          if (route !== null) this.#deliver(this.#published(route, runId, written));
          return stampCursor === null ? null : toRunRow(raw);
        }),
      );
    });
  }

  incrementRestarts(id: string): Promise<number> {
    return this.#run("incrementRestarts", () =>
      this.#fenced(id, async () => {
        requireString(id, "incrementRestarts: id");
        const [row] = await this.#db
          .update(runs)
          .set({ restarts: sql`${runs.restarts} + 1` })
          .where(eq(runs.id, id))
          .returning({ restarts: runs.restarts });
        if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
        return row.restarts;
      }),
    );
  }

  addActiveMs(id: string, ms: number): Promise<number> {
    return this.#run("addActiveMs", () =>
      this.#fenced(id, async () => {
        requireString(id, "addActiveMs: id");
        const amount = requireInteger(ms, "addActiveMs: ms", 0);
        const [row] = await this.#db
          .update(runs)
          .set({ activeMs: sql`${runs.activeMs} + ${amount}` })
          .where(eq(runs.id, id))
          .returning({ activeMs: runs.activeMs });
        if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
        return row.activeMs;
      }),
    );
  }

  scheduleRetry(id: string, at: number): Promise<number> {
    return this.#run("scheduleRetry", () =>
      this.#fenced(id, async () => {
        requireString(id, "scheduleRetry: id");
        const due = requireInteger(at, "scheduleRetry: at", 0);
        const [row] = await this.#db
          .update(runs)
          .set({ retries: sql`${runs.retries} + 1`, retryAt: due })
          .where(eq(runs.id, id))
          .returning({ retries: runs.retries });
        if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
        return row.retries;
      }),
    );
  }

  clearRetry(id: string): Promise<void> {
    return this.#run("clearRetry", () =>
      this.#fenced(id, async () => {
        requireString(id, "clearRetry: id");
        const [row] = await this.#db
          .update(runs)
          .set({ retryAt: null })
          .where(eq(runs.id, id))
          .returning({ id: runs.id });
        if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
      }),
    );
  }

  addRunUsage(id: string, usage: RunUsageDelta): Promise<RunUsage> {
    return this.#run("addRunUsage", () =>
      this.#fenced(id, async () => {
        const delta = readUsage(id, usage);
        const [totals] = await this.#db
          .update(runs)
          .set({
            tokensIn: sql`${runs.tokensIn} + ${delta.tokensIn}`,
            tokensOut: sql`${runs.tokensOut} + ${delta.tokensOut}`,
            usdMicros: sql`${runs.usdMicros} + ${delta.usdMicros}`,
          })
          .where(eq(runs.id, id))
          .returning({
            tokensIn: runs.tokensIn,
            tokensOut: runs.tokensOut,
            usdMicros: runs.usdMicros,
          });
        if (totals === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
        return totals;
      }),
    );
  }

  getRunUsage(id: string): Promise<RunUsage> {
    return this.#run("getRunUsage", async () => {
      requireString(id, "getRunUsage: id");
      const [row] = await this.#db
        .select({ tokensIn: runs.tokensIn, tokensOut: runs.tokensOut, usdMicros: runs.usdMicros })
        .from(runs)
        .where(eq(runs.id, id));
      if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
      return row;
    });
  }

  listRuns(filter?: ListRunsFilter): Promise<RunRow[]> {
    return this.#run("listRuns", async () => {
      const q = readListRuns(filter ?? {});
      if (q.statuses !== undefined && q.statuses.length === 0) return [];
      let anchor: { createdAt: number; position: number } | undefined;
      if (q.beforeRunId !== undefined) {
        [anchor] = await this.#query<{ createdAt: number; position: number }>(
          runAnchorStatement(q.beforeRunId),
        );
        if (anchor === undefined) {
          throw new EngineError(
            "NOT_FOUND",
            `Unknown run: ${q.beforeRunId}`,
            "beforeRunId must name a run of a previous page.",
          );
        }
      }
      if (q.limit === 0) return [];
      const raws = await this.#query<RunRecord>(listRunsStatement(q, anchor));
      return raws.map(toRunRow);
    });
  }

  // ---------------------------------------------------------------- events

  appendEvents(runId: string, rows: readonly EventAppend[]): Promise<void> {
    return this.#run("appendEvents", async () => {
      requireString(runId, "appendEvents: runId");
      const prepared = prepareEvents("appendEvents", runId, rows, "rows", this.#settings);
      if (prepared.length === 0) return;
      await this.#serial(runId, () =>
        this.#fenced(runId, async () => {
          let route: Route | null = null;
          if (this.#listeners.size > 0) {
            route = await this.#route(runId);
            if (route === null) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
          }
          try {
            // One statement is atomic on its own; only a batch larger than one INSERT needs a
            // transaction around its statements.
            if (prepared.length <= INSERT_CHUNK) {
              await this.#query(insertEventsStatement(runId, prepared));
            } else {
              await this.#transaction(async (client) => {
                for (let start = 0; start < prepared.length; start += INSERT_CHUNK) {
                  const chunk = prepared.slice(start, start + INSERT_CHUNK);
                  await client.query(insertEventsStatement(runId, chunk));
                }
              });
            }
          } catch (error) {
            throw eventWriteError(error, runId);
          }
          if (route !== null) this.#deliver(this.#published(route, runId, prepared));
        }),
      );
    });
  }

  listEvents(runId: string, options?: ListEventsOptions): Promise<EventRow[]> {
    return this.#run("listEvents", async () => {
      const q = readListEvents(runId, options ?? {});
      if (q.limit === 0 || (q.channels !== undefined && q.channels.length === 0)) return [];
      const raws = await this.#query<{ cursor: number; event: string }>(
        listEventsStatement(runId, q),
      );
      return raws.map((raw) => toEventRow({ runId, cursor: raw.cursor, event: raw.event }));
    });
  }

  maxCursor(runId: string): Promise<number> {
    return this.#run("maxCursor", async () => {
      requireKey(runId, "maxCursor(runId)", "runId");
      return this.#maxCursor(runId);
    });
  }

  async #maxCursor(runId: string): Promise<number> {
    const [row] = await this.#db
      .select({ cursor: max(runEvents.cursor) })
      .from(runEvents)
      .where(eq(runEvents.runId, runId));
    return row?.cursor == null ? 0 : Number(row.cursor);
  }

  // ---------------------------------------------------------------- cron fires

  lastCronFire(workflowId: string, triggerIndex: number): Promise<number | null> {
    return this.#run("lastCronFire", async () => {
      requireString(workflowId, "lastCronFire: workflowId");
      requireInteger(triggerIndex, "lastCronFire: triggerIndex", 0);
      const [row] = await this.#db
        .select({ fireTime: max(cronFires.fireTime) })
        .from(cronFires)
        .where(and(eq(cronFires.workflowId, workflowId), eq(cronFires.triggerIndex, triggerIndex)));
      return row?.fireTime == null ? null : Number(row.fireTime);
    });
  }

  // ---------------------------------------------------------------- artifacts

  createArtifact(args: CreateArtifactArgs): Promise<ArtifactRow> {
    return this.#run("createArtifact", async () => {
      const a = readArtifact(args, this.#settings);
      return this.#fenced(a.runId, async () => {
        try {
          const [raw] = await this.#db
            .insert(artifacts)
            .values({ id: this.#newId(), ...a, createdAt: this.#settings.now() })
            .returning();
          if (raw === undefined) throw new EngineError("INTERNAL", "createArtifact: no row.");
          return toArtifactRow(raw);
        } catch (error) {
          if (driverError(error)?.code === "23503")
            throw new EngineError("NOT_FOUND", `Unknown run: ${a.runId}`);
          throw error;
        }
      });
    });
  }

  listArtifacts(runId: string): Promise<ArtifactRow[]> {
    return this.#run("listArtifacts", async () => {
      if (typeof runId !== "string")
        throw new EngineError(
          "VALIDATION",
          `listArtifacts(runId): runId must be a string, got ${describe(runId)}.`,
        );
      const raws = await this.#db
        .select()
        .from(artifacts)
        .where(eq(artifacts.runId, runId))
        .orderBy(asc(artifacts.position));
      return raws.map(toArtifactRow);
    });
  }

  // ---------------------------------------------------------------- human-input requests

  getInputRequest(runId: string, key: string): Promise<HumanInputRequestRow | null> {
    return this.#run("getInputRequest", () => this.#inputs.get(runId, key));
  }

  listInputRequests(filter?: ListInputRequestsFilter): Promise<HumanInputRequestRow[]> {
    return this.#run("listInputRequests", () => this.#inputs.list(filter));
  }

  createInputRequest(
    runId: string,
    args: CreateInputRequestArgs,
  ): Promise<{ request: HumanInputRequestRow; created: boolean }> {
    return this.#run("createInputRequest", () => this.#inputs.create(runId, args));
  }

  settleInputRequest(
    runId: string,
    key: string,
    settlement: InputRequestSettlement,
  ): Promise<HumanInputRequestRow | null> {
    return this.#run("settleInputRequest", () => this.#inputs.settle(runId, key, settlement));
  }

  announceInputAnswer(
    runId: string,
    key: string,
    options: { pending?: readonly EventAppend[]; stamp?: { cursor: number; seq: number } } = {},
  ): Promise<HumanInputRequestRow | null> {
    return this.#run("announceInputAnswer", () => this.#inputs.announce(runId, key, options));
  }

  // ---------------------------------------------------------------- retention

  pruneRuns(args: PruneRunsArgs): Promise<PruneRunsResult> {
    return this.#run("pruneRuns", async () => {
      const query = readPruneArgs(args);
      const result = await this.#transaction((client) =>
        pruneBatch(client, query, this.#settings.now()),
      );
      for (const run of result.deleted) this.#routes.delete(run.id);
      return result;
    });
  }

  pruneVersions(args: PruneVersionsArgs): Promise<PruneVersionsResult> {
    return this.#run("pruneVersions", async () => {
      const query = readPruneVersionsArgs(args);
      const result = await this.#transaction((client) => pruneVersionsBatch(client, query));
      for (const version of result.deleted) {
        this.#versions.delete(`${version.workflowId}:${String(version.number)}`);
      }
      return result;
    });
  }
}
