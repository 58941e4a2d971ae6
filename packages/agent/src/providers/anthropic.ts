/**
 * Anthropic Messages API, streaming: `POST <baseUrl>/v1/messages` with
 * `stream: true, max_tokens: 8192`; the SSE events build text, tool calls (partial JSON deltas),
 * usage and the stop reason. A JSON (non-streamed) message body is accepted too. An `error`
 * event fails the request: a partial answer is never passed off as a whole one. A call that asks
 * for reasoning sends `thinking: { type: "enabled", budget_tokens }`; the thinking blocks the
 * model returns stream to the reasoning sink and go back, signed and unchanged, with the history
 * (the API requires them next to the tool calls they led to). Attachments of the first user
 * message become `image` and `document` blocks.
 */
import { EngineError } from "@promenade/workflow/errors";
import {
  isObject,
  mergeHeaders,
  parseEventJson,
  readEvents,
  requestTurn,
  tokenCount,
  toolCallFromText,
  toolCallFromValue,
} from "./http.ts";
import type { Reasoning, ReasoningEffort } from "@promenade/workflow";
import type { ChatAdapter, ChatArgs, ChatMessage, ChatTurn, ToolCallRequest } from "./types.ts";
import { base64Of, isImage, unsupportedAttachment, type Attachment } from "../attachments.ts";
import type { TokenUsage } from "../ports.ts";

/** Default `max_tokens` of every Anthropic request. */
export const ANTHROPIC_MAX_TOKENS = 8192;

/** The smallest thinking budget the Messages API takes. */
export const ANTHROPIC_MIN_THINKING_TOKENS = 1024;

// Share of `max_tokens` each effort may spend thinking.
const EFFORT_SHARE: Record<Exclude<ReasoningEffort, "none">, number> = {
  minimal: 0.125,
  low: 0.25,
  medium: 0.5,
  high: 0.75,
  xhigh: 0.9,
};

/**
 * The thinking budget of a request: the call's `maxTokens`, or its effort's share of
 * `maxTokens`-of-the-request; at least {@link ANTHROPIC_MIN_THINKING_TOKENS}. `undefined` when
 * no reasoning was asked for or the effort is `none` (thinking off).
 */
export function thinkingBudget(
  reasoning: Reasoning | undefined,
  maxTokens: number,
): number | undefined {
  if (reasoning === undefined) return undefined;
  let budget: number;
  if (reasoning.effort !== undefined) {
    if (reasoning.effort === "none") return undefined;
    budget = Math.floor(EFFORT_SHARE[reasoning.effort] * maxTokens);
  } else if (reasoning.maxTokens !== undefined) {
    budget = reasoning.maxTokens;
  } else {
    return undefined;
  }
  return Math.max(ANTHROPIC_MIN_THINKING_TOKENS, budget);
}

/** The content block of one attachment: an `image` or a `document`. */
function attachmentBlock(attachment: Attachment, index: number): unknown {
  const data = base64Of(attachment);
  const source =
    data !== undefined
      ? { type: "base64", media_type: attachment.mimeType, data }
      : { type: "url", url: attachment.url };
  if (isImage(attachment)) return { type: "image", source };
  if (attachment.mimeType === "application/pdf") {
    return {
      type: "document",
      source,
      ...(attachment.filename === undefined ? {} : { title: attachment.filename }),
    };
  }
  if (attachment.mimeType.startsWith("text/") && data !== undefined) {
    return {
      type: "document",
      source: {
        type: "text",
        media_type: "text/plain",
        data: Buffer.from(data, "base64").toString("utf8"),
      },
      ...(attachment.filename === undefined ? {} : { title: attachment.filename }),
    };
  }
  throw unsupportedAttachment(
    "Anthropic",
    index,
    attachment,
    "Anthropic takes images, PDF documents (by data or url) and text files (by base64 data).",
  );
}

