/**
 * Throwaway PostgreSQL servers for tests and benches: `startPostgres()` creates a cluster in a
 * fresh temp directory with the machine's PostgreSQL binaries, starts it on a free loopback port
 * and hands back its URL plus controls to stop, start, pause and destroy it. `initdb` refuses to
 * run as root, so as root the cluster belongs to the `postgres` system user; otherwise it
 * belongs to the current user. Nothing here needs vitest; `postgresGlobalSetup` has the shape of
 * a vitest `globalSetup` export (one cluster per test run, one database per test).
 *
 * Invariants: the server listens on 127.0.0.1 only; its superuser authenticates over TCP with a
 * random password (so wrong-password paths are real); everything lives under one temp directory
 * that `destroy()` removes (or a watchdog, when this process dies without calling it).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** A running (or stopped) throwaway PostgreSQL server. */
export interface PostgresServer {
  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres` (the maintenance database). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The superuser (`postgres`). */
  readonly user: string;
  readonly password: string;
  /** The cluster's data directory. */
  readonly dataDir: string;
  /** The directory holding the server's log (`postgres.log`) and data; removed by `destroy()`. */
  readonly dir: string;
  /** The postmaster's pid (its process group holds every server process), while running. */
  readonly pid: number | undefined;
  /** `CREATE DATABASE` (a fresh random name when absent); returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Fast shutdown (open connections are terminated); the data and the port are kept. */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** `stop()` then `start()`. */
  restart(): Promise<void>;
  /** The database goes away for `ms`: `stop()`, wait, `start()`. */
  outage(ms: number): Promise<void>;
  /**
   * Freezes the postmaster and every backend (SIGSTOP) for `ms`, then thaws them: connections
   * stay open but nothing answers, like a host that stopped responding.
   */
  pause(ms: number): Promise<void>;
  /** The tail of the server log (diagnostics for failing tests). */
  logTail(lines?: number): string;
  /** Stops the server immediately and removes its directory. Idempotent. */
  destroy(): Promise<void>;
}

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /**
   * Keep PostgreSQL's durability settings (fsync, synchronous commit). Default `false`: tests
   * trade crash safety of the throwaway cluster for speed; benches pass `true`.
   */
  durable?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

const READY_TIMEOUT_MS = 30_000;

/** The directory holding `initdb` and `postgres`, or a clear error when PostgreSQL is missing. */
export function findPostgresBinaries(): string {
  const has = (dir: string): boolean =>
    existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"));
  const override = process.env.PROMENADE_POSTGRES_BIN;
  if (override !== undefined && override !== "") {
    if (has(override)) return override;
    throw new Error(
      `PROMENADE_POSTGRES_BIN=${override} does not contain initdb and postgres. Point it at PostgreSQL's bin directory or unset it.`,
    );
  }
  // Debian keeps the server binaries off PATH, one directory per major version: newest first.
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const dir = join(debian, version, "bin");
      if (has(dir)) return dir;
    }
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && has(dir)) return dir;
  }
  throw new Error(
    "PostgreSQL is not installed: no initdb/postgres in /usr/lib/postgresql/*/bin or on PATH. Install it (Debian: apt-get install postgresql) or set PROMENADE_POSTGRES_BIN to its bin directory.",
  );
}

/** The uid/gid to run the cluster as: the `postgres` user when we are root, else ourselves. */
function clusterOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      "Running as root, but there is no postgres system user to own the test cluster (initdb refuses root). Install Debian's postgresql package, or run the tests as a normal user.",
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The postmaster `pid` and its children (backends and helpers), from /proc. */
function serverProcesses(pid: number): number[] {
  const pids = [pid];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // After the parenthesised command: state, ppid, …
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no server log)";
  }
}

// Runs beside each cluster as its owner and holds the read end of a pipe from this process.
// When this process goes away — however it ends, SIGKILL included — the pipe closes, and the
// watchdog stops the cluster (thawing it first, in case it was paused) and removes its directory.
const WATCHDOG = `cat >/dev/null
pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then
  kill -CONT "$pid" 2>/dev/null
  for backend in $(ps -o pid= --ppid "$pid" 2>/dev/null); do kill -CONT "$backend" 2>/dev/null; done
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
rm -rf "$1"`;

