/**
 * The interfaces `@promenade/agent` consumes, written in the loop's own words: the `AgentHost` a
 * run process hands to `runAgent`, the resolved-model shape that crosses IPC, and the
 * program-facing option shapes the loop reads.
 * The option shapes are structural twins of `@promenade/workflow`'s author types, so any
 * `AgentOptions` a program passes is accepted here without importing the SDK at runtime.
 * Nothing in this file does work; it only names shapes.
 */

import type { ReasoningOption } from "@promenade/workflow";

/** A JSON Schema object (draft 2020-12 keywords; unknown keywords ignored). */
export type JsonSchema = Record<string, unknown>;

/** A program-defined tool. `execute` runs in the program process. */
export interface ToolDef {
  /** Name the model sees; non-empty, unique across the call's advertised tool set. */
  name: string;
  /** How the model chooses the tool. Missing → `""`. */
  description?: string;
  /** JSON Schema of the tool input. Missing → `{ "type": "object" }`. */
  inputSchema?: JsonSchema;
  /** Receives the model's input object (not validated against `inputSchema`). */
  execute: (input: unknown) => Promise<unknown>;
}

/** An inline MCP server, strict shapes. */
export type McpServerRef =
  | {
      name: string;
      transport: "stdio";
      command: string;
      args?: readonly string[];
      env?: Record<string, string>;
      excludeTools?: readonly string[];
    }
  | {
      name: string;
      transport: "http";
      url: string;
      headers?: Record<string, string>;
      excludeTools?: readonly string[];
    };

/** Per-call options of `agent()`. Unknown extra keys are ignored. */
export interface AgentOptions {
  /** Display label → `agentName`; an empty string is treated as absent. */
  name?: string;
  /** Opaque model id, sent verbatim. */
  model?: string;
  /** Who fulfils the call (see `resolveModel`). */
  provider?: string;
  /** Schema mode: the final answer is parsed as JSON and validated against it. */
  schema?: JsonSchema;
  /**
   * Program tools (`ToolDef`s). Built-in tools are chosen with `builtins`; a string here fails
   * and names it.
   */
  tools?: readonly (string | ToolDef)[];
  /**
   * Which built-in tools the model gets: `"all"` (default: file, shell, web, clock, todo tools
   * and `subagent`), `"read-only"` (nothing that writes, runs commands or spawns), `"none"`, or
   * exactly the named ones. The engine operator's ceiling can narrow this, never widen it.
   */
  builtins?: "all" | "read-only" | "none" | readonly string[];
  /**
   * Workspace-relative existing directory the leaf works from (built-in file tools, `bash`,
   * workspace `AGENTS.md` files). Default: the workspace root.
   */
  cwd?: string;
  /** Inline MCP servers; tools advertised as `<server>__<tool>`. */
  mcp?: readonly McpServerRef[];
  /**
   * Names of deployed skills: a flat `<name>.md` skill is loaded into the first message; a
   * folder skill (`<name>/SKILL.md`) is listed there and loaded by the model through the `skill`
   * tool.
   */
  skills?: readonly string[];
  /** Workspace-relative memory directory. */
  memory?: string;
  /** Offers the model the `human_input` tool (ask a person mid-loop). Default `false`. */
  humanInput?: boolean;
  /**
   * Soft cap on tool-calling turns: the request past it carries no tools, so the model answers
   * in text. A non-integer or a value below 1 is ignored. Default 500.
   */
  maxIterations?: number;
  /**
   * How hard the model should think: an effort (`none`, `minimal`, `low`, `medium`, `high`,
   * `xhigh`) or `{ effort?, maxTokens?, exclude? }` (an effort wins over `maxTokens`; `exclude`
   * keeps the reasoning out of the run's events). Sent as the provider's reasoning setting.
   */
  reasoning?: ReasoningOption;
  /**
   * Files and images sent with the first user message: `{ mimeType, data?, url?, filename? }`
   * with exactly one of `data` (base64) and `url`.
   */
  attachments?: readonly AgentAttachment[];
  /** Hosted browser sessions are not available on this engine: any value fails `UNSUPPORTED`. */
  session?: unknown;
}

