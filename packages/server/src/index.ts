/**
 * `@promenade/server`: the HTTP surface of a Promenade engine — JSON API, webhooks, WebSocket
 * event channel and run-log UI. The public API is exactly the names re-exported here.
 */
export { createPromenadeServer } from "./server.ts";
export type { PromenadeServer, PromenadeServerOptions, SkippedWorkflowFile } from "./server.ts";
export { isLoopbackHost } from "./internal/security.ts";
export { webhookEnvVarName } from "./webhooks.ts";
export { bundleWorkflow } from "./bundle.ts";
export { buildTrace, TRACE_MAX_SPANS } from "./trace/build-trace.ts";
export type { TraceInput } from "./trace/build-trace.ts";
export { TraceBuilder } from "./trace/builder.ts";
export { TRACE_MAX_CHILDREN, TRACE_SCAN_BUDGET } from "./routes/trace.ts";
export type {
  SpanAttributes,
  SpanKind,
  SpanStatus,
  Trace,
  TraceChildRun,
  TraceCoverage,
  TraceRun,
  TraceSpan,
  TraceTotals,
} from "./trace/span.ts";
export {
  API_TOKEN_MIN_LENGTH,
  DEFAULT_HOST,
  DEFAULT_PORT,
  EVENTS_DEFAULT_LIMIT,
  EVENTS_MAX_LIMIT,
  EVENTS_MAX_SCAN,
  HEALTHZ_PING_TIMEOUT_MS,
  MAX_BODY_BYTES,
  MAX_DEPLOY_BODY_BYTES,
  RUNS_DEFAULT_LIMIT,
  RUNS_MAX_LIMIT,
  SHUTDOWN_CHILD_GRACE_MS,
  SHUTDOWN_DEADLINE_MS,
  SHUTDOWN_HTTP_GRACE_MS,
  WS_FEED_SNAPSHOT_MAX,
  WS_HEARTBEAT_MS,
  WS_HIGH_WATER,
  WS_LOW_WATER,
  WS_MAX_CONNECTIONS,
  WS_MAX_MESSAGE_BYTES,
  WS_MAX_SUBSCRIPTIONS,
  WS_PAGE,
  WS_PROTOCOL,
  WS_PUMP_INTERVAL_MS,
  WS_SLOW_CONSUMER_MS,
} from "./constants.ts";
export type {
  ArtifactRow,
  AuthorizeMcpServer,
  AuthorizeMcpServerOptions,
  Awaitable,
  ClusterNodeState,
  EngineApi,
  EventRow,
  JsonValue,
  ListRunsQuery,
  PublishedEvent,
  RunErrorShape,
  RunEvent,
  RunRow,
  RunDelivery,
  RunStatus,
  StartRunOnceOptions,
  Trigger,
  TriggerKind,
  WorkflowManifest,
  WorkflowRow,
} from "./ports.ts";
