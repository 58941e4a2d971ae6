/**
 * The IPC protocol between the supervisor and a run process, as plain types and
 * constants. Shared by both sides; holds no validators so the child runtime can import it without
 * loading zod (the parent validates with `internal/protocol-schemas.ts`).
 * Invariant: event bodies cross without envelopes; only the parent stamps `runId`/`seq`/`t`.
 */

/** `{ code, message, hint? }` as it crosses IPC; a program's own error adds `name` and `stack`. */
export interface WireError {
  code: string;
  message: string;
  hint?: string;
  name?: string;
  stack?: string;
}

/** Parent → child: the one `init` message (later ones are ignored by the child). */
export interface InitMessage {
  type: "init";
  runId: string;
  /** The run's workflow (absent from engines that predate it). */
  workflowId?: string;
  programPath: string;
  workspaceDir: string;
  skillsDir: string | null;
  /** The workflow's AGENTS.md text deployed with it, added to every agent call; absent/`null` → none. */
  agentsMd?: string | null;
  /** The operator's ceiling on the agent's built-in tools; absent → `"all"`. */
  agentBuiltins?: "all" | "read-only" | "none";
  /** True when the engine answers `web_search` host calls (a search backend is configured). */
  webSearch?: boolean;
  input: unknown;
  config: Record<string, unknown>;
  /** Env vars filled from secrets: env var name → secret name (values are read from the env). */
  envSecrets: Record<string, string>;
  /**
   * Warm-pool children only: the complete environment of the run. The child replaces its own
   * `process.env` with it before evaluating the program (cold children got it at spawn).
   */
  env?: Record<string, string>;
}

/** Parent → child: the answer to one `host_call`. */
export interface HostResultMessage {
  type: "host_result";
  callId: number;
  result: { ok: true; value: unknown } | { ok: false; error: WireError };
}

/**
 * Parent → a pooled child, once it is ready and before its `init`: rehearse a run's start while
 * idle (the first message a process receives, and the first module it imports beside the SDK,
 * run code nothing has compiled yet), so the run that takes it does not pay for that. No answer.
 */
export interface WarmUpMessage {
  type: "warm_up";
}

/** Every message the parent sends. */
export type ParentMessage = InitMessage | HostResultMessage | WarmUpMessage;

/** Host methods a run process may call. */
export type HostMethodName =
  | "get_secret"
  | "call_workflow"
  | "run_workflow"
  | "write_artifact"
  | "read_artifact"
  | "resolve_model"
  | "mcp_token"
  | "web_search"
  | "human_input";

/**
 * Fire-and-forget child → parent messages. A run process coalesces those it sends within one
 * turn of its event loop into a single `batch` write (one serialization, one write), in order.
 */
export type BatchableChildMessage =
  | { type: "emit"; body: { kind: string } & Record<string, unknown>; turnId?: string }
  | { type: "turn_started"; turnId: string; agentId: string; agentName?: string }
  | {
      type: "report_usage";
      modelRef: string;
      usage: { inputTokens?: number; outputTokens?: number; totalTokens?: number };
    }
  | { type: "memory_used"; dir: string };

/**
 * Child → parent messages. `ready` is the runtime's first message, sent as soon as it listens
 * (before `init`): the process has booted, and the supervisor may create the next one.
 */
export type ChildMessage =
  | { type: "ready" }
  | { type: "host_call"; callId: number; method: string; args: Record<string, unknown> }
  | BatchableChildMessage
  | { type: "batch"; messages: BatchableChildMessage[] }
  | { type: "done"; output: unknown; outputDeclared: boolean }
  | { type: "failed"; error: WireError; output: unknown; outputDeclared: boolean };

/** Event kinds a run process may send in `emit` (the rest are supervisor-owned). */
export const CHILD_EMITTABLE_KINDS: ReadonlySet<string> = new Set([
  "phase",
  "turn_ended",
  "model_call",
  "text_start",
  "text_delta",
  "text_end",
  "tool_call_start",
  "tool_call_input_delta",
  "tool_call_input_complete",
  "tool_call_executing",
  "tool_call_result",
  "tool_call_error",
  "reasoning_delta",
  "tool_output_delta",
]);