/** One `attachments` entry of `agent()`. */
export interface AgentAttachment {
  mimeType: string;
  data?: string;
  url?: string;
  filename?: string;
}

/**
 * Token counts as a provider reported them (missing fields were not reported). The adapters
 * normalise the providers' conventions: `inputTokens` counts every prompt token, cache reads and
 * writes included, and `outputTokens` every generated token, reasoning included.
 */
export type TokenUsage = {
  inputTokens?: number;
  outputTokens?: number;
  /** Input tokens served from the provider's prompt cache (part of `inputTokens`). */
  cacheReadTokens?: number;
  /** Input tokens written to the provider's prompt cache (part of `inputTokens`). */
  cacheCreationTokens?: number;
  /** Tokens spent on hidden reasoning (part of `outputTokens`). */
  reasoningTokens?: number;
};

/**
 * One model request, as the `model_call` event records it when the request ends (epoch ms
 * times). The engine prices it (`usdMicros`, `rate`, `estimated`) before the event is written and
 * adds the same numbers to the run's totals: these events are the run's cost ledger.
 */
export type ModelCallRecord = {
  model: string;
  provider: string;
  startedAt: number;
  endedAt: number;
  usage?: TokenUsage;
  error?: AgentEventError;
};

/** Wire protocol of a provider endpoint. `gemini` is the native Gemini API. */
export type ProviderProtocol = "openai" | "anthropic" | "gemini";

/** The outcome of model resolution; crosses IPC to the run process. */
export interface ResolvedModel {
  /** Provider name (non-empty): a built-in, a configured entry, or `boardwalk`. */
  provider: string;
  /** The model string, verbatim (non-empty). */
  model: string;
  protocol: ProviderProtocol;
  /** Endpoint base URL, concatenated as is with the protocol's path. */
  baseUrl: string;
  /** Plaintext key, or null for keyless endpoints; registered with the redactor on arrival. */
  apiKey: string | null;
  /** Resolved custom headers (they win over computed auth). */
  headers: Record<string, string>;
  /** Names of `headers` whose values came from `{ from_env }` (registered as secrets). */
  secretHeaderNames: string[];
  /** **Promenade:** `inference.request_timeout_ms` (per attempt); absent → no timeout. */
  requestTimeoutMs?: number;
}

/**
 * The redaction service the loop needs. `Redactor` from `@promenade/workflow/redact` implements
 * it fully; any object with `add`/`redact` works (streamed text is then held until a response
 * ends, since the longest secret length is unknown).
 */
export interface RedactorPort {
  /** Registers a known secret value under `label` (values shorter than 4 chars are ignored). */
  add(label: string, value: string): void;
  /** Replaces every known value in `text` by `[redacted:<label>]`. */
  redact(text: string): string;
}

/** Event error on the wire: exactly `{ code, message }` (no hint, no stack). */
export interface AgentEventError {
  code: string;
  message: string;
}

/** Event bodies the loop emits through {@link AgentHost.emit} (the agent channel). */
export type AgentEventBody =
  | { kind: "text_start"; blockId: string }
  | { kind: "text_delta"; blockId: string; text: string }
  | { kind: "text_end"; blockId: string }
  | { kind: "reasoning_delta"; text: string }
  | { kind: "tool_call_start"; toolCallId: string; toolName: string }
  | { kind: "tool_call_input_complete"; toolCallId: string; input: Record<string, unknown> }
  | { kind: "tool_call_executing"; toolCallId: string }
  | { kind: "tool_output_delta"; toolCallId: string; stream: "stdout" | "stderr"; text: string }
  | { kind: "tool_call_result"; toolCallId: string; result: { humanSummary: string } }
  | { kind: "tool_call_error"; toolCallId: string; error: AgentEventError }
  | ({ kind: "model_call" } & ModelCallRecord)
  | {
      kind: "turn_ended";
      agentId: string;
      agentName?: string;
      reason: "complete" | "error";
      usage?: { inputTokens: number; outputTokens: number };
      error?: AgentEventError;
    };

