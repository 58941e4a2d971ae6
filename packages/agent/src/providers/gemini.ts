/**
 * Native Google Gemini API (protocol `"gemini"`):
 * `POST <baseUrl>/v1beta/models/<model>:streamGenerateContent?alt=sse` with `x-goog-api-key`.
 * Streamed `GenerateContentResponse` chunks (or one JSON body / array) build text, function
 * calls (ids synthesized as `call-<n>`) and usage. The built-in `google` provider uses the
 * OpenAI-compatible surface instead; this adapter serves providers configured with it.
 */
import { EngineError } from "@promenade/workflow/errors";
import {
  isEventStream,
  isObject,
  mergeHeaders,
  parseEventJson,
  postWithRetry,
  readEvents,
  readJson,
  tokenCount,
  toolCallFromValue,
} from "./http.ts";
import type { ChatAdapter, ChatArgs, ChatMessage, ChatTurn, ToolCallRequest } from "./types.ts";
import { base64Of, type Attachment } from "../attachments.ts";
import type { TokenUsage } from "../ports.ts";

/** The part of one attachment: `inlineData` with its content, or `fileData` by URI. */
function attachmentPart(attachment: Attachment): unknown {
  const data = base64Of(attachment);
  return data !== undefined
    ? { inlineData: { mimeType: attachment.mimeType, data } }
    : { fileData: { mimeType: attachment.mimeType, fileUri: attachment.url } };
}

/** Wire `contents` for the neutral conversation. */
export function geminiContents(messages: readonly ChatMessage[]): unknown[] {
  const names = new Map<string, string>();
  return messages.map((message) => {
    if (message.role === "user") {
      return {
        role: "user",
        parts: [{ text: message.text }, ...(message.attachments ?? []).map(attachmentPart)],
      };
    }
    if (message.role === "assistant") {
      const parts: unknown[] = [];
      if (message.text !== "") parts.push({ text: message.text });
      for (const call of message.toolCalls) {
        names.set(call.id, call.name);
        parts.push({ functionCall: { name: call.name, args: call.input } });
      }
      return { role: "model", parts };
    }
    return {
      role: "user",
      parts: message.results.map((result) => ({
        functionResponse: {
          name: result.name ?? names.get(result.id) ?? "",
          response: { content: result.content },
        },
      })),
    };
  });
}

/** The request body: `{ contents, tools? }`. */
export function geminiBody(args: ChatArgs): Record<string, unknown> {
  const body: Record<string, unknown> = { contents: geminiContents(args.messages) };
  if (args.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: args.tools.map((tool) => ({
          name: tool.name,
          description: tool.description,
          parameters: tool.inputSchema,
        })),
      },
    ];
  }
  return body;
}

interface Accumulator {
  text: string;
  toolCalls: ToolCallRequest[];
  usage: TokenUsage;
}

function absorb(
  chunk: Record<string, unknown>,
  into: Accumulator,
  onText: (text: string) => void,
): void {
  if (isObject(chunk.error)) {
    throw new EngineError(
      "PROVIDER_ERROR",
      `Gemini error: ${typeof chunk.error.message === "string" ? chunk.error.message : JSON.stringify(chunk.error)}`,
    );
  }
  if (isObject(chunk.usageMetadata)) {
    // Gemini counts thinking tokens apart from the candidates; `outputTokens` includes them.
    const input = tokenCount(chunk.usageMetadata.promptTokenCount);
    const output = tokenCount(chunk.usageMetadata.candidatesTokenCount);
    const cached = tokenCount(chunk.usageMetadata.cachedContentTokenCount);
    const thoughts = tokenCount(chunk.usageMetadata.thoughtsTokenCount);
    if (input !== undefined) into.usage.inputTokens = input;
    if (output !== undefined || thoughts !== undefined) {
      into.usage.outputTokens = (output ?? 0) + (thoughts ?? 0);
    }
    if (cached !== undefined) into.usage.cacheReadTokens = cached;
    if (thoughts !== undefined) into.usage.reasoningTokens = thoughts;
  }
  const candidates = chunk.candidates;
  if (!Array.isArray(candidates) || candidates.length === 0) return;
  const candidate: unknown = candidates[0];
  if (!isObject(candidate) || !isObject(candidate.content)) return;
  const parts = candidate.content.parts;
  if (!Array.isArray(parts)) return;
  for (const part of parts as unknown[]) {
    if (!isObject(part)) continue;
    if (typeof part.text === "string" && part.text !== "" && part.thought !== true) {
      into.text += part.text;
      onText(part.text);
    }
    if (isObject(part.functionCall)) {
      const name = typeof part.functionCall.name === "string" ? part.functionCall.name : "";
      const id =
        typeof part.functionCall.id === "string" && part.functionCall.id !== ""
          ? part.functionCall.id
          : `call-${into.toolCalls.length + 1}`;
      // Gemini omits `args` for a call without arguments: that is `{}`, not an error (null is).
      const args = part.functionCall.args;
      into.toolCalls.push(toolCallFromValue(id, name, args === undefined ? {} : args));
    }
  }
}

/**
 * Native Gemini request (streaming SSE; a JSON body is accepted too).
 * @throws EngineError `PROVIDER_ERROR` for HTTP failures, error chunks and malformed bodies.
 */
export const geminiChat: ChatAdapter = async (args, io) => {
  const headers = mergeHeaders(
    args.apiKey === null ? {} : { "x-goog-api-key": args.apiKey },
    args.headers,
  );
  const response = await postWithRetry(
    `${args.baseUrl}/v1beta/models/${args.model}:streamGenerateContent?alt=sse`,
    headers,
    JSON.stringify(geminiBody(args)),
    io,
  );
  const into: Accumulator = { text: "", toolCalls: [], usage: {} };
  if (isEventStream(response)) {
    await readEvents(response, (data) =>
      absorb(parseEventJson(data, "Gemini stream chunk"), into, (text) => io.onText(text, false)),
    );
  } else {
    const body = await readJson(response, "Gemini response");
    const chunks = Array.isArray(body) ? (body as unknown[]) : [body];
    for (const chunk of chunks) {
      if (!isObject(chunk)) throw new EngineError("PROVIDER_ERROR", "malformed Gemini response.");
      absorb(chunk, into, () => undefined);
    }
    if (into.text !== "") io.onText(into.text, true);
  }
  return { ...into, wantsTools: into.toolCalls.length > 0 } satisfies ChatTurn;
};