/** Wire messages for the neutral conversation. */
export function anthropicMessages(messages: readonly ChatMessage[]): unknown[] {
  return messages.map((message) => {
    if (message.role === "user") {
      return {
        role: "user",
        content: [
          { type: "text", text: message.text },
          ...(message.attachments ?? []).map(attachmentBlock),
        ],
      };
    }
    if (message.role === "assistant") {
      const content: unknown[] = [...(message.thinking ?? [])];
      if (message.text !== "") content.push({ type: "text", text: message.text });
      for (const call of message.toolCalls) {
        content.push({ type: "tool_use", id: call.id, name: call.name, input: call.input });
      }
      return { role: "assistant", content };
    }
    return {
      role: "user",
      content: message.results.map((result) => ({
        type: "tool_result",
        tool_use_id: result.id,
        content: result.content,
        is_error: result.isError,
      })),
    };
  });
}

/**
 * The request body: `{ model, max_tokens, stream: true, messages, thinking?, tools?,
 * tool_choice? }`. Anthropic rejects `tool_use` / `tool_result` blocks when no tools are
 * declared, so a request that offers no tools while the history holds tool calls declares the
 * call's tools with `tool_choice: { type: "none" }`: the model must answer in text. The thinking
 * budget must stay below `max_tokens`, which grows to fit it.
 */
export function anthropicBody(args: ChatArgs): Record<string, unknown> {
  let maxTokens = args.maxTokens ?? ANTHROPIC_MAX_TOKENS;
  const budget = thinkingBudget(args.reasoning, maxTokens);
  if (budget !== undefined && budget >= maxTokens) maxTokens = budget + ANTHROPIC_MAX_TOKENS;
  const body: Record<string, unknown> = {
    model: args.model,
    max_tokens: maxTokens,
    stream: true,
    messages: anthropicMessages(args.messages),
  };
  if (budget !== undefined) body.thinking = { type: "enabled", budget_tokens: budget };
  const historyHasTools = args.messages.some(
    (message) => message.role === "assistant" && message.toolCalls.length > 0,
  );
  const withheld = args.tools.length === 0 && historyHasTools ? (args.historyTools ?? []) : [];
  const declared = args.tools.length > 0 ? args.tools : withheld;
  if (declared.length > 0) {
    body.tools = declared.map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: tool.inputSchema,
    }));
  }
  if (withheld.length > 0) body.tool_choice = { type: "none" };
  return body;
}

async function readStream(
  response: Response,
  onText: (text: string, whole: boolean) => void,
  onReasoning?: (text: string) => void,
): Promise<ChatTurn> {
  let text = "";
  let stopReason: unknown;
  const usage: TokenUsage = {};
  const toolCalls: ToolCallRequest[] = [];
  const thinking: Record<string, unknown>[] = [];
  let open: { id: string; name: string; json: string } | null = null;
  let thought: Record<string, unknown> | null = null;
  await readEvents(response, (data) => {
    const event = parseEventJson(data, "Anthropic stream event");
    switch (event.type) {
      case "message_start": {
        const message = isObject(event.message) ? event.message : {};
        if (isObject(message.usage)) inputUsage(message.usage, usage);
        break;
      }
      case "content_block_start": {
        const block = isObject(event.content_block) ? event.content_block : {};
        if (block.type === "tool_use") {
          open = {
            id: typeof block.id === "string" ? block.id : `call-${toolCalls.length + 1}`,
            name: typeof block.name === "string" ? block.name : "",
            json: "",
          };
        } else if (block.type === "thinking") {
          thought = {
            type: "thinking",
            thinking: typeof block.thinking === "string" ? block.thinking : "",
            signature: typeof block.signature === "string" ? block.signature : "",
          };
        } else if (block.type === "redacted_thinking") {
          thinking.push({ ...block });
        }
        break;
      }
      case "content_block_delta": {
        const delta = isObject(event.delta) ? event.delta : {};
        if (typeof delta.text === "string" && delta.text !== "") {
          text += delta.text;
          onText(delta.text, false);
        } else if (typeof delta.partial_json === "string" && open !== null) {
          open.json += delta.partial_json;
        } else if (typeof delta.thinking === "string" && thought !== null) {
          thought.thinking = `${String(thought.thinking)}${delta.thinking}`;
          if (delta.thinking !== "") onReasoning?.(delta.thinking);
        } else if (typeof delta.signature === "string" && thought !== null) {
          thought.signature = `${String(thought.signature)}${delta.signature}`;
        }
        break;
      }
      case "content_block_stop": {
        if (open !== null) {
          toolCalls.push(toolCallFromText(open.id, open.name, open.json));
          open = null;
        }
        if (thought !== null) {
          thinking.push(thought);
          thought = null;
        }
        break;
      }
      case "message_delta": {
        const output = isObject(event.usage) ? tokenCount(event.usage.output_tokens) : undefined;
        if (output !== undefined) usage.outputTokens = output;
        if (isObject(event.delta) && event.delta.stop_reason !== undefined) {
          stopReason = event.delta.stop_reason;
        }
        break;
      }
      case "error": {
        const error = isObject(event.error) ? event.error : {};
        const type = typeof error.type === "string" ? error.type : "unknown_error";
        const message = typeof error.message === "string" ? error.message : "";
        throw new EngineError(
          "PROVIDER_ERROR",
          `Anthropic stream error ${type}${message === "" ? "" : `: ${message}`}`,
          type === "overloaded_error" ? "The provider is overloaded; retry later." : undefined,
        );
      }
      default:
        break;
    }
  });
  return {
    text,
    toolCalls,
    usage,
    wantsTools: stopReason === "tool_use" || toolCalls.length > 0,
    ...(thinking.length === 0 ? {} : { thinking }),
  };
}

