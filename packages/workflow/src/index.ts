/**
 * `@promenade/workflow`: the author API, manifest schema and run-event wire format.
 * The only door in: named re-exports, nothing else. Importing it does no work: the
 * primitives load no zod, and every exported schema is built (and zod loaded) on first use.
 */
export {
  agent,
  artifacts,
  humanInput,
  output,
  parallel,
  phase,
  Phase,
  secrets,
  sleep,
  workflows,
} from "./primitives.ts";
export { config, input } from "./internal/state.ts";
export { runtime } from "./run-context.ts";
export { shell } from "./shell.ts";
export { computer, now, random, step, uuid } from "./retired.ts";
export { normalizeReasoning } from "./reasoning.ts";
export { parseRunEventLenient } from "./events-lenient.ts";
export {
  CHANNELS,
  channelOf,
  DEFAULT_CHANNELS,
  makeCursor,
  matchesChannels,
  runEventSchema,
  selectChannels,
  tokenUsageSchema,
  toolReturnSchema,
  TURN_CURSOR_STRIDE,
} from "./events.ts";
export {
  canonicalManifestSchema,
  MetaValidationError,
  validateMeta,
  workflowManifestSchema,
} from "./manifest.ts";

export type {
  AgentAttachment,
  AgentOptions,
  ArtifactBody,
  ArtifactRef,
  CallOptions,
  HumanChoiceResult,
  HumanInputChoiceSpec,
  HumanInputMultiSelectSpec,
  HumanInputOptions,
  HumanInputResult,
  HumanInputSpec,
  HumanInputTextSpec,
  HumanMultiSelectResult,
  HumanTextResult,
  JsonSchema,
  JsonValue,
  McpServerRef,
  PhaseOptions,
  SleepArg,
  ToolDef,
} from "./types.ts";
export type {
  Channel,
  EventEnvelope,
  ModelCall,
  PassReason,
  ReadableRunStatus,
  ReadRunEvent,
  RunEvent,
  RunEventKind,
  RunStatus,
  TokenUsage,
  ToolReturn,
} from "./events.ts";
export type { WorkflowManifest } from "./manifest.ts";
export type { ShellOptions } from "./shell.ts";
export type { Reasoning, ReasoningEffort, ReasoningOption } from "./reasoning.ts";
export type {
  Budget,
  CallableBy,
  Concurrency,
  Container,
  CronTrigger,
  EgressPolicy,
  EnvVars,
  HostedRunnerSize,
  HostedRunsOn,
  HostedRunsOnObject,
  ManualTrigger,
  WorkflowRunTrigger,
  Notification,
  OrgRole,
  RetryBackoff,
  RetryPolicy,
  RunPermissionAccess,
  RunPermissions,
  RunsOn,
  SecretRef,
  SelfHostedRunsOn,
  ToolGrant,
  Trigger,
  WebhookTrigger,
  WorkflowMeta,
  Workspace,
} from "./meta.ts";
