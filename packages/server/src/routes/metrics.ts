/**
 * `GET /metrics`: the Prometheus text exposition of the server's counters, with gauges read at
 * scrape time (runs per non-terminal status, deployed workflows, WebSocket connections and
 * subscriptions, and the retention sweeper's state when the engine has one).
 */
import type { Metrics } from "../internal/metrics.ts";
import { NON_TERMINAL_STATUSES } from "../internal/status.ts";
import type { Handler } from "../pipeline/route.ts";
import type { EngineApi } from "../ports.ts";
import type { WsChannel } from "../ws-channel.ts";

/** What the metrics route needs besides the engine. */
export interface MetricsRouteOptions {
  metrics: Metrics;
  ws: WsChannel;
  /** Reported as `promenade_build_info{version}`. */
  version: string;
}

/** The metrics handler over `engine`. */
export function metricsRoute(
  engine: EngineApi,
  { metrics, ws, version }: MetricsRouteOptions,
): Handler {
  return async ({ res }) => {
    const active = NON_TERMINAL_STATUSES;
    const [counts, workflows] = await Promise.all([
      Promise.all(
        active.map(async (status) => {
          const rows = await engine.listRuns({ statuses: [status], limit: 1_000_000 });
          return rows.length;
        }),
      ),
      engine.listWorkflows(),
    ]);
    const runs: Record<string, number> = {};
    active.forEach((status, i) => (runs[status] = counts[i] ?? 0));
    const text = metrics.render({
      version,
      workflows: workflows.length,
      runs,
      wsConnections: ws.connectionCount,
      wsSubscriptions: ws.subscriptionCounts(),
      retention: engine.retentionStats?.() ?? null,
    });
    res.writeHead(200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    res.end(text);
  };
}
