/**
 * Where an engine keeps its state: the SQLite file in the data dir (synchronous, the default) or
 * a PostgreSQL database named by a `postgres://` URL (asynchronous). Opening either is this
 * file's one job; the PostgreSQL driver is imported only when a URL asks for it, so SQLite users
 * never load it. Invariants: a bad URL is refused before anything is created; a store that
 * cannot be reached leaves nothing behind; both stores are checked here, at compile time,
 * against every port the engine wires them into.
 */
import { join } from "node:path";
import { openStore } from "@promenade/store";
import type { AsyncStore, PublishedEvent, Store } from "@promenade/store";
import type { ClusterStore } from "@promenade/store/pg";
import type { SchedulerStore } from "@promenade/scheduler";
import type { SupervisorStore } from "@promenade/supervisor";
import { EngineError } from "@promenade/workflow/errors";

/** The engine's store: SQLite (`sync` set, every call returns a value) or PostgreSQL. */
export interface Backend {
  /** `"sqlite"` or `"postgres"`. */
  readonly kind: "sqlite" | "postgres";
  /** The store, on either backend. */
  readonly store: AsyncStore;
  /** The same store typed as the synchronous SQLite store; `null` on PostgreSQL. */
  readonly sync: Store | null;
  /** Names the database in messages (`<dataDir>/promenade.db` or `PostgreSQL at host:port`). */
  readonly label: string;
  /** The cluster side of a PostgreSQL store opened in cluster mode; `null` otherwise. */
  readonly cluster: ClusterStore | null;
}

/** What opening a backend needs from the engine's options. */
export interface BackendSettings {
  dataDir: string;
  now: () => number;
  log: (line: string) => void;
}

/** The consumer ports, as the engine hands the store to each consumer. */
export interface StorePorts {
  supervisor: SupervisorStore;
  scheduler: SchedulerStore;
}

/**
 * The store typed as each consumer's port. Spelled out so that a port that drifts from the
 * stores fails to compile right here: both stores are `AsyncStore`s (the SQLite `Store` is
 * checked where {@link openSqlite} returns it, the PostgreSQL store where it is opened).
 */
export function portsOf(store: AsyncStore): StorePorts {
  return { supervisor: store, scheduler: store };
}

function listenerError(log: (line: string) => void) {
  return (error: unknown, row: PublishedEvent): void => {
    log(
      `event listener threw for run ${row.runId} (cursor ${row.cursor}): ${error instanceof Error ? error.message : String(error)}`,
    );
  };
}

/** Opens (creates, migrates) `<dataDir>/promenade.db`. Synchronous. */
export function openSqlite(settings: BackendSettings): Backend {
  const path = join(settings.dataDir, "promenade.db");
  const store: Store = openStore({
    path,
    now: settings.now,
    onListenerError: listenerError(settings.log),
  });
  const asAsync: AsyncStore = store;
  return { kind: "sqlite", store: asAsync, sync: store, label: path, cluster: null };
}

/** True when `url` selects PostgreSQL (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Opens the PostgreSQL store at `url` (connects, applies migrations). Rejects `VALIDATION` for a
 * URL that is not `postgres://`/`postgresql://` or is malformed, `INTERNAL` (one line naming the
 * problem and the fix) when the server cannot be reached or refuses the login.
 */
export async function openPostgres(
  url: string,
  settings: BackendSettings & { cluster?: { nodeId: string; leaseMs: number } | null },
): Promise<Backend> {
  if (typeof url !== "string" || !isPostgresUrl(url)) {
    throw new EngineError(
      "VALIDATION",
      'Engine option "databaseUrl" must start with postgres:// or postgresql://.',
      "Pass postgres://user:password@host:5432/database, or leave databaseUrl out for SQLite in the data dir.",
    );
  }
  const { openPgStore } = await import("@promenade/store/pg");
  const store = await openPgStore({
    url,
    now: settings.now,
    onListenerError: listenerError(settings.log),
    ...(settings.cluster == null ? {} : { cluster: settings.cluster }),
  });
  const asAsync: AsyncStore = store;
  return {
    kind: "postgres",
    store: asAsync,
    sync: null,
    label: `PostgreSQL (${hostOf(url)})`,
    cluster: store.cluster,
  };
}

/** `host:port` of a URL, never its credentials. */
function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port === "" ? "5432" : parsed.port}${parsed.pathname}`;
  } catch {
    return "invalid URL";
  }
}
