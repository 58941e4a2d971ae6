/**
 * Author-facing argument and result types of the primitives. Types only:
 * this file emits no JavaScript, so the lean runtime pays nothing for it. It must not know about
 * zod, the manifest schema or the event wire format.
 */

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
    }
  | {
      name: string;
      transport: "http";
      /** Must begin with `http://` or `https://`. */
      url: string;
      headers?: Record<string, string>;
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
