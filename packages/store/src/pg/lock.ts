/**
 * One engine per PostgreSQL database: a session-level advisory lock on a fixed key, taken on a
 * dedicated connection (outside the pool) when the store opens and held for its lifetime. A
 * second store opening the same database is refused with `CONFLICT`, as SQLite refuses a second
 * process on its file. The lock belongs to the session, so it ends with the connection: on
 * `close()`, and when the holder dies — at once for a killed process (its socket closes), within
 * about 30 s for a host that vanished (the session's TCP keepalives are shortened for that).
 *
 * Invariants: the lock connection never runs anything but this lock; if it is lost (the server
 * restarted, the network dropped) the lock is taken again in the background as soon as the
 * server answers, and while another engine holds it instead, `problem` says so (the store's
 * `ping` reports it). A cluster of engines sharing one database opens with `exclusive: false`.
 */
import pg from "pg";
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import { connectionFailure, type PgTarget } from "./connect.ts";

/** The advisory lock key: the ASCII bytes of "promenad" as one bigint. */
const LOCK_KEY = "8102661195236794724";
/** The same key as `pg_locks` shows it: high and low 32 bits. */
const LOCK_CLASSID = 1886547821;
const LOCK_OBJID = 1701732708;
/**
 * How long an opener keeps trying while the lock is held. A holder that was just killed may keep
 * it for a moment, until PostgreSQL has ended its session.
 */
const HOLDER_GRACE_MS = 2_000;
const RETRY_MS = 100;
/** Pause between attempts to take the lock again after its connection was lost. */
const RELOCK_MS = 1_000;
/** Longest wait for the lock connection to end on release. */
const END_TIMEOUT_MS = 2_000;

/**
 * Session settings of the lock connection, applied when the server knows them: never time the
 * idle session out, and notice a vanished client within about 30 s instead of hours.
 */
const SESSION_SETTINGS = `SELECT set_config(s.name, s.value, false)
  FROM (VALUES ('idle_session_timeout', '0'), ('tcp_keepalives_idle', '10'),
               ('tcp_keepalives_interval', '5'), ('tcp_keepalives_count', '4')) AS s(name, value)
  WHERE s.name IN (SELECT name FROM pg_settings)`;

const HOLDER = `SELECT a.pid, a.client_addr::text AS client, a.application_name AS application
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${String(LOCK_CLASSID)}
    AND l.objid = ${String(LOCK_OBJID)} AND l.objsubid = 1 AND l.database = (
      SELECT oid FROM pg_database WHERE datname = current_database())`;

/** Where the lock is taken, and how to connect. */
export interface EngineLockTarget {
  url: string;
  target: PgTarget;
  connectTimeoutMs: number;
}

/** The held lock of one open store. */
export class EngineLock {
  readonly #options: EngineLockTarget;
  #client: pg.Client | null;
  #released = false;
  #relock: NodeJS.Timeout | undefined;
  #problem: EngineError | undefined;

  private constructor(options: EngineLockTarget, client: pg.Client) {
    this.#options = options;
    this.#client = client;
    this.#watch(client);
  }

  /**
   * Takes the lock on a new connection, trying for a short while when another session holds it.
   * Rejects `CONFLICT` when another engine keeps holding it, `INTERNAL` when the server cannot be
   * reached (the connection is ended either way).
   */
  static async acquire(options: EngineLockTarget): Promise<EngineLock> {
    const client = await connect(options);
    try {
      const deadline = Date.now() + HOLDER_GRACE_MS;
      for (;;) {
        if (await tryLock(client)) return new EngineLock(options, client);
        if (Date.now() >= deadline) throw await conflict(client, options.target);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    } catch (error) {
      await end(client);
      throw isEngineError(error)
        ? error
        : (connectionFailure(error, options.target, true) ?? error);
    }
  }

  /** Set while the lock is lost and another engine holds it; `undefined` otherwise. */
  get problem(): EngineError | undefined {
    return this.#problem;
  }

  /** Ends the lock connection (and with it the lock). Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#relock);
    const client = this.#client;
    this.#client = null;
    if (client !== null) await end(client);
  }

  #watch(client: pg.Client): void {
    const lost = (): void => {
      if (this.#client !== client) return;
      this.#client = null;
      void end(client);
      this.#scheduleRelock();
    };
    client.on("error", lost);
    client.on("end", lost);
  }

  #scheduleRelock(): void {
    if (this.#released) return;
    this.#relock = setTimeout(() => void this.#relockOnce(), RELOCK_MS);
    // A store that is never closed must not keep its process alive for this.
    this.#relock.unref();
  }

  async #relockOnce(): Promise<void> {
    let client: pg.Client;
    try {
      client = await connect(this.#options);
    } catch {
      // The server is still away; the pool reports that on every call.
      this.#scheduleRelock();
      return;
    }
    try {
      if (!this.#released && (await tryLock(client))) {
        if (this.#released) {
          // Released while the lock was being taken: give it back with the connection.
          await end(client);
          return;
        }
        this.#problem = undefined;
        this.#client = client;
        this.#watch(client);
        return;
      }
      if (!this.#released) this.#problem = await conflict(client, this.#options.target, true);
    } catch {
      // Lost again while asking: try later.
    }
    await end(client);
    this.#scheduleRelock();
  }
}

async function connect(options: EngineLockTarget): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: options.url,
    connectionTimeoutMillis: options.connectTimeoutMs,
    keepAlive: true,
    application_name: "promenade (engine lock)",
  });
  // Until the lock is watched, a broken connection surfaces through the failing query.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query(SESSION_SETTINGS);
    return client;
  } catch (error) {
    await end(client);
    throw (
      connectionFailure(error, options.target, true) ??
      new EngineError(
        "INTERNAL",
        `Cannot connect to PostgreSQL at ${options.target.label}: ${error instanceof Error ? error.message : String(error)}.`,
        "Check PROMENADE_DATABASE_URL and that the server is running.",
        { cause: error },
      )
    );
  }
}

async function tryLock(client: pg.Client): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>(
    "SELECT pg_try_advisory_lock($1::bigint) AS locked",
    [LOCK_KEY],
  );
  return result.rows[0]?.locked === true;
}

/** The `CONFLICT` error, naming the holding session when the server lets us see it. */
async function conflict(client: pg.Client, target: PgTarget, lost = false): Promise<EngineError> {
  let holder = "";
  try {
    const { rows } = await client.query<{
      pid: number | null;
      client: string | null;
      application: string | null;
    }>(HOLDER);
    const row = rows[0];
    if (row?.pid !== undefined && row.pid !== null) {
      const from = row.client === null ? "" : `, client ${row.client}`;
      holder = ` (held by PostgreSQL backend ${String(row.pid)}${from})`;
    }
  } catch {
    // The holder is a detail of the message; the refusal stands without it.
  }
  const database = `${target.label}/${target.database ?? ""}`;
  const what = lost
    ? `This store lost its hold on database ${database} and another Promenade engine now holds it${holder}`
    : `Database ${database} is already in use by another Promenade engine${holder}`;
  return new EngineError(
    "CONFLICT",
    `${what}; two engines on one database are unsupported.`,
    "Stop the other engine using this database, or give this one its own database. A killed engine's hold ends as soon as PostgreSQL sees its connection close.",
  );
}

/** Ends `client`, waiting at most {@link END_TIMEOUT_MS} (a dead connection may never answer). */
async function end(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, END_TIMEOUT_MS);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
