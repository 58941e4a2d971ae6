/**
 * OpenAI-compatible chat completions — also Google's OpenAI-compatible surface,
 * Ollama, vLLM and any gateway speaking it. Requests are non-streaming (`model`, `messages`,
 * `tools?`, and `reasoning_effort` when the call asked for an effort); a response is read as JSON
 * or, when the server answers with an event stream, as `chat.completion.chunk` deltas (streamed
 * `reasoning_content` / `reasoning` go to the reasoning sink, never into the answer). Attachments
 * of the first user message become `image_url` parts (images) and `file` parts (other files, by
 * base64 content). Maps wire ↔ neutral; knows nothing about events or tools.
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
} from "./http.ts";
import type { ChatAdapter, ChatArgs, ChatMessage, ChatTurn, ToolCallRequest } from "./types.ts";
import { dataUrl, isImage, unsupportedAttachment, type Attachment } from "../attachments.ts";
import type { TokenUsage } from "../ports.ts";

function malformed(detail: string): EngineError {
  return new EngineError(
    "PROVIDER_ERROR",
    `malformed chat completion: ${detail}`,
    "The endpoint must speak the OpenAI chat-completions format.",
  );
}

/** The content part of one attachment: an `image_url` part, or a `file` part with its data. */
function attachmentPart(attachment: Attachment, index: number): unknown {
  if (isImage(attachment)) {
    return { type: "image_url", image_url: { url: attachment.url ?? dataUrl(attachment) } };
  }
  const fileData = dataUrl(attachment);
  if (fileData === undefined) {
    throw unsupportedAttachment(
      "an OpenAI-compatible provider",
      index,
      attachment,
      "Chat completions take a non-image file by content only: pass its base64 `data` instead of `url`.",
    );
  }
  return {
    type: "file",
    file: {
      filename: attachment.filename ?? `attachment-${String(index + 1)}`,
      file_data: fileData,
    },
  };
}

/** Wire messages for the neutral conversation. */
export function openAiMessages(messages: readonly ChatMessage[]): unknown[] {
  const out: unknown[] = [];
  for (const message of messages) {
    if (message.role === "user") {
      const attachments = message.attachments ?? [];
      out.push({
        role: "user",
        content:
          attachments.length === 0
            ? message.text
            : [{ type: "text", text: message.text }, ...attachments.map(attachmentPart)],
      });
    } else if (message.role === "assistant") {
      const wire: Record<string, unknown> = {
        role: "assistant",
        content: message.text === "" ? null : message.text,
      };
      if (message.toolCalls.length > 0) {
        wire.tool_calls = message.toolCalls.map((call) => ({
          id: call.id,
          type: "function",
          function: {
            name: call.name,
            arguments:
              call.inputError !== undefined && call.rawArguments !== undefined
                ? call.rawArguments
                : JSON.stringify(call.input),
          },
        }));
      }
      out.push(wire);
    } else {
      for (const result of message.results) {
        out.push({ role: "tool", tool_call_id: result.id, content: result.content });
      }
    }
  }
  return out;
}

/**
 * The request body: `model`, `messages`, `tools` (when any) and `reasoning_effort` (when the call
 * named an effort; a `maxTokens`-only request has no chat-completions field and sends nothing).
 */
export function openAiBody(args: ChatArgs): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: args.model,
    messages: openAiMessages(args.messages),
  };
  if (args.reasoning?.effort !== undefined) body.reasoning_effort = args.reasoning.effort;
  if (args.tools.length > 0) {
    body.tools = args.tools.map((tool) => ({
      type: "function",
      function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
    }));
  }
  return body;
}

function usageOf(value: unknown): TokenUsage {
  const usage: TokenUsage = {};
  if (!isObject(value)) return usage;
  const input = tokenCount(value.prompt_tokens);
  const output = tokenCount(value.completion_tokens);
  if (input !== undefined) usage.inputTokens = input;
  if (output !== undefined) usage.outputTokens = output;
  const cached = isObject(value.prompt_tokens_details)
    ? tokenCount(value.prompt_tokens_details.cached_tokens)
    : undefined;
  if (cached !== undefined) usage.cacheReadTokens = cached;
  const reasoning = isObject(value.completion_tokens_details)
    ? tokenCount(value.completion_tokens_details.reasoning_tokens)
    : undefined;
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  return usage;
}

