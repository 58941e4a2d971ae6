/**
 * `@promenade/agent`: the `agent()` loop of Promenade — providers, tools, MCP, skills, memory,
 * budgets (usage pricing) and redaction. This file is the only door in: named re-exports only.
 */
export { runAgent, assertResolvedModel, MAX_ITERATIONS } from "./loop.ts";
export { Redactor, StreamingRedactor, toLoopRedactor, type LoopRedactor } from "./redactor.ts";
export {
  resolveModel,
  createModelResolver,
  createEnvLookup,
  validateInferenceConfig,
  validateProviders,
  parseProvidersJson,
  BUILT_IN_PROVIDERS,
  type InferenceConfig,
  type ProviderConfig,
  type ProviderHeaderValue,
  type EnvLookup,
  type ResolveRequest,
} from "./resolve-model.ts";
export {
  usageUsdMicros,
  rateFor,
  compileRates,
  createPriceUsage,
  BUILT_IN_RATES,
  DEFAULT_RATE,
  type RateOverride,
  type RateRow,
} from "./rates.ts";
export { humanSummary, toolText } from "./tools.ts";
export { checkMemoryPath, MEMORY_TOOL_NAMES } from "./memory.ts";
export { stripFences } from "./schema.ts";
export { backoffMs, MAX_ATTEMPTS } from "./providers/http.ts";
export type {
  AgentHost,
  AgentOptions,
  AgentEventBody,
  AgentEventError,
  ToolDef,
  McpServerRef,
  JsonSchema,
  ModelCallRecord,
  TokenUsage,
  ResolvedModel,
  RedactorPort,
  ProviderProtocol,
  FetchLike,
  SleepLike,
} from "./ports.ts";
export type {
  ChatMessage,
  ChatTurn,
  ChatArgs,
  ToolSpec,
  ToolCallRequest,
  ToolResult,
} from "./providers/types.ts";
