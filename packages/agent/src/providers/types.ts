/**
 * The neutral conversation model every provider adapter speaks. Adapters map it
 * to and from one wire protocol; the loop never sees wire JSON. Strings arrive here already
 * redacted (the loop redacts string leaves before calling an adapter).
 */
import type { Reasoning } from "@promenade/workflow";
import type { Attachment } from "../attachments.ts";
import type { FetchLike, SleepLike, TokenUsage } from "../ports.ts";

/** A tool as advertised to the model. */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/**
 * A tool call the model requested. `input` is the parsed argument object; when the model's
 * arguments were not a JSON object, `input` is `{}` and `inputError` says why (tool-level
 * `VALIDATION`). `rawArguments` keeps the model's original argument text.
 */
export interface ToolCallRequest {
  id: string;
  name: string;
  input: Record<string, unknown>;
  inputError?: string;
  rawArguments?: string;
}

/** One tool result fed back to the model. */
export interface ToolResult {
  id: string;
  /** Only the native Gemini protocol needs the tool name on a result. */
  name?: string;
  content: string;
  isError: boolean;
}

/** A message of the neutral conversation. */
export type ChatMessage =
  | { role: "user"; text: string; attachments?: readonly Attachment[] }
  | {
      role: "assistant";
      text: string;
      toolCalls: ToolCallRequest[];
      /**
       * The provider's own record of the model's reasoning for this message (Anthropic thinking
       * blocks with their signatures), sent back verbatim with the history; never shown.
       */
      thinking?: readonly unknown[];
    }
  | { role: "tool_results"; results: ToolResult[] };

/** What one model request produced. */
export interface ChatTurn {
  text: string;
  toolCalls: ToolCallRequest[];
  usage: TokenUsage;
  wantsTools: boolean;
  /** See the assistant message's `thinking`. */
  thinking?: unknown[];
}

/** Adapter input. */
export interface ChatArgs {
  baseUrl: string;
  apiKey: string | null;
  headers: Record<string, string>;
  model: string;
  messages: readonly ChatMessage[];
  tools: readonly ToolSpec[];
  /**
   * On a request that offers no tools (`tools` empty) while the history holds tool calls: the
   * call's tools, for wire formats that only accept tool-call history next to declared tools.
   * Such an adapter declares them and forbids calling any.
   */
  historyTools?: readonly ToolSpec[];
  maxTokens?: number;
  /** How hard the model should think, as the call asked (normalized). */
  reasoning?: Reasoning;
}

/** Adapter I/O: injectables plus the text sink. */
export interface ProviderIo {
  fetch: FetchLike;
  sleep: SleepLike;
  /** Uniform [0, 1) for retry jitter (default `Math.random`). */
  random?: () => number;
  /** Per-attempt timeout in ms; absent → none. */
  timeoutMs?: number;
  /**
   * Receives model text as it arrives. `whole` is true when the response's entire text is
   * delivered in one piece (non-streaming), so it can be redacted whole and emitted once.
   */
  onText(text: string, whole: boolean): void;
  /** Receives streamed reasoning text (never part of the answer). */
  onReasoning?(text: string): void;
}

/** One wire protocol. */
export type ChatAdapter = (args: ChatArgs, io: ProviderIo) => Promise<ChatTurn>;