function parseCompletion(value: unknown): ChatTurn {
  if (!isObject(value)) throw malformed("the body is not an object");
  const choices = value.choices;
  if (!Array.isArray(choices) || choices.length === 0) throw malformed("no choices");
  const choice: unknown = choices[0];
  if (!isObject(choice) || !isObject(choice.message))
    throw malformed("choices[0].message is missing");
  const content = choice.message.content;
  if (content !== undefined && content !== null && typeof content !== "string") {
    throw malformed("choices[0].message.content is not a string");
  }
  const toolCalls: ToolCallRequest[] = [];
  const wireCalls = choice.message.tool_calls;
  if (wireCalls !== undefined && wireCalls !== null) {
    if (!Array.isArray(wireCalls)) throw malformed("tool_calls is not an array");
    for (const [index, call] of wireCalls.entries()) {
      if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== "string") {
        throw malformed(`tool_calls[${index}] has no function name`);
      }
      const raw = call.function.arguments;
      const rawArguments =
        typeof raw === "string"
          ? raw
          : raw === undefined || raw === null
            ? ""
            : JSON.stringify(raw);
      toolCalls.push(
        toolCallFromText(
          typeof call.id === "string" && call.id !== "" ? call.id : `call-${index + 1}`,
          call.function.name,
          rawArguments,
        ),
      );
    }
  }
  return {
    text: typeof content === "string" ? content : "",
    toolCalls,
    usage: usageOf(value.usage),
    wantsTools: choice.finish_reason === "tool_calls" || toolCalls.length > 0,
  };
}

async function readStream(
  response: Response,
  onText: (text: string, whole: boolean) => void,
  onReasoning?: (text: string) => void,
): Promise<ChatTurn> {
  let text = "";
  let finish: unknown;
  let usage: TokenUsage = {};
  const calls = new Map<number, { id: string; name: string; args: string }>();
  await readEvents(response, (data) => {
    const chunk = parseEventJson(data, "chat completion chunk");
    if (isObject(chunk.error)) {
      throw new EngineError(
        "PROVIDER_ERROR",
        `provider stream error: ${typeof chunk.error.message === "string" ? chunk.error.message : JSON.stringify(chunk.error)}`,
      );
    }
    if (chunk.usage !== undefined && chunk.usage !== null) usage = usageOf(chunk.usage);
    const choices = chunk.choices;
    if (!Array.isArray(choices) || choices.length === 0) return;
    const choice: unknown = choices[0];
    if (!isObject(choice)) return;
    if (choice.finish_reason !== undefined && choice.finish_reason !== null)
      finish = choice.finish_reason;
    const delta = choice.delta;
    if (!isObject(delta)) return;
    // Gateways name streamed reasoning `reasoning_content` (DeepSeek, vLLM) or `reasoning`.
    for (const field of ["reasoning_content", "reasoning"] as const) {
      const thought = delta[field];
      if (typeof thought === "string" && thought !== "") onReasoning?.(thought);
    }
    if (typeof delta.content === "string" && delta.content !== "") {
      text += delta.content;
      onText(delta.content, false);
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const part of delta.tool_calls as unknown[]) {
        if (!isObject(part)) continue;
        const index = typeof part.index === "number" ? part.index : calls.size;
        let call = calls.get(index);
        if (call === undefined) {
          call = { id: "", name: "", args: "" };
          calls.set(index, call);
        }
        if (typeof part.id === "string") call.id = part.id;
        if (isObject(part.function)) {
          if (typeof part.function.name === "string") call.name += part.function.name;
          if (typeof part.function.arguments === "string") call.args += part.function.arguments;
        }
      }
    }
  });
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, call], n) =>
      toolCallFromText(call.id !== "" ? call.id : `call-${n + 1}`, call.name, call.args),
    );
  return { text, toolCalls, usage, wantsTools: finish === "tool_calls" || toolCalls.length > 0 };
}

/**
 * `POST <baseUrl>/chat/completions` with `authorization: Bearer <key>` (when keyed), custom
 * headers, `content-type: application/json`.
 * @throws EngineError `PROVIDER_ERROR` for HTTP failures and malformed completions.
 */
export const openAiChat: ChatAdapter = async (args, io) => {
  const headers = mergeHeaders(
    args.apiKey === null ? {} : { authorization: `Bearer ${args.apiKey}` },
    args.headers,
  );
  return requestTurn(`${args.baseUrl}/chat/completions`, headers, openAiBody(args), io, {
    what: "chat completion",
    stream: readStream,
    json: parseCompletion,
  });
};
