/**
 * Author-facing argument and result types of the primitives. Types only:
 * this file emits no JavaScript, so the lean runtime pays nothing for it. It must not know about
 * zod, the manifest schema or the event wire format.
 */

import type { ReasoningOption } from "./reasoning.ts";

/** A loosely typed JSON Schema object (not checked for being a valid schema). */
export type JsonSchema = Record<string, unknown>;

/** Any JSON value. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * An inline MCP server an `agent()` call may use. `name` matches
 * `^[A-Za-z0-9][A-Za-z0-9_-]*$` and is unique within the call; unknown keys are rejected by the
 * engine with `VALIDATION` before anything is spawned.
 */
export type McpServerRef =
  | {
      name: string;
      transport: "stdio";
      /** Non-empty executable to spawn. */
      command: string;
      args?: readonly string[];
      env?: Record<string, string>;
      /** Server tools (original names) neither offered to the model nor callable. */
      excludeTools?: readonly string[];
    }
  | {
      name: string;
      transport: "http";
      /** Must begin with `http://` or `https://`. */
      url: string;
      headers?: Record<string, string>;
      /** Server tools (original names) neither offered to the model nor callable. */
      excludeTools?: readonly string[];
    };

/** A program-defined tool. `execute` runs in the program process. */
export interface ToolDef {
  /** Name the model sees; non-empty and unique across the call's advertised tools. */
  name: string;
  /** How the model chooses the tool. */
  description: string;
  /** JSON Schema of the tool input. */
  inputSchema: JsonSchema;
  /** Runs in the program process; a throw becomes a `tool_call_error`, not a run failure. */
  execute: (input: unknown) => Promise<unknown>;
}

/** Per-call capabilities of an `agent()` leaf. Every field is optional. */
export interface AgentOptions {
  /** Display label copied to `agentName` on the turn frames; `""` is treated as absent. */
  name?: string;
  /** Opaque model id passed verbatim to the provider. Default: the engine/provider default. */
  model?: string;
  /** Who fulfils the call. Default: the engine's default provider. */
  provider?: string;
  /** Structured-output mode: the call resolves to the parsed, schema-checked JSON answer. */
  schema?: JsonSchema;
  /** Engine built-in tool names and program-defined tools. Default: none. */
  tools?: readonly (string | ToolDef)[];
  /** Inline MCP servers. Default: none. */
  mcp?: readonly McpServerRef[];
  /** Skill names, each resolving to `skills/<name>.md` deployed with the workflow. */
  skills?: readonly string[];
  /** Workspace-relative directory used as this leaf's persistent memory. */
  memory?: string;
  /**
   * Offers the model a `human_input` tool that asks a person mid-loop (a human-input gate keyed
   * by the tool call id). Default `false`.
   */
  humanInput?: boolean;
  /**
   * Soft cap on tool-calling turns: the request past it is sent with no tools, so the model must
   * answer in text and the call resolves to that text. A non-integer or a value below 1 is
   * ignored. Default 500.
   */
  maxIterations?: number;
  /**
   * Which built-in tools the model gets: `"all"` (default), `"read-only"`, `"none"`, or exactly
   * the named ones. The engine operator's ceiling can narrow this, never widen it.
   */
  builtins?: "all" | "read-only" | "none" | readonly string[];
  /** Workspace-relative existing directory the leaf works from. Default: the workspace root. */
  cwd?: string;
  /**
   * How hard the model should think: an effort, or `{ effort?, maxTokens?, exclude? }` (an
   * effort wins over `maxTokens`; `exclude` keeps the reasoning out of the run's events). Sent as
   * OpenAI's `reasoning_effort` or Anthropic's thinking budget (at least 1024 tokens; `none` is
   * off).
   */
  reasoning?: ReasoningOption;
  /** Files and images sent as parts of the first user message. */
  attachments?: readonly AgentAttachment[];
}

