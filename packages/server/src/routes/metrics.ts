/**
 * `GET /metrics`: the Prometheus text exposition of the server's counters, with gauges read at
 * scrape time (runs per non-terminal status, deployed workflows, WebSocket connections and
 * subscriptions, and the retention sweeper's state when the engine has one).
 */
import type { Metrics } from "../internal/metrics.ts";
import { NON_TERMINAL_STATUSES } from "../internal/status.ts";
import type { Handler } from "../pipeline/route.ts";
import type { ClusterNodeState, EngineApi } from "../ports.ts";
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
    const node = engine.cluster?.() ?? null;
    res.writeHead(200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    res.end(node === null ? text : text + clusterLines(node));
  };
}

/** The cluster node's gauges, labelled with its id. */
function clusterLines(node: ClusterNodeState): string {
  const label = `{node="${node.nodeId.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"}`;
  const age = node.lastHeartbeatAgeMs === null ? "NaN" : String(node.lastHeartbeatAgeMs / 1000);
  return [
    "# HELP promenade_cluster_held_runs Runs this cluster node holds under a lease.",
    "# TYPE promenade_cluster_held_runs gauge",
    `promenade_cluster_held_runs${label} ${String(node.heldRuns)}`,
    "# HELP promenade_cluster_heartbeat_age_seconds Time since the database last confirmed this node's heartbeat.",
    "# TYPE promenade_cluster_heartbeat_age_seconds gauge",
    `promenade_cluster_heartbeat_age_seconds${label} ${age}`,
    "# HELP promenade_cluster_lease_seconds The lease length of this cluster node.",
    "# TYPE promenade_cluster_lease_seconds gauge",
    `promenade_cluster_lease_seconds${label} ${String(node.leaseMs / 1000)}`,
    "# HELP promenade_cluster_lease_healthy 1 while the last heartbeat is younger than the lease.",
    "# TYPE promenade_cluster_lease_healthy gauge",
    `promenade_cluster_lease_healthy${label} ${node.leaseHealthy ? "1" : "0"}`,
    "# HELP promenade_cluster_draining 1 while this node drains (claims no new runs).",
    "# TYPE promenade_cluster_draining gauge",
    `promenade_cluster_draining${label} ${node.draining ? "1" : "0"}`,
    "",
  ].join("\n");
}
