/**
 * `createPromenadeServer`: the HTTP server in front of an `EngineApi`, composed from the request
 * pipeline (`pipeline/`: draining → Host guard → API token → Origin guard → route → handler, and
 * the WebSocket upgrade), the route table and its handlers by resource (`routes/`) and the engine
 * listener (`event-fan-out.ts`); this file wires them and owns listen and close.
 * Every engine call is awaited (an engine may answer with values or promises) and a failed one maps
 * to the same HTTP error either way; a database outage is a 500 per request and `/healthz` 503,
 * never a crash. Never runs SQL or workflow code, never reads `process.env`, and never sends a
 * path, stack or credential to a client.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import { EngineError } from "@promenade/workflow/errors";
import { DEFAULT_HOST, SHUTDOWN_HTTP_GRACE_MS, WS_HEARTBEAT_MS } from "./constants.ts";
import { CostLedger } from "./cost-ledger.ts";
import { subscribeEventFanOut } from "./event-fan-out.ts";
import { clientErrorListener } from "./internal/client-faults.ts";
import { Metrics } from "./internal/metrics.ts";
import { isLoopbackHost } from "./internal/security.ts";
import { createGuard } from "./pipeline/guard.ts";
import { createRequestHandler } from "./pipeline/request.ts";
import { createUpgradeHandler } from "./pipeline/upgrade.ts";
import type { AuthorizeMcpServer, EngineApi } from "./ports.ts";
import { routeTable } from "./routes/table.ts";
import { loadUiAssets } from "./ui-assets.ts";
import { WsChannel } from "./ws-channel.ts";

/** A workflows-directory file that was not deployed, and why. */
export interface SkippedWorkflowFile {
  /** The file or package directory name inside the workflows directory. */
  file: string;
  error: string;
}

/** Options of {@link createPromenadeServer}; every field is optional. */
export interface PromenadeServerOptions {
  /** Bind host used by `listen` when none is passed. Default `"127.0.0.1"`. */
  host?: string;
  /** Enables bearer auth on `/api/*`, `/api/ws` and `/metrics` (≥ 32 characters recommended). */
  apiToken?: string;
  /** Extra exact origins accepted by the Origin check (no CORS is ever granted). */
  allowedOrigins?: string[];
  /** `POST /api/workflows` enabled. Default `true`. */
  deployApi?: boolean;
  /** Webhook credential source, read per request. Default `() => ({})` (every webhook 503s). */
  env?: () => Record<string, string | undefined>;
  /** Log sink, one line per call. Default: stderr. */
  log?: (line: string) => void;
  /** Reported as `promenade_build_info{version}`. Default `"0.0.0"`. */
  version?: string;
  /** Boot directory-sync counts, seeding `promenade_deploys_total{source="dir"}`. */
  dirDeploys?: { ok: number; error: number };
  /**
   * The workflows-directory files not deployed, each with its error, read per request and
   * listed by `GET /api/workflows` as `skipped`. Without it the response has no `skipped`.
   */
  skippedWorkflows?: () => readonly SkippedWorkflowFile[];
  /** `Engine.authorizeMcpServer`; enables `/api/mcp/authorizations` (else 400 `UNSUPPORTED`). */
  authorizeMcpServer?: AuthorizeMcpServer;
  /** WebSocket protocol ping interval, ms. Default 30 000 (tests shorten it). */
  wsHeartbeatMs?: number;
  /** Slow-consumer close window, ms. Default 60 000 (tests shorten it). */
  wsSlowConsumerMs?: number;
}

/** A server built by {@link createPromenadeServer}; `listen` binds, `close` drains. */
export interface PromenadeServer {
  /**
   * Bind. Throws `VALIDATION` (before binding) for a non-loopback host without `apiToken`.
   * Resolves with the bound host and the real port (useful with port 0).
   */
  listen(port: number, host?: string): Promise<{ host: string; port: number }>;
  /**
   * Drain: 503 for new requests, close WebSockets with 1001 (terminate
   * after 2 s), let in-flight requests finish for `graceMs` (default 5000), then destroy sockets.
   * Idempotent. Does not close the engine.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  /** The underlying Node server. */
  readonly httpServer: Server;
}

