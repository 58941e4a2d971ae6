/**
 * Scripted model providers as real HTTP servers on 127.0.0.1 (node:http), speaking the real
 * OpenAI chat-completions, Anthropic Messages (SSE) and Gemini (SSE) wire formats, and recording
 * every request (method, path, headers, raw and parsed body). Replies are served from a queue,
 * then from a steady reply (a value or a function of the request). Tests use these instead of
 * fetch mocks so the adapters' real HTTP, retry and stream handling is exercised.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the fake received. */
export interface RecordedRequest {
  method: string;
  /** Path plus query string. */
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The body as received. */
  rawBody: string;
  /** The body parsed as JSON (undefined when not JSON). */
  body: unknown;
}

/** One scripted reply. Exactly one of `json`, `sse`, `text` is normally set. */
export interface FakeReply {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** Served as `application/json`. */
  json?: unknown;
  /**
   * Served as `text/event-stream`, one event per entry, each written separately. An object is
   * sent as `data: <json>` (with an `event: <type>` line when it has a string `type`); a string
   * is written verbatim (use it for raw frames such as `data: [DONE]\n\n`).
   */
  sse?: readonly (string | Record<string, unknown>)[];
  /** Served as `text/plain`. */
  text?: string;
}

/** A reply, or a function computing it from the request and its 0-based index. */
export type FakeScriptEntry = FakeReply | ((request: RecordedRequest, index: number) => FakeReply);

/** Options of {@link startFakeProvider}. */
export interface FakeProviderOptions {
  /** Served in order, one per request. */
  replies?: readonly FakeScriptEntry[];
  /** Served once the queue is empty. Default: a 500 naming the exhausted script. */
  steady?: FakeScriptEntry;
  /** Path prefix included in `baseUrl` (e.g. `/v1`). Default `""`. */
  basePath?: string;
}

