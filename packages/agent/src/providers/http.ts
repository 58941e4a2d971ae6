/**
 * HTTP behaviour shared by every provider adapter: case-insensitive header
 * merge with `content-type` owned by the engine, retries with exponential backoff on 429/5xx and
 * network failures (only before a body is read), optional per-attempt timeouts, event-stream
 * parsing with WHATWG rules, the request-then-read-either-way round (`requestTurn`), and tool
 * calls built from model arguments. No provider-specific JSON here.
 */
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import { createParser } from "eventsource-parser";
import type { ChatTurn, ProviderIo, ToolCallRequest } from "./types.ts";

/** Attempts per request (numbered 0–4). */
export const MAX_ATTEMPTS = 5;

/** Delay before attempt `n ≥ 1`: `500 × 2^(n−1) + uniform[0, 250)` ms. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return 500 * 2 ** (attempt - 1) + Math.floor(random() * 250);
}

/**
 * Merges header layers, later wins, names compared case-insensitively (the last spelling is
 * kept); `content-type: application/json` always comes last.
 */
export function mergeHeaders(...layers: Record<string, string>[]): Record<string, string> {
  const byLower = new Map<string, [string, string]>();
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer))
      byLower.set(name.toLowerCase(), [name, value]);
  }
  byLower.set("content-type", ["content-type", "application/json"]);
  const out: Record<string, string> = {};
  for (const [name, value] of byLower.values()) out[name] = value;
  return out;
}

class RetryableError extends Error {}

async function attempt(
  url: string,
  headers: Record<string, string>,
  body: string,
  io: ProviderIo,
): Promise<Response> {
  const controller = new AbortController();
  const timer =
    io.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new RetryableError(`timed out after ${io.timeoutMs} ms`)),
          io.timeoutMs,
        );
  let response: Response;
  try {
    response = await io.fetch(url, { method: "POST", headers, body, signal: controller.signal });
  } catch (err) {
    clearTimeout(timer);
    if (err instanceof RetryableError) throw err;
    if (controller.signal.aborted && controller.signal.reason instanceof RetryableError) {
      throw controller.signal.reason;
    }
    // fetch rejects with TypeError on network failure: retried. Anything else propagates.
    if (err instanceof TypeError) {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      throw new RetryableError(`network error: ${err.message}${cause ? ` (${cause})` : ""}`);
    }
    throw err;
  }
  // The timer keeps running through the body read: a provider that stalls mid-stream fails
  // the read (PROVIDER_ERROR, never retried) instead of hanging the run.
  if (timer !== undefined) {
    const done = (): void => clearTimeout(timer);
    response = trackBody(response, done);
  }
  return response;
}

/** Clears `done` when the body has been read or cancelled. */
function trackBody(response: Response, done: () => void): Response {
  if (response.body === null) {
    done();
    return response;
  }
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: finished } = await reader.read();
        if (finished) {
          done();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        done();
        controller.error(err);
      }
    },
    cancel(reason) {
      done();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/**
 * POSTs `body` with the retry policy (5 attempts, `500 × 2^(n−1) + [0, 250)` ms apart) and
 * returns the first 2xx response (body unread). Retries HTTP 429, ≥ 500, network failures and
 * timeouts; never after a body read.
 * @throws EngineError `PROVIDER_ERROR` — `provider returned <status>: <body…>` for other 4xx,
 *   `… after 5 attempts: <last error>` when retries are exhausted.
 */
export async function postWithRetry(
  url: string,
  headers: Record<string, string>,
  body: string,
  io: ProviderIo,
): Promise<Response> {
  let lastError = "";
  for (let n = 0; n < MAX_ATTEMPTS; n++) {
    if (n > 0) await io.sleep(backoffMs(n, io.random));
    let response: Response;
    try {
      response = await attempt(url, headers, body, io);
    } catch (err) {
      if (err instanceof RetryableError) {
        lastError = err.message;
        continue;
      }
      throw err;
    }
    if (response.ok) return response;
    if (response.status === 429 || response.status >= 500) {
      if (n === MAX_ATTEMPTS - 1) {
        lastError = `provider returned ${response.status}: ${(await safeText(response)).slice(0, 300)}`;
      } else {
        lastError = `provider returned ${response.status}`;
        // Free the connection without reading the body (retries never consume a body).
        await response.body?.cancel().catch(() => undefined);
      }
      continue;
    }
    const text = await safeText(response);
    throw new EngineError(
      "PROVIDER_ERROR",
      `provider returned ${response.status}: ${text.slice(0, 300)}`,
      response.status === 401 || response.status === 403
        ? "Check the provider's API key (api_key_env) and headers."
        : "Check the model name and the provider configuration.",
    );
  }
  throw new EngineError(
    "PROVIDER_ERROR",
    `provider request failed after ${MAX_ATTEMPTS} attempts: ${lastError}`,
    "The provider is unavailable or rate-limiting; retry later or raise its limits.",
  );
}

async function safeText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch {
    return "";
  }
}