/**
 * Build the HTTP/WebSocket server for an engine. Does not bind (see `listen`), so embedders and
 * tests that never listen pay nothing for the HTTP layer beyond loading the UI assets.
 */
export function createPromenadeServer(
  engine: EngineApi,
  options: PromenadeServerOptions = {},
): PromenadeServer {
  const log =
    options.log ??
    ((line: string): void => {
      process.stderr.write(`${line}\n`);
    });
  const apiToken = options.apiToken === "" ? undefined : options.apiToken;
  const metrics = new Metrics();
  if (options.dirDeploys !== undefined) {
    metrics.deploys.inc({ source: "dir", outcome: "ok" }, options.dirDeploys.ok);
    metrics.deploys.inc({ source: "dir", outcome: "error" }, options.dirDeploys.error);
  }
  const assets = loadUiAssets();
  let draining = false;
  let closing: Promise<void> | null = null;
  const isDraining = (): boolean => draining;

  const ledger = new CostLedger(engine);
  const ws = new WsChannel({
    engine,
    metrics,
    log,
    heartbeatMs: options.wsHeartbeatMs ?? WS_HEARTBEAT_MS,
    ...(options.wsSlowConsumerMs === undefined ? {} : { slowConsumerMs: options.wsSlowConsumerMs }),
  });
  const unsubscribeEngine = subscribeEventFanOut(engine, { metrics, ledger, ws, log });

  const routes = routeTable(engine, {
    metrics,
    ledger,
    ws,
    assets,
    log,
    draining: isDraining,
    apiToken,
    version: options.version ?? "0.0.0",
    deployApi: options.deployApi ?? true,
    env: options.env ?? ((): Record<string, string | undefined> => ({})),
    skippedWorkflows: options.skippedWorkflows,
    authorizeMcpServer: options.authorizeMcpServer,
  });

  const guard = createGuard({ apiToken, allowedOrigins: options.allowedOrigins ?? [] });
  const handle = createRequestHandler({ routes, guard, metrics, log, draining: isDraining });
  const httpServer = createServer(
    { headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      void handle(req, res);
    },
  );
  httpServer.on("upgrade", createUpgradeHandler({ guard, ws, metrics, log, draining: isDraining }));
  httpServer.on("clientError", clientErrorListener(metrics));

  return {
    httpServer,
    listen(port: number, host?: string): Promise<{ host: string; port: number }> {
      const bindHost = host ?? options.host ?? DEFAULT_HOST;
      if (apiToken === undefined && !isLoopbackHost(bindHost)) {
        return Promise.reject(
          new EngineError(
            "VALIDATION",
            `refusing to listen on ${bindHost} without PROMENADE_API_TOKEN — anyone who can reach it could deploy and run code.`,
            "Set PROMENADE_API_TOKEN (openssl rand -hex 32), or bind to 127.0.0.1.",
          ),
        );
      }
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        httpServer.once("error", onError);
        httpServer.listen(port, bindHost, () => {
          httpServer.off("error", onError);
          const addr = httpServer.address();
          resolve({
            host: bindHost,
            port: typeof addr === "object" && addr !== null ? addr.port : port,
          });
        });
      });
    },
    close(closeOptions?: { graceMs?: number }): Promise<void> {
      if (closing !== null) return closing;
      draining = true;
      const graceMs = closeOptions?.graceMs ?? SHUTDOWN_HTTP_GRACE_MS;
      closing = (async () => {
        unsubscribeEngine();
        const serverClosed = new Promise<void>((resolve) => {
          if (!httpServer.listening) {
            resolve();
            return;
          }
          httpServer.close(() => resolve());
        });
        httpServer.closeIdleConnections();
        await ws.closeAll(1001, "server shutting down", 2000);
        ws.dispose();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          serverClosed,
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              httpServer.closeAllConnections();
              resolve();
            }, graceMs);
          }),
        ]);
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}
