/**
 * `GET /healthz`: 200 `{ status: "ok" }` when the database answers a ping in time, 503
 * `{ status: "unavailable", reason: "database" }` when it does not, and 503
 * `{ status: "shutting_down" }` once the server drains. A cluster node adds `node`: its id, the
 * runs it holds and its lease health (age of the last heartbeat the database confirmed). An outage
 * is logged once, and so is the recovery.
 */
import { HEALTHZ_PING_TIMEOUT_MS } from "../constants.ts";
import { messageOf } from "../internal/error-text.ts";
import { sendJson } from "../internal/http.ts";
import type { Handler } from "../pipeline/route.ts";
import type { EngineApi } from "../ports.ts";

/** What the health route needs besides the engine. */
export interface HealthRouteOptions {
  log: (line: string) => void;
  /** True once the server is shutting down. */
  draining: () => boolean;
}

/** The health handler over `engine`. */
export function healthRoute(engine: EngineApi, { log, draining }: HealthRouteOptions): Handler {
  // The database's state as `/healthz` last saw it: an outage is logged once, and so is recovery.
  let databaseDown = false;
  return async ({ res }) => {
    if (draining()) {
      sendJson(res, 503, { status: "shutting_down" });
      return;
    }
    try {
      await withTimeout(
        () => engine.ping(),
        HEALTHZ_PING_TIMEOUT_MS,
        `no answer within ${HEALTHZ_PING_TIMEOUT_MS} ms`,
      );
    } catch (err) {
      if (!databaseDown) log(`health check failed: the database is unavailable: ${messageOf(err)}`);
      databaseDown = true;
      if (draining()) sendJson(res, 503, { status: "shutting_down" });
      else sendJson(res, 503, { status: "unavailable", reason: "database" });
      return;
    }
    if (databaseDown) log("health check: the database is available again");
    databaseDown = false;
    const node = engine.cluster?.() ?? null;
    const cluster =
      node === null
        ? {}
        : {
            node: {
              id: node.nodeId,
              heldRuns: node.heldRuns,
              lastHeartbeatAgeMs: node.lastHeartbeatAgeMs,
              leaseMs: node.leaseMs,
              leaseHealthy: node.leaseHealthy,
              draining: node.draining,
            },
          };
    sendJson(
      res,
      draining() ? 503 : 200,
      draining() ? { status: "shutting_down", ...cluster } : { status: "ok", ...cluster },
    );
  };
}

/** `fn()`, failing with `message` when it has not settled within `ms`. */
async function withTimeout<T>(fn: () => T | Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      new Promise<T>((resolve) => resolve(fn())),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