/** True when the response is an event stream (else it is read as one JSON document). */
export function isEventStream(response: Response): boolean {
  return (response.headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream");
}

/**
 * Reads a JSON response body.
 * @throws EngineError `PROVIDER_ERROR` (`malformed <what>`) when it is not JSON.
 */
export async function readJson(response: Response, what: string): Promise<unknown> {
  const text = await readBodyText(response);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EngineError(
      "PROVIDER_ERROR",
      `malformed ${what}: the response body is not JSON (${JSON.stringify(text.slice(0, 120))}).`,
    );
  }
}

async function readBodyText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch (err) {
    throw bodyError(err);
  }
}

function bodyError(err: unknown): EngineError {
  if (isEngineError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new EngineError("PROVIDER_ERROR", `reading the provider response failed: ${message}`);
}

/**
 * Streams the `data` payloads of an event-stream body (WHATWG rules via `eventsource-parser`:
 * CRLF/LF/CR, comments, multi-line data joined by `\n`, dispatch at end of stream); `[DONE]` and
 * empty payloads are skipped. `onData` may throw to stop reading.
 */
export async function readEvents(
  response: Response,
  onData: (data: string) => void,
): Promise<void> {
  if (response.body === null) return;
  const pending: string[] = [];
  const parser = createParser({
    onEvent(event) {
      const data = event.data.trim();
      if (data !== "" && data !== "[DONE]") pending.push(event.data);
    },
  });
  const decoder = new TextDecoder();
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const drain = (): void => {
    while (pending.length > 0) onData(pending.shift()!);
  };
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw bodyError(err);
      }
      if (chunk.done) break;
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      drain();
    }
    parser.feed(decoder.decode());
    parser.reset({ consume: true });
    drain();
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Parses one event-stream payload as a JSON object.
 * @throws EngineError `PROVIDER_ERROR` (`malformed <what>`) otherwise.
 */
export function parseEventJson(data: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new EngineError(
      "PROVIDER_ERROR",
      `malformed ${what}: an event-stream payload is not JSON (${JSON.stringify(data.slice(0, 120))}).`,
    );
  }
  if (!isObject(value)) {
    throw new EngineError(
      "PROVIDER_ERROR",
      `malformed ${what}: an event payload is not an object.`,
    );
  }
  return value;
}

/** True for a non-null, non-array object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A non-negative integer token count, or undefined. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0
    ? Math.floor(value)
    : undefined;
}

/**
 * Parses model-produced tool arguments: empty/whitespace → `{}`; a JSON object →
 * itself; anything else → `{}` plus an `inputError` naming the tool and saying "not a JSON object".
 */
export function parseToolArguments(
  name: string,
  text: string,
): { input: Record<string, unknown>; inputError?: string } {
  if (text.trim() === "") return { input: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      input: {},
      inputError: `Arguments for tool "${name}" are not a JSON object (invalid JSON).`,
    };
  }
  if (!isObject(value)) {
    return { input: {}, inputError: `Arguments for tool "${name}" are not a JSON object.` };
  }
  return { input: value };
}

/**
 * A tool call from model-produced argument text (OpenAI `arguments`, Anthropic streamed
 * `partial_json`), parsed by {@link parseToolArguments}; the text is kept as `rawArguments`.
 */
export function toolCallFromText(id: string, name: string, rawArguments: string): ToolCallRequest {
  const parsed = parseToolArguments(name, rawArguments);
  const call: ToolCallRequest = { id, name, input: parsed.input, rawArguments };
  if (parsed.inputError !== undefined) call.inputError = parsed.inputError;
  return call;
}

/**
 * A tool call from an already-decoded argument value (Anthropic's JSON `input`, Gemini's
 * `args`): an object is the input; anything else is `{}` plus an `inputError` naming the tool.
 */
export function toolCallFromValue(id: string, name: string, input: unknown): ToolCallRequest {
  return isObject(input)
    ? { id, name, input }
    : { id, name, input: {}, inputError: `Arguments for tool "${name}" are not a JSON object.` };
}

/** How one protocol reads its answer: as an event stream, or as one JSON document. */
export interface TurnReader {
  /** Names the JSON document in `malformed <what>` errors. */
  what: string;
  /**
   * Reads an event-stream answer, passing text pieces to `onText` and reasoning pieces to
   * `onReasoning` as they arrive.
   */
  stream(
    response: Response,
    onText: (text: string, whole: boolean) => void,
    onReasoning: (text: string) => void,
  ): Promise<ChatTurn>;
  /** Reads a whole JSON answer. */
  json(value: unknown): ChatTurn;
}

/**
 * POSTs `body` (as JSON) with {@link postWithRetry} and reads the answer the way the server sent
 * it: streamed text reaches `io.onText` piece by piece; a JSON answer's text reaches it once,
 * whole (so it is redacted whole).
 * @throws EngineError `PROVIDER_ERROR` from the request or from `reader`.
 */
export async function requestTurn(
  url: string,
  headers: Record<string, string>,
  body: unknown,
  io: ProviderIo,
  reader: TurnReader,
): Promise<ChatTurn> {
  const response = await postWithRetry(url, headers, JSON.stringify(body), io);
  if (isEventStream(response)) {
    return reader.stream(
      response,
      (text, whole) => io.onText(text, whole),
      (text) => io.onReasoning?.(text),
    );
  }
  const turn = reader.json(await readJson(response, reader.what));
  if (turn.text !== "") io.onText(turn.text, true);
  return turn;
}