/** The run's artifact store as the `artifacts` built-in uses it. */
export interface ArtifactsPort {
  write(name: string, content: string, contentType: string): Promise<void>;
  /** The artifact's text, or `null` when there is none by that name. */
  read(name: string): Promise<string | null>;
}

/** The operator's ceiling on built-in tools. */
export type BuiltinsCeiling = "all" | "read-only" | "none";

/** `fetch` as the providers and MCP HTTP transport use it (injectable for tests). */
export type FetchLike = typeof fetch;

/** Sleep used between provider retries (injectable so tests observe the delays). */
export type SleepLike = (ms: number) => Promise<void>;

/**
 * Everything one `agent()` call needs from its run process. The run process builds
 * one per call; `identity.agentId` is `agent-<n>` counting calls in the process.
 */
export interface AgentHost {
  /** `agentId` = `agent-<n>`; `agentName` = the call's non-empty `name`, if any. */
  readonly identity: { agentId: string; agentName?: string };
  /**
   * Host call `resolve_model`. Typed `unknown` on purpose: the result crossed IPC and the loop
   * re-validates it as a {@link ResolvedModel}.
   */
  resolveModel(model: string | undefined, provider: string | undefined): Promise<unknown>;
  /** Opens the turn block; the supervisor emits `turn_started`. */
  startTurn(turnId: string): void;
  /**
   * One event body of this turn; the supervisor stamps the envelope. A `model_call` body is
   * priced and counted against the run's budgets by the supervisor as it is written.
   */
  emit(turnId: string, body: AgentEventBody): void;
  /** Once per call with `memory` set, with the string as given. */
  memoryUsed(dir: string): void;
  /** Host call `mcp_token` (the engine's OAuth token broker). */
  mcpToken(
    serverUrl: string,
    invalidateToken?: string,
  ): Promise<{ accessToken: string | null; hint?: string }>;
  /** The run process's one redactor, shared by every `agent()` call. */
  readonly redactor: RedactorPort;
  /** The run's working directory (memory dirs are relative to it). */
  readonly workspaceDir: string;
  /**
   * Directory of deployed skills (`<name>.md` files and `<name>/SKILL.md` folders); null when
   * none are deployed.
   */
  readonly skillsDir: string | null;
  /** The workflow's bundled `AGENTS.md` text, when it was deployed with one. */
  readonly agentsMd?: string | null;
  /**
   * The operator's ceiling on built-in tools: a call's selection is intersected with it.
   * Absent → `"all"`.
   */
  readonly builtinsCeiling?: BuiltinsCeiling;
  /** The run's artifact store; absent → the `artifacts` built-in is not offered. */
  readonly artifacts?: ArtifactsPort;
  /**
   * Runs one web search through the operator's backend (resolves to `{ title, url, snippet? }[]`,
   * checked again by the tool); absent → the `web_search` built-in is not offered.
   */
  webSearch?(query: string, limit: number): Promise<unknown>;
  /**
   * A host for a `subagent` leaf: its identity comes from the same `agent-<n>` counter as
   * `agent()` calls, and its events and usage go to the same run. Absent → no `subagent` tool.
   */
  subagent?(name: string | undefined): AgentHost;
  /** Injected `fetch` for providers (default: global `fetch`). */
  readonly fetch?: FetchLike;
  /** Injected sleep for retry backoff (default: a real timer). */
  readonly sleep?: SleepLike;
  /**
   * Opens a human-input gate keyed `request.key` and resolves with the person's (checked) answer.
   * Needed only by calls with `humanInput: true`; rejects `VALIDATION` for a malformed form.
   */
  humanInput?(request: { key: string; prompt: string; input: unknown }): Promise<unknown>;
}