function parseMessage(value: unknown): ChatTurn {
  if (!isObject(value) || !Array.isArray(value.content)) {
    throw new EngineError("PROVIDER_ERROR", "malformed Anthropic message: no content array.");
  }
  let text = "";
  const toolCalls: ToolCallRequest[] = [];
  const thinking: unknown[] = [];
  for (const block of value.content as unknown[]) {
    if (!isObject(block)) continue;
    if (block.type === "thinking" || block.type === "redacted_thinking") thinking.push(block);
    if (block.type === "text" && typeof block.text === "string") text += block.text;
    if (block.type === "tool_use") {
      const id = typeof block.id === "string" ? block.id : `call-${toolCalls.length + 1}`;
      const name = typeof block.name === "string" ? block.name : "";
      toolCalls.push(toolCallFromValue(id, name, block.input));
    }
  }
  const usage: TokenUsage = {};
  if (isObject(value.usage)) {
    const output = tokenCount(value.usage.output_tokens);
    inputUsage(value.usage, usage);
    if (output !== undefined) usage.outputTokens = output;
  }
  return {
    text,
    toolCalls,
    usage,
    wantsTools: value.stop_reason === "tool_use" || toolCalls.length > 0,
    ...(thinking.length === 0 ? {} : { thinking }),
  };
}

/**
 * `POST <baseUrl>/v1/messages` with `anthropic-version: 2023-06-01`, `x-api-key` (when keyed),
 * custom headers, `content-type: application/json`.
 * @throws EngineError `PROVIDER_ERROR` for HTTP failures, `error` events and malformed bodies.
 */
export const anthropicChat: ChatAdapter = async (args, io) => {
  const headers = mergeHeaders(
    {
      "anthropic-version": "2023-06-01",
      ...(args.apiKey === null ? {} : { "x-api-key": args.apiKey }),
    },
    args.headers,
  );
  return requestTurn(`${args.baseUrl}/v1/messages`, headers, anthropicBody(args), io, {
    what: "Anthropic message",
    stream: readStream,
    json: parseMessage,
  });
};

/**
 * Input and prompt-cache counts of an Anthropic `usage` object, when reported. Anthropic's
 * `input_tokens` leaves out the cached tokens; `inputTokens` counts every prompt token (as the
 * other providers report it), so the cache reads and writes are added back.
 */
function inputUsage(value: Record<string, unknown>, into: TokenUsage): void {
  const input = tokenCount(value.input_tokens);
  const read = tokenCount(value.cache_read_input_tokens);
  const created = tokenCount(value.cache_creation_input_tokens);
  if (read !== undefined) into.cacheReadTokens = read;
  if (created !== undefined) into.cacheCreationTokens = created;
  if (input !== undefined) into.inputTokens = input + (read ?? 0) + (created ?? 0);
}
