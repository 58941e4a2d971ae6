/**
 * The API's route table: every path the server answers, its methods and their handlers, built
 * from the route modules of this directory. Order does not matter: no two patterns match the same
 * path. The WebSocket upgrade of `/api/ws` is not a route (see `pipeline/upgrade.ts`).
 */
import type { CostLedger } from "../cost-ledger.ts";
import type { Metrics } from "../internal/metrics.ts";
import type { Route } from "../pipeline/route.ts";
import { wsNotUpgrade } from "../pipeline/upgrade.ts";
import type { AuthorizeMcpServer, EngineApi } from "../ports.ts";
import type { SkippedWorkflowFile } from "../server.ts";
import type { UiAsset } from "../ui-assets.ts";
import type { WsChannel } from "../ws-channel.ts";
import { backupRoute } from "./admin.ts";
import { artifactRoutes } from "./artifacts.ts";
import { deployRoute } from "./deploy.ts";
import { eventsRoute } from "./events.ts";
import { healthRoute } from "./health.ts";
import { inputRoutes } from "./inputs.ts";
import { mcpRoutes } from "./mcp.ts";
import { metricsRoute } from "./metrics.ts";
import { runRoutes } from "./runs.ts";
import { traceRoute } from "./trace.ts";
import { uiFileRoute } from "./ui.ts";
import { undeployRoute } from "./undeploy.ts";
import { webhookRoute } from "./webhooks.ts";
import { workflowRoutes } from "./workflows.ts";

/** What the routes need besides the engine: the server's parts and options. */
export interface RouteTableDeps {
  metrics: Metrics;
  ledger: CostLedger;
  ws: WsChannel;
  assets: ReadonlyMap<string, UiAsset>;
  log: (line: string) => void;
  /** True once the server is shutting down. */
  draining: () => boolean;
  /** The API token; behind one, input answers are recorded as given by `"api"`. */
  apiToken: string | undefined;
  version: string;
  deployApi: boolean;
  env: () => Record<string, string | undefined>;
  skippedWorkflows: (() => readonly SkippedWorkflowFile[]) | undefined;
  authorizeMcpServer: AuthorizeMcpServer | undefined;
}

/** The route table over `engine`. */
export function routeTable(engine: EngineApi, deps: RouteTableDeps): Route[] {
  const { metrics, ledger, ws, assets, log, draining, apiToken } = deps;
  const workflows = workflowRoutes(engine, { skippedWorkflows: deps.skippedWorkflows });
  const runs = runRoutes(engine, { ledger, log });
  const artifacts = artifactRoutes(engine, log);
  const inputs = inputRoutes(engine, apiToken === undefined ? {} : { respondedBy: "api" });
  const mcp = mcpRoutes(deps.authorizeMcpServer, log);

  return [
    { template: "/", pattern: [], methods: { GET: uiFileRoute(assets, "index.html") } },
    { template: "/ui/:file", pattern: ["ui", null], methods: { GET: uiFileRoute(assets, "") } },
    {
      template: "/healthz",
      pattern: ["healthz"],
      methods: { GET: healthRoute(engine, { log, draining }) },
    },
    {
      template: "/metrics",
      pattern: ["metrics"],
      methods: { GET: metricsRoute(engine, { metrics, ws, version: deps.version }) },
    },
    {
      template: "/api/admin/backup",
      pattern: ["api", "admin", "backup"],
      methods: { POST: backupRoute(engine) },
    },
    {
      template: "/api/workflows",
      pattern: ["api", "workflows"],
      methods: {
        GET: workflows.list,
        POST: deployRoute(engine, { metrics, deployApi: deps.deployApi }),
      },
    },
    {
      template: "/api/workflows/:slug",
      pattern: ["api", "workflows", null],
      methods: { GET: workflows.get, DELETE: undeployRoute(engine, { deployApi: deps.deployApi }) },
    },
    {
      template: "/api/workflows/:slug/source",
      pattern: ["api", "workflows", null, "source"],
      methods: { GET: workflows.source },
    },
    {
      template: "/api/workflows/:slug/versions",
      pattern: ["api", "workflows", null, "versions"],
      methods: { GET: workflows.versions },
    },
    {
      template: "/api/workflows/:slug/runs",
      pattern: ["api", "workflows", null, "runs"],
      methods: { POST: runs.start },
    },
    { template: "/api/runs", pattern: ["api", "runs"], methods: { GET: runs.list } },
    { template: "/api/inputs", pattern: ["api", "inputs"], methods: { GET: inputs.listPending } },
    {
      template: "/api/runs/:id/inputs",
      pattern: ["api", "runs", null, "inputs"],
      methods: { GET: inputs.listOfRun },
    },
    {
      template: "/api/runs/:id/inputs/:key",
      pattern: ["api", "runs", null, "inputs", null],
      methods: { POST: inputs.answer },
    },
    { template: "/api/runs/:id", pattern: ["api", "runs", null], methods: { GET: runs.get } },
    {
      template: "/api/runs/:id/events",
      pattern: ["api", "runs", null, "events"],
      methods: { GET: eventsRoute(engine) },
    },
    {
      template: "/api/runs/:id/trace",
      pattern: ["api", "runs", null, "trace"],
      methods: { GET: traceRoute(engine) },
    },
    {
      template: "/api/runs/:id/cancel",
      pattern: ["api", "runs", null, "cancel"],
      methods: { POST: runs.cancel },
    },
    {
      template: "/api/runs/:id/stream",
      pattern: ["api", "runs", null, "stream"],
      methods: { GET: runs.stream },
    },
    {
      template: "/api/runs/:id/artifacts",
      pattern: ["api", "runs", null, "artifacts"],
      methods: { GET: artifacts.list },
    },
    {
      template: "/api/runs/:id/artifacts/:name",
      pattern: ["api", "runs", null, "artifacts", null],
      methods: { GET: artifacts.get },
    },
    { template: "/api/ws", pattern: ["api", "ws"], methods: { GET: wsNotUpgrade } },
    {
      template: "/api/mcp/authorizations",
      pattern: ["api", "mcp", "authorizations"],
      methods: { POST: mcp.start },
    },
    {
      template: "/api/mcp/authorizations/:id",
      pattern: ["api", "mcp", "authorizations", null],
      methods: { GET: mcp.get },
    },
    {
      template: "/hooks/:slug/:index",
      pattern: ["hooks", null, null],
      methods: { POST: webhookRoute(engine, { metrics, env: deps.env }) },
    },
  ];
}
