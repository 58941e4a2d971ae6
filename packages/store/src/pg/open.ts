/**
 * `openPgStore`: reads the options, takes the one-engine lock, connects the pool, applies the
 * migrations and hands back the store. Invariants: bad options or URL are refused before any
 * connection; a second engine on the same database is refused before it writes anything; a
 * failure to connect or to migrate ends the pool, gives the lock back and leaves nothing
 * half-written (migrations are one transaction).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import type { Migration } from "../migrations.ts";
import type { PublishedEvent } from "../types.ts";
import { connectionFailure, parseDatabaseUrl } from "./connect.ts";
import { driverError } from "./errors.ts";
import { EngineLock } from "./lock.ts";
import { migratePg } from "./migrate.ts";
import { PG_MIGRATIONS } from "./migrations.ts";
import { fillMissingHashes } from "./versions.ts";
import { PgStoreImpl, type PgStore, type Settings } from "./store.ts";

/** Options of {@link openPgStore}. */
export interface OpenPgStoreOptions {
  /** `postgres://user:password@host:5432/database` (or `postgresql://`). */
  url: string;
  /** Clock for every persisted timestamp and ULID (epoch ms). Default `Date.now`. */
  now?: () => number;
  /** Largest JSON text accepted for one value, in UTF-8 bytes. Default 4 MiB. */
  maxValueBytes?: number;
  /** Largest workflow program source accepted, in UTF-8 bytes. Default 32 MiB. */
  maxProgramBytes?: number;
  /** Pool size. Default 10. */
  maxConnections?: number;
  /** How long one connection attempt may take before it fails, in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /**
   * Sees every error a `subscribe` listener throws, with the event it was handling. Without it
   * such errors are dropped: one failing listener can neither fail the write that committed the
   * event nor stop the other listeners. An error thrown by this function is dropped too.
   */
  onListenerError?: (error: unknown, row: PublishedEvent) => void;
  /**
   * One engine per database (default `true`): the store holds a PostgreSQL advisory lock for its
   * lifetime, and another store opening the same database while it is held is refused with
   * `CONFLICT`, as SQLite refuses a second process on its file. The lock ends with the store's
   * `close()` or with its process. `false` skips the lock, for processes that share one
   * database on purpose (tools, tests). Ignored with `cluster`, which never takes the lock.
   */
  exclusive?: boolean;
  /**
   * Also hand `subscribe` listeners the events other processes commit to this database (the
   * other nodes of a cluster), live and in cursor order per run, exactly once, from the moment
   * the store opens: they are announced with LISTEN/NOTIFY on a connection of their own (which
   * must be a direct, session-mode connection: not through a transaction-pooling proxy) and
   * re-read from the table; a poll every `pollMs` catches up whatever an outage made the store
   * miss. Default: `true` in cluster mode, `false` otherwise.
   */
  listen?: boolean | { pollMs?: number };
  /** Where a listening store reports trouble with its feed. Default: standard error. */
  log?: (line: string) => void;
  /**
   * Cluster mode: this store is one node of many engines sharing the database (no one-engine
   * lock). `nodeId` names the node; `leaseMs` (at least 1000) is how long a claimed run stays
   * held without a heartbeat. See `ClusterStore`.
   */
  cluster?: { nodeId: string; leaseMs: number };
}

const DEFAULT_MAX_VALUE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_PROGRAM_BYTES = 32 * 1024 * 1024;
/** How often a listening store compares cursors to catch up missed notifications, ms. */
const DEFAULT_POLL_MS = 2_000;

function readOptions(options: OpenPgStoreOptions): Settings & { exclusive: boolean } {
  if (typeof options !== "object" || options === null) {
    throw new EngineError("VALIDATION", "openPgStore() needs an options object with a url.");
  }
  const target = parseDatabaseUrl(options.url);
  const now = options.now ?? Date.now;
  if (typeof now !== "function") {
    throw new EngineError(
      "VALIDATION",
      "openPgStore(): now must be a function returning epoch ms.",
    );
  }
  const positive = (value: number | undefined, name: string, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new EngineError(
        "VALIDATION",
        `openPgStore(): ${name} must be a positive integer, got ${String(value)}.`,
      );
    }
    return value;
  };
  const { onListenerError } = options;
  if (onListenerError !== undefined && typeof onListenerError !== "function") {
    throw new EngineError("VALIDATION", "openPgStore(): onListenerError must be a function.");
  }
  const cluster = readCluster(options.cluster);
  const exclusive = cluster === null ? (options.exclusive ?? true) : false;
  if (typeof exclusive !== "boolean") {
    throw new EngineError("VALIDATION", "openPgStore(): exclusive must be a boolean.");
  }
  const listen = options.listen ?? cluster !== null;
  if (typeof listen !== "boolean" && (typeof listen !== "object" || listen === null)) {
    throw new EngineError("VALIDATION", "openPgStore(): listen must be a boolean or { pollMs }.");
  }
  const log =
    options.log ?? ((line: string) => void process.stderr.write(`promenade store: ${line}\n`));
  if (typeof log !== "function") {
    throw new EngineError("VALIDATION", "openPgStore(): log must be a function.");
  }
  return {
    exclusive,
    cluster,
    listen:
      listen === false
        ? null
        : {
            origin: randomBytes(9).toString("base64url"),
            pollMs: positive(
              listen === true ? undefined : listen.pollMs,
              "listen.pollMs",
              DEFAULT_POLL_MS,
            ),
            log,
          },
    url: options.url,
    target,
    now,
    onListenerError,
    maxValueBytes: positive(options.maxValueBytes, "maxValueBytes", DEFAULT_MAX_VALUE_BYTES),
    maxProgramBytes: positive(
      options.maxProgramBytes,
      "maxProgramBytes",
      DEFAULT_MAX_PROGRAM_BYTES,
    ),
    maxConnections: positive(options.maxConnections, "maxConnections", 10),
    connectTimeoutMs: positive(options.connectTimeoutMs, "connectTimeoutMs", 10_000),
  };
}

