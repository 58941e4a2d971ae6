/**
 * `@promenade/agent`: the `agent()` loop of Promenade — providers, tools, MCP, skills, memory,
 * budgets (usage pricing from the versioned rate table) and redaction. This file is the only door in: named re-exports only,
 * limited to what the engine and third parties use (the loop, model resolution and its config
 * validation, usage pricing). Redaction itself lives in `@promenade/workflow/redact`.
 */
export { runAgent } from "./loop.ts";
export { searchBackend, type WebSearchResult } from "./builtins/web-search.ts";
export {
  resolveModel,
  createModelResolver,
  validateInferenceConfig,
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
  createPriceUsage,
  parseRateTable,
  BUILT_IN_RATES,
  RATES_VERSION,
  type PricedUsage,
  type Rate,
  type RateOverride,
  type RateRow,
  type RateSource,
  type RateTable,
} from "./rates.ts";
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