/**
 * Creates a cluster in a fresh temp directory and starts it on a free loopback port. Throws
 * (with the server log's tail) when PostgreSQL is missing or will not start.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBinaries();
  const owner = clusterOwner();
  const dir = mkdtempSync(join(tmpdir(), "promenade-pg-"));
  const dataDir = join(dir, "data");
  const logPath = join(dir, "postgres.log");
  const password = randomBytes(12).toString("hex");
  const user = "postgres";
  const host = "127.0.0.1";
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let port = 0;
  let destroyed = false;

  let watchdog: ChildProcess | undefined;
  const kill = (): void => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      signalAll(serverProcesses(child.pid), "SIGCONT");
      child.kill("SIGQUIT");
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const launch = async (): Promise<void> => {
    const settings: Record<string, string | number> = {
      listen_addresses: host,
      port,
      unix_socket_directories: dir,
      max_connections: 200,
      ...(options.durable === true
        ? {}
        : { fsync: "off", synchronous_commit: "off", full_page_writes: "off" }),
      ...options.settings,
    };
    const args = ["-D", dataDir];
    for (const [name, value] of Object.entries(settings))
      args.push("-c", `${name}=${String(value)}`);
    const logFd = openSync(logPath, "a");
    const proc = spawn(join(bin, "postgres"), args, {
      stdio: ["ignore", logFd, logFd],
      // Not in this process's group: a Ctrl-C meant for the test runner must not reach it.
      detached: true,
      ...(owner ?? {}),
    });
    closeSync(logFd);
    child = proc;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const { Client } = (await import("pg")).default;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `PostgreSQL exited during startup on port ${String(port)}:\n${tail(logPath, 15)}`,
        );
      }
      const client = new Client({
        host,
        port,
        user,
        password,
        database: "postgres",
        connectionTimeoutMillis: 2_000,
      });
      client.on("error", () => undefined);
      try {
        await client.connect();
        await client.query("SELECT 1");
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) {
        kill();
        throw new Error(
          `PostgreSQL did not accept connections within ${String(READY_TIMEOUT_MS)} ms:\n${tail(logPath, 15)}`,
        );
      }
      await sleep(50);
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc?.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    signalAll(serverProcesses(proc.pid), "SIGCONT");
    proc.kill("SIGINT");
    await exited;
  };

  try {
    if (owner !== undefined) {
      chownSync(dir, owner.uid, owner.gid);
    }
    chmodSync(dir, 0o700);
    watchdog = spawn("sh", ["-c", WATCHDOG, "promenade-pg-watchdog", dir], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
      ...(owner ?? {}),
    });
    watchdog.on("error", () => undefined);
    watchdog.stdin?.on("error", () => undefined);
    // Neither the watchdog nor its pipe keeps this process alive.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    const pwfile = join(dir, "pwfile");
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (owner !== undefined) chownSync(pwfile, owner.uid, owner.gid);
    const init = spawnSync(
      join(bin, "initdb"),
      [
        "-D",
        dataDir,
        "-U",
        user,
        `--pwfile=${pwfile}`,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
        "--no-instructions",
      ],
      { encoding: "utf8", ...(owner ?? {}) },
    );
    rmSync(pwfile, { force: true });
    if (init.status !== 0) {
      throw new Error(
        `initdb failed (${init.error?.message ?? `exit ${String(init.status)}`}):\n${init.stderr}`,
      );
    }
    // Another process may take the free port between the probe and the bind: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch();
        break;
      } catch (error) {
        await stop();
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    kill();
    watchdog?.stdin?.end();
    throw error;
  }

  const urlFor = (database: string): string =>
    `postgres://${user}:${password}@${host}:${String(port)}/${database}`;

  return {
    get url() {
      return urlFor("postgres");
    },
    host,
    get port() {
      return port;
    },
    user,
    password,
    dataDir,
    dir,
    get pid() {
      return child !== undefined && child.exitCode === null && child.signalCode === null
        ? child.pid
        : undefined;
    },
    createDatabase: (name) => createDatabase(urlFor("postgres"), name),
    stop,
    start: async () => {
      if (destroyed) throw new Error("This PostgreSQL server was destroyed.");
      if (child !== undefined && child.exitCode === null && child.signalCode === null) return;
      await launch();
    },
    restart: async () => {
      await stop();
      await launch();
    },
    outage: async (ms) => {
      await stop();
      await sleep(ms);
      await launch();
    },
    pause: async (ms) => {
      const pid = child?.pid;
      if (pid === undefined) throw new Error("The PostgreSQL server is not running.");
      // Backends run in sessions of their own: each is stopped by pid, not by group.
      const frozen = serverProcesses(pid);
      signalAll(frozen, "SIGSTOP");
      try {
        await sleep(ms);
      } finally {
        signalAll([...new Set([...frozen, ...serverProcesses(pid)])], "SIGCONT");
      }
    },
    logTail: (lines = 30) => tail(logPath, lines),
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      const proc = child;
      if (proc?.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
        signalAll(serverProcesses(proc.pid), "SIGCONT");
        proc.kill("SIGQUIT");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
      watchdog?.stdin?.end();
    },
  };
}

let databaseCounter = 0;

/**
 * Creates a database on the server at `adminUrl` (a fresh random name when `name` is absent)
 * and returns the URL of the new database.
 */
export async function createDatabase(adminUrl: string, name?: string): Promise<string> {
  const database =
    name ??
    `test_${String(process.pid)}_${String(++databaseCounter)}_${randomBytes(3).toString("hex")}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) {
    throw new Error(`createDatabase: ${JSON.stringify(database)} is not a plain lowercase name.`);
  }
  const { Client } = (await import("pg")).default;
  const client = new Client({ connectionString: adminUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The key under which {@link postgresGlobalSetup} provides the cluster's maintenance URL. */
export const POSTGRES_URL_KEY = "promenadePostgresUrl";

/**
 * A vitest `globalSetup` export: starts one cluster for the whole test run (or uses the server
 * named by `PROMENADE_TEST_POSTGRES_URL`), provides its maintenance URL under
 * {@link POSTGRES_URL_KEY}, and destroys it after the run. Tests call `createDatabase(url)` for
 * a database of their own. Wire it with a one-line setup file:
 * `export { postgresGlobalSetup as default } from "@promenade/store/testing";`.
 */
export async function postgresGlobalSetup(project: {
  provide(key: typeof POSTGRES_URL_KEY, value: string): void;
}): Promise<() => Promise<void>> {
  const external = process.env.PROMENADE_TEST_POSTGRES_URL;
  if (external !== undefined && external !== "") {
    project.provide(POSTGRES_URL_KEY, external);
    return () => Promise.resolve();
  }
  const server = await startPostgres();
  project.provide(POSTGRES_URL_KEY, server.url);
  return () => server.destroy();
}
