/**
 * `@promenade/workflow/limits`: the rules every engine package applies where values enter — the
 * JSON depth limit (request bodies, WebSocket frames, run input, deploy config, run-process
 * messages), the webhook replay policy read from deploy config, and the JSON Schema check of
 * run input (`meta.input_schema`). Pure functions and constants;
 * importing it loads nothing else.
 */
export {
  formatJsonPath,
  jsonDepthProblem,
  jsonTextDepthProblem,
  MAX_JSON_DEPTH,
  tooDeepMessage,
} from "./json-limits.ts";
export type { JsonDepthOptions, JsonDepthProblem } from "./json-limits.ts";
export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  MAX_WEBHOOK_TOLERANCE_SECONDS,
  readWebhookReplayPolicy,
} from "./webhook-policy.ts";
export type { WebhookReplayPolicy, WebhookReplayPolicyResult } from "./webhook-policy.ts";
export { compileJsonSchema, formatSchemaIssues } from "./json-schema.ts";
export type { CompileJsonSchemaResult, CompiledJsonSchema, SchemaIssue } from "./json-schema.ts";
export { runInputProblem } from "./run-input.ts";