/** A file or image sent with an `agent()` prompt: exactly one of `data` (base64) and `url`. */
export interface AgentAttachment {
  /** Media type, e.g. `"image/png"` or `"application/pdf"`. */
  mimeType: string;
  /** The content, base64-encoded. */
  data?: string;
  /** Where the provider fetches it (`http(s)://` or a `data:` URL). */
  url?: string;
  filename?: string;
}

/** Options of `workflows.call` / `workflows.run`. */
export interface CallOptions {
  /** Used verbatim as the child's idempotency key; must be non-empty. Default: derived. */
  idempotencyKey?: string;
}

/** Options of `phase()`. */
export interface PhaseOptions {
  /** Phase id; default `phase-<n>` (1-based count of `phase()` calls in this attempt). */
  id?: string;
}

/** What `sleep()` accepts: milliseconds, `{ durationMs }`, or an absolute `{ until }` instant. */
export type SleepArg = number | { durationMs: number } | { until: string | Date };

/** An artifact body: a string is stored as UTF-8; a `Buffer` is a `Uint8Array`. */
export type ArtifactBody = string | Uint8Array;

/** A written artifact. `url` is a `file://` URL on a local engine. */
export interface ArtifactRef {
  id: string;
  name: string;
  url: string;
}

/** The answer form of a free-text gate. `multiline` and `placeholder` are presentation only. */
export interface HumanInputTextSpec {
  kind: "text";
  multiline?: boolean;
  placeholder?: string;
  /** `""` is refused when true. Default `false`. */
  required?: boolean;
}

/** The answer form of a single-choice gate. */
export interface HumanInputChoiceSpec {
  kind: "choice";
  /** The offered options (non-empty strings, at least one). */
  options: readonly string[];
  /** Accept a free-text answer besides the options. Default `true`. */
  allowOther?: boolean;
  /** Label of the free-text choice (presentation only). */
  otherLabel?: string;
}

/** The answer form of a multi-select gate. */
export interface HumanInputMultiSelectSpec {
  kind: "multiselect";
  /** The offered options (non-empty strings, at least one). */
  options: readonly string[];
  /** Accept one free-text entry besides the options. Default `true`. */
  allowOther?: boolean;
  /** Label of the free-text entry (presentation only). */
  otherLabel?: string;
  /** Fewest selections (the free-text entry counts as one). Integer ≥ 0. */
  min?: number;
  /** Most selections (the free-text entry counts as one). Integer ≥ 0. */
  max?: number;
}

/** The answer form of a human-input gate. */
export type HumanInputSpec = HumanInputTextSpec | HumanInputChoiceSpec | HumanInputMultiSelectSpec;

/** The answer to a `text` gate. */
export interface HumanTextResult {
  value: string;
}

/** The answer to a `choice` gate; `isOther` is true for a free-text answer. */
export interface HumanChoiceResult {
  value: string;
  isOther: boolean;
}

/** The answer to a `multiselect` gate: the chosen options, plus the free-text entry if given. */
export interface HumanMultiSelectResult {
  values: string[];
  other?: string;
}

/** The answer to any human-input gate. */
export type HumanInputResult = HumanTextResult | HumanChoiceResult | HumanMultiSelectResult;

/** Options of `humanInput()`. */
export interface HumanInputOptions {
  /**
   * Stable gate name within the run (non-empty). Default `input-<n>`, `n` counting this pass's
   * `humanInput()` calls from 1. A key that already has an answer returns it at once.
   */
  key?: string;
  /** The question shown to the person. */
  prompt: string;
  /** The answer form. */
  input: HumanInputSpec;
  /** Who may answer, e.g. `"role:admin"` or `"user:<id>"` (stored with the request). */
  assignees?: readonly string[];
  /**
   * How long the gate waits: `<n><unit>` with unit `ms`, `s`, `m`, `h` or `d` (e.g. `"48h"`).
   * Default: no timeout.
   */
  timeout?: string;
  /** What a timeout does: fail the run (default) or answer with `value`. */
  onTimeout?: "fail" | { value: HumanInputResult };
}