function readCluster(
  cluster: OpenPgStoreOptions["cluster"],
): { nodeId: string; leaseMs: number } | null {
  if (cluster === undefined) return null;
  if (typeof cluster !== "object" || cluster === null) {
    throw new EngineError("VALIDATION", "openPgStore(): cluster must be { nodeId, leaseMs }.");
  }
  const { nodeId, leaseMs } = cluster;
  if (typeof nodeId !== "string" || nodeId.length === 0 || nodeId.length > 200) {
    throw new EngineError(
      "VALIDATION",
      "openPgStore(): cluster.nodeId must be a non-empty string of at most 200 characters.",
    );
  }
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1000) {
    throw new EngineError(
      "VALIDATION",
      `openPgStore(): cluster.leaseMs must be an integer of at least 1000, got ${String(leaseMs)}.`,
    );
  }
  return { nodeId, leaseMs };
}

/**
 * Connects to the database at `options.url`, takes the one-engine lock (unless `exclusive` is
 * `false`), applies pending migrations (serialized across processes) and returns the store.
 *
 * Rejects with `VALIDATION` (bad options or URL), `CONFLICT` when another engine's store holds
 * the database (it is given a moment to let go, in case its process was just killed),
 * `INTERNAL` naming the problem and the fix when the server cannot be reached or refuses the
 * login, or when the database is newer than this package or a migration fails (nothing of it is
 * kept).
 */
export function openPgStore(options: OpenPgStoreOptions): Promise<PgStore> {
  return openPgStoreWith(options, PG_MIGRATIONS);
}

/** {@link openPgStore} with an explicit migration list (this package's tests). */
export async function openPgStoreWith(
  options: OpenPgStoreOptions,
  migrations: readonly Migration[],
): Promise<PgStore> {
  const { exclusive, ...settings } = readOptions(options);
  const lock = exclusive
    ? await EngineLock.acquire({
        url: settings.url,
        target: settings.target,
        connectTimeoutMs: settings.connectTimeoutMs,
      })
    : null;
  const sessionOptions: string[] = [];
  // A listening store names itself on every connection: the event trigger tags what it writes,
  // so its own events are not delivered twice.
  if (settings.listen !== null)
    sessionOptions.push(`-c promenade.origin=${settings.listen.origin}`);
  // A cluster node frozen or cut off in the middle of a transaction must not keep its run rows
  // locked (another node could never take those runs over): the server ends a transaction left
  // idle for as long as a lease.
  if (settings.cluster !== null) {
    sessionOptions.push(
      `-c idle_in_transaction_session_timeout=${String(settings.cluster.leaseMs)}`,
    );
  }
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.maxConnections,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: "promenade",
    ...(sessionOptions.length === 0 ? {} : { options: sessionOptions.join(" ") }),
  });
  // A server that goes away makes idle and checked-out clients emit "error": the pool drops
  // the broken client and the next query reconnects; unhandled, the event would crash the
  // process.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  try {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw (
        connectionFailure(error, settings.target, true) ??
        new EngineError(
          "INTERNAL",
          `Cannot connect to PostgreSQL at ${settings.target.label}: ${messageOf(error)}.`,
          "Check PROMENADE_DATABASE_URL and that the server is running.",
          { cause: error },
        )
      );
    }
    try {
      await migratePg(client, migrations, {
        now: settings.now,
        label: `${settings.target.label}/${settings.target.database ?? ""}`,
      });
      await fillMissingHashes(client);
    } catch (error) {
      client.release(true);
      throw isEngineError(error)
        ? error
        : (connectionFailure(error, settings.target, true) ?? error);
    }
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    await lock?.release();
    throw error;
  }
  const store = new PgStoreImpl(pool, settings, lock);
  try {
    await store.startFeed();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw connectionFailure(error, settings.target, true) ?? error;
  }
  return store;
}

function messageOf(error: unknown): string {
  const found = driverError(error);
  if (found !== undefined && found.message !== "") return found.message;
  return error instanceof Error ? error.message : String(error);
}