/** A running fake provider. */
export interface FakeProvider {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** `origin + basePath`: what a `ResolvedModel.baseUrl` should hold. */
  readonly baseUrl: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Appends replies to the queue. */
  enqueue(...replies: FakeScriptEntry[]): void;
  /** Replaces the steady reply. */
  setSteady(reply: FakeScriptEntry): void;
  /** Stops the server (idempotent). */
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function sseFrame(entry: string | Record<string, unknown>): string {
  if (typeof entry === "string") return entry;
  const event = typeof entry.type === "string" ? `event: ${entry.type}\n` : "";
  return `${event}data: ${JSON.stringify(entry)}\n\n`;
}

async function send(response: ServerResponse, reply: FakeReply): Promise<void> {
  const status = reply.status ?? 200;
  if (reply.sse !== undefined) {
    response.writeHead(status, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      ...reply.headers,
    });
    for (const entry of reply.sse) {
      response.write(sseFrame(entry));
      // Yield so separate events usually leave in separate TCP writes (the client must not care).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    response.end();
    return;
  }
  if (reply.json !== undefined) {
    response.writeHead(status, { "content-type": "application/json", ...reply.headers });
    response.end(JSON.stringify(reply.json));
    return;
  }
  response.writeHead(status, { "content-type": "text/plain", ...reply.headers });
  response.end(reply.text ?? "");
}

/** Starts a scripted provider on an ephemeral 127.0.0.1 port. */
export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const queue: FakeScriptEntry[] = [...(options.replies ?? [])];
  let steady: FakeScriptEntry =
    options.steady ??
    ((_request, index) => ({
      status: 500,
      text: `fake provider: no scripted reply for request ${index + 1}`,
    }));
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const rawBody = await readBody(request);
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      const recorded: RecordedRequest = {
        method: request.method ?? "",
        path: request.url ?? "",
        headers,
        rawBody,
        body,
      };
      const index = requests.length;
      requests.push(recorded);
      const entry = queue.length > 0 ? queue.shift()! : steady;
      const reply = typeof entry === "function" ? entry(recorded, index) : entry;
      await send(response, reply);
    })().catch((err: unknown) => {
      response.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  return {
    origin,
    baseUrl: origin + (options.basePath ?? ""),
    requests,
    enqueue: (...replies) => queue.push(...replies),
    setSteady: (reply) => {
      steady = reply;
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/**
 * Usage in neutral form for the builders below; each is written in the provider's own wire
 * fields and conventions (e.g. Anthropic's `input_tokens` leaves the cached tokens out).
 */
export interface FakeUsage {
  input?: number;
  output?: number;
  /**
   * Prompt-cache hits (OpenAI `prompt_tokens_details.cached_tokens`, Anthropic
   * `cache_read_input_tokens`, Gemini `cachedContentTokenCount`).
   */
  cached?: number;
  /** Prompt-cache writes (Anthropic `cache_creation_input_tokens`). */
  cacheWrite?: number;
  /**
   * Reasoning tokens (OpenAI `completion_tokens_details.reasoning_tokens`, Gemini
   * `thoughtsTokenCount`).
   */
  reasoning?: number;
}

/** A scripted tool call: `arguments` as the model would send them (string = raw JSON text). */
export interface FakeToolCall {
  id: string;
  name: string;
  arguments?: string | Record<string, unknown>;
}

// ---- OpenAI chat completions -------------------------------------------------------------

function openAiUsage(usage: FakeUsage | undefined): Record<string, unknown> | undefined {
  if (usage === undefined) return undefined;
  const out: Record<string, unknown> = {};
  if (usage.input !== undefined) out.prompt_tokens = usage.input;
  if (usage.output !== undefined) out.completion_tokens = usage.output;
  if (usage.input !== undefined || usage.output !== undefined) {
    out.total_tokens = (usage.input ?? 0) + (usage.output ?? 0);
  }
  if (usage.cached !== undefined) out.prompt_tokens_details = { cached_tokens: usage.cached };
  if (usage.reasoning !== undefined) {
    out.completion_tokens_details = { reasoning_tokens: usage.reasoning };
  }
  return out;
}

/** A chat completion answering `content` (finish `stop`). */
export function openAiText(
  content: string,
  usage: FakeUsage = { input: 10, output: 5 },
): FakeReply {
  return {
    json: {
      id: "chatcmpl-fake",
      object: "chat.completion",
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
      usage: openAiUsage(usage),
    },
  };
}

/** A chat completion requesting `calls` (finish `tool_calls`, content null unless given). */
export function openAiToolCalls(
  calls: readonly FakeToolCall[],
  options: { content?: string; usage?: FakeUsage } = {},
): FakeReply {
  return {
    json: {
      id: "chatcmpl-fake",
      object: "chat.completion",
      choices: [
        {
          index: 0,
          finish_reason: "tool_calls",
          message: {
            role: "assistant",
            content: options.content ?? null,
            tool_calls: calls.map((call) => ({
              id: call.id,
              type: "function",
              function: {
                name: call.name,
                arguments:
                  typeof call.arguments === "string"
                    ? call.arguments
                    : JSON.stringify(call.arguments ?? {}),
              },
            })),
          },
        },
      ],
      usage: openAiUsage(options.usage ?? { input: 10, output: 5 }),
    },
  };
}

/** A streamed chat completion (`chat.completion.chunk` events, then `[DONE]`). */
export function openAiStream(
  chunks: readonly string[],
  options: { toolCalls?: readonly FakeToolCall[]; usage?: FakeUsage } = {},
): FakeReply {
  const events: (string | Record<string, unknown>)[] = chunks.map((content) => ({
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  }));
  (options.toolCalls ?? []).forEach((call, index) => {
    events.push({
      object: "chat.completion.chunk",
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              {
                index,
                id: call.id,
                type: "function",
                function: {
                  name: call.name,
                  arguments:
                    typeof call.arguments === "string"
                      ? call.arguments
                      : JSON.stringify(call.arguments ?? {}),
                },
              },
            ],
          },
          finish_reason: null,
        },
      ],
    });
  });
  events.push({
    object: "chat.completion.chunk",
    choices: [
      {
        index: 0,
        delta: {},
        finish_reason: (options.toolCalls ?? []).length > 0 ? "tool_calls" : "stop",
      },
    ],
    usage: openAiUsage(options.usage ?? { input: 10, output: 5 }),
  });
  events.push("data: [DONE]\n\n");
  return { sse: events };
}

/** An OpenAI-compatible fake; `baseUrl` ends in `/v1`. Steady reply: `openAiText("ok")`. */
export function startFakeOpenAiProvider(
  options: { replies?: readonly FakeScriptEntry[]; steady?: FakeScriptEntry } = {},
): Promise<FakeProvider> {
  return startFakeProvider({
    basePath: "/v1",
    replies: options.replies ?? [],
    steady: options.steady ?? openAiText("ok"),
  });
}

// ---- Anthropic Messages (SSE) --------------------------------------------------------------

/** A scripted Anthropic tool use; `partialJson` gives the exact `input_json_delta` pieces. */
export interface FakeToolUse {
  id: string;
  name: string;
  input?: Record<string, unknown>;
  partialJson?: readonly string[];
}

/** A streamed Anthropic message: text chunks, tool uses, usage and stop reason. */
export function anthropicStream(options: {
  text?: string | readonly string[];
  toolUses?: readonly FakeToolUse[];
  usage?: FakeUsage;
  stopReason?: string;
  /** Appended after the content, e.g. an `{ type: "error", … }` event. */
  extraEvents?: readonly Record<string, unknown>[];
}): FakeReply {
  const usage = options.usage ?? { input: 10, output: 5 };
  const events: Record<string, unknown>[] = [
    {
      type: "message_start",
      message: {
        id: "msg_fake",
        type: "message",
        role: "assistant",
        content: [],
        model: "fake",
        usage: {
          input_tokens: usage.input ?? 0,
          output_tokens: 1,
          ...(usage.cached === undefined ? {} : { cache_read_input_tokens: usage.cached }),
          ...(usage.cacheWrite === undefined
            ? {}
            : { cache_creation_input_tokens: usage.cacheWrite }),
        },
      },
    },
  ];
  let index = 0;
  const chunks = typeof options.text === "string" ? [options.text] : (options.text ?? []);
  if (chunks.length > 0) {
    events.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
    events.push({ type: "ping" });
    for (const text of chunks) {
      events.push({ type: "content_block_delta", index, delta: { type: "text_delta", text } });
    }
    events.push({ type: "content_block_stop", index });
    index++;
  }
  for (const use of options.toolUses ?? []) {
    events.push({
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: use.id, name: use.name, input: {} },
    });
    for (const partial of use.partialJson ?? [JSON.stringify(use.input ?? {})]) {
      events.push({
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: partial },
      });
    }
    events.push({ type: "content_block_stop", index });
    index++;
  }
  events.push(...(options.extraEvents ?? []));
  const stopReason =
    options.stopReason ?? ((options.toolUses ?? []).length > 0 ? "tool_use" : "end_turn");
  events.push({
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output ?? 0 },
  });
  events.push({ type: "message_stop" });
  return { sse: events };
}

/** An Anthropic fake; `baseUrl` is the origin. Steady reply: a streamed `"ok"`. */
export function startFakeAnthropicProvider(
  options: { replies?: readonly FakeScriptEntry[]; steady?: FakeScriptEntry } = {},
): Promise<FakeProvider> {
  return startFakeProvider({
    replies: options.replies ?? [],
    steady: options.steady ?? anthropicStream({ text: "ok" }),
  });
}

// ---- Gemini native (SSE) -------------------------------------------------------------------

/** A streamed Gemini `streamGenerateContent?alt=sse` reply. */
export function geminiStream(options: {
  text?: string | readonly string[];
  functionCalls?: readonly { name: string; args?: Record<string, unknown> }[];
  usage?: FakeUsage;
}): FakeReply {
  const usage = options.usage ?? { input: 10, output: 5 };
  const chunks = typeof options.text === "string" ? [options.text] : (options.text ?? []);
  const events: Record<string, unknown>[] = chunks.map((text) => ({
    candidates: [{ content: { role: "model", parts: [{ text }] }, index: 0 }],
  }));
  if ((options.functionCalls ?? []).length > 0) {
    events.push({
      candidates: [
        {
          content: {
            role: "model",
            parts: (options.functionCalls ?? []).map((call) => ({
              functionCall: { name: call.name, args: call.args ?? {} },
            })),
          },
          index: 0,
        },
      ],
    });
  }
  events.push({
    candidates: [{ content: { role: "model", parts: [] }, finishReason: "STOP", index: 0 }],
    usageMetadata: {
      promptTokenCount: usage.input ?? 0,
      candidatesTokenCount: usage.output ?? 0,
      totalTokenCount: (usage.input ?? 0) + (usage.output ?? 0) + (usage.reasoning ?? 0),
      ...(usage.cached === undefined ? {} : { cachedContentTokenCount: usage.cached }),
      ...(usage.reasoning === undefined ? {} : { thoughtsTokenCount: usage.reasoning }),
    },
  });
  return { sse: events };
}

/** A native Gemini fake; `baseUrl` is the origin. Steady reply: a streamed `"ok"`. */
export function startFakeGeminiProvider(
  options: { replies?: readonly FakeScriptEntry[]; steady?: FakeScriptEntry } = {},
): Promise<FakeProvider> {
  return startFakeProvider({
    replies: options.replies ?? [],
    steady: options.steady ?? geminiStream({ text: "ok" }),
  });
}
