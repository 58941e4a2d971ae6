/**
 * Streamable HTTP transport: one POST per outbound frame with the protocol's
 * own headers (which program headers cannot override), JSON or SSE responses (SSE parsed by
 * `eventsource-parser`), `Mcp-Session-Id` capture and replay (forgotten when the server answers
 * 404 to it, so a new `initialize` opens a fresh session), the 401 dance through an
 * `McpAuthProvider`, and a `DELETE` of the session on close. No retries. Invariants: a request
 * frame either gets its response delivered or its `send` rejects (never a silent hang), and no
 * response body is buffered beyond `maxFrameBytes`.
 */
import { createParser } from "eventsource-parser";
import { McpError, isMcpError } from "./errors.ts";
import { parseBearerChallenge } from "./oauth/challenge.ts";
import type { FetchLike, McpAuthProvider, McpTransport } from "./ports.ts";
import type { JsonRpcMessage } from "./types.ts";

/** Options of {@link StreamableHttpTransport}. */
export interface StreamableHttpTransportOptions {
  /** The MCP endpoint (e.g. `https://example.com/mcp`). */
  url: string | URL;
  /** Extra headers; cannot override `content-type`, `accept`, `mcp-session-id`, `mcp-protocol-version`. */
  headers?: Record<string, string>;
  /** Consulted after a 401 for a bearer token. Without it a 401 fails `UNAUTHORIZED`. */
  auth?: McpAuthProvider;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Names the server in errors. Default: the URL's host. */
  label?: string;
  /** Largest response body or SSE event in bytes before the request fails. Default 16 MiB. */
  maxFrameBytes?: number;
}

const ACCEPT = "application/json, text/event-stream";
const PROTECTED_HEADERS = new Set([
  "content-type",
  "accept",
  "mcp-session-id",
  "mcp-protocol-version",
]);
const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
const DELETE_TIMEOUT_MS = 5_000;
const MAX_AUTH_ATTEMPTS = 3;

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message !== error.message
    ? `${error.message} (${cause.message})`
    : error.message;
}

/** fetch's body typed as bytes (Node's types leave the chunk type open). */
function bodyReader(body: ReadableStream): ReadableStreamDefaultReader<Uint8Array> {
  return (body as ReadableStream<Uint8Array>).getReader();
}

function isRequest(message: JsonRpcMessage): message is {
  jsonrpc: "2.0";
  id: string | number;
  method: string;
  params?: unknown;
} {
  return "method" in message && "id" in message;
}

/** Talks to an MCP server over streamable HTTP. */
export class StreamableHttpTransport implements McpTransport {
  /** Names the server in errors. */
  readonly label: string;
  readonly #url: URL;
  readonly #headers: Record<string, string>;
  readonly #auth: McpAuthProvider | undefined;
  readonly #fetch: FetchLike;
  readonly #maxFrameBytes: number;
  readonly #messageHandlers: ((message: unknown) => void)[] = [];
  readonly #inFlight = new AbortController();
  #sessionId: string | null = null;
  #protocolVersion: string | null = null;
  #token: string | null = null;
  #closing: Promise<void> | null = null;

  /** Throws `INVALID_URL` for a URL that is not http(s). */
  constructor(options: StreamableHttpTransportOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new McpError("INVALID_URL", `invalid MCP server URL "${String(options.url)}"`, {
        hint: "pass an absolute http(s) URL such as https://example.com/mcp",
      });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new McpError("INVALID_URL", `MCP server URL "${url.href}" is not http(s)`, {
        hint: "streamable HTTP needs an http:// or https:// URL; use StdioTransport for local commands",
      });
    }
    this.#url = url;
    this.label = options.label ?? url.host;
    this.#headers = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (!PROTECTED_HEADERS.has(name.toLowerCase())) this.#headers[name.toLowerCase()] = value;
    }
    this.#auth = options.auth;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** The session id the server issued, or null. */
  get sessionId(): string | null {
    return this.#sessionId;
  }

  /** Sets the version sent as `mcp-protocol-version` on every later request. */
  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
  }

  /** Registers a receiver of every inbound frame. */
  onMessage(cb: (message: unknown) => void): void {
    this.#messageHandlers.push(cb);
  }

  /** HTTP connections never die on their own; the callback is never called. */
  onClose(_cb: (err: Error) => void): void {
    // Failures surface per request instead.
  }

  /**
   * POSTs one frame and delivers whatever the response carries. Resolves once the response was
   * consumed; rejects `UNREACHABLE`, `HTTP_STATUS`, `UNAUTHORIZED`, `AUTH_REQUIRED`, `PROTOCOL`
   * or `CLOSED`.
   */
  async send(message: JsonRpcMessage): Promise<void> {
    if (this.#closing) {
      throw new McpError("CLOSED", `MCP server "${this.label}": transport is closed`, {
        label: this.label,
      });
    }
    const method = "method" in message ? message.method : "response";
    const body = JSON.stringify(message);
    const sentSession = this.#sessionId !== null;
    let response: Response | undefined;
    for (let attempt = 1; attempt <= MAX_AUTH_ATTEMPTS; attempt++) {
      const sent = this.#token;
      response = await this.#post(body, sent);
      if (response.status !== 401) break;
      const challenge = parseBearerChallenge(response.headers.get("www-authenticate") ?? "");
      await response.body?.cancel().catch(() => undefined);
      if (!this.#auth || attempt === MAX_AUTH_ATTEMPTS) {
        throw new McpError(
          "UNAUTHORIZED",
          `MCP server "${this.label}" at ${this.#url.href} answered 401 Unauthorized to "${method}"`,
          {
            label: this.label,
            status: 401,
            hint: this.#auth
              ? "a fresh token was still rejected; re-authorize this server"
              : "supply credentials in the headers option (Authorization) or pass an auth provider",
          },
        );
      }
      this.#token = await this.#acquireToken(sent, challenge);
    }
    if (!response) throw new Error("unreachable: no response after the auth loop");
    await this.#handleResponse(response, message, method, sentSession);
  }

  /**
   * Idempotent: aborts in-flight requests, then DELETEs the session if one exists (errors and
   * status ignored, at most 5 s).
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#inFlight.abort();
    const sessionId = this.#sessionId;
    this.#sessionId = null;
    if (sessionId === null) return;
    try {
      const response = await this.#fetch(this.#url, {
        method: "DELETE",
        headers: this.#requestHeaders(this.#token, sessionId, false),
        signal: AbortSignal.timeout(DELETE_TIMEOUT_MS),
      });
      await response.body?.cancel().catch(() => undefined);
    } catch {
      // Best effort: the server may be gone, and the session dies with it anyway.
    }
  }

  #requestHeaders(
    token: string | null,
    sessionId: string | null,
    json: boolean,
  ): Record<string, string> {
    const headers: Record<string, string> = { ...this.#headers };
    if (json) {
      headers["content-type"] = "application/json";
      headers["accept"] = ACCEPT;
    }
    if (sessionId !== null) headers["mcp-session-id"] = sessionId;
    if (this.#protocolVersion !== null) headers["mcp-protocol-version"] = this.#protocolVersion;
    if (token !== null) headers["authorization"] = `Bearer ${token}`;
    return headers;
  }

  async #post(body: string, token: string | null): Promise<Response> {
    try {
      return await this.#fetch(this.#url, {
        method: "POST",
        headers: this.#requestHeaders(token, this.#sessionId, true),
        body,
        signal: this.#inFlight.signal,
      });
    } catch (error) {
      if (this.#closing) {
        throw new McpError(
          "CLOSED",
          `MCP server "${this.label}": transport closed during the request`,
          {
            label: this.label,
          },
        );
      }
      throw new McpError(
        "UNREACHABLE",
        `MCP server "${this.label}" at ${this.#url.href} is unreachable: ${describeError(error)}`,
        {
          label: this.label,
          hint: "check the URL and that the server is running; the call named this server, so it fails instead of dropping its tools",
          cause: error,
        },
      );
    }
  }

  async #acquireToken(
    failedToken: string | null,
    challenge: Record<string, string>,
  ): Promise<string> {
    let token: string | null;
    try {
      token = await this.#auth!.getAccessToken({
        serverUrl: this.#url.href,
        failedToken,
        challenge,
      });
    } catch (error) {
      if (isMcpError(error)) throw error;
      throw new McpError(
        "AUTH_REQUIRED",
        `MCP server "${this.label}": the auth provider failed: ${describeError(error)}`,
        { label: this.label, cause: error },
      );
    }
    if (token === null || token === "") {
      throw new McpError(
        "AUTH_REQUIRED",
        `MCP server "${this.label}" at ${this.#url.href} requires OAuth authorization`,
        { label: this.label, hint: "authorize this server once (authorizeServer) and try again" },
      );
    }
    return token;
  }

  async #handleResponse(
    response: Response,
    message: JsonRpcMessage,
    method: string,
    sentSession: boolean,
  ): Promise<void> {
    const sessionId = response.headers.get("mcp-session-id");
    if (sessionId) this.#sessionId = sessionId;
    const expectId = isRequest(message) ? message.id : undefined;

    if (response.status === 202 || response.status === 204) {
      await response.body?.cancel().catch(() => undefined);
      if (expectId !== undefined) throw this.#noResponse(method, response);
      return;
    }
    if (!response.ok) {
      const text = await this.#readText(response, 300).catch(() => "");
      // The session is gone on the server: forget it, so the next initialize starts a new one.
      if (response.status === 404 && sentSession) this.#sessionId = null;
      const sessionHint =
        response.status === 404 && sentSession
          ? "the server no longer knows this session (it expired or the server restarted); connect again"
          : response.status === 404
            ? "check that the URL points at the MCP endpoint"
            : "the server rejected the request; its body above says why";
      throw new McpError(
        "HTTP_STATUS",
        `MCP server "${this.label}" answered ${response.status} to "${method}"${text ? `: ${text}` : ""}`,
        { label: this.label, status: response.status, hint: sessionHint },
      );
    }

    const contentType = (response.headers.get("content-type") ?? "").toLowerCase();
    let delivered = false;
    const deliver = (payload: unknown): void => {
      const frames = Array.isArray(payload) ? (payload as unknown[]) : [payload];
      for (const frame of frames) {
        if (
          expectId !== undefined &&
          typeof frame === "object" &&
          frame !== null &&
          (frame as { id?: unknown }).id === expectId
        ) {
          delivered = true;
        }
        for (const handler of this.#messageHandlers) handler(frame);
      }
    };

    if (contentType.includes("text/event-stream")) {
      await this.#readEventStream(response, deliver, method);
    } else if (contentType.includes("application/json")) {
      const text = await this.#readBody(response, method);
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch {
        if (expectId !== undefined) {
          throw new McpError(
            "PROTOCOL",
            `MCP server "${this.label}" answered "${method}" with invalid JSON: ${text.slice(0, 300)}`,
            { label: this.label, hint: "the server is broken or is not an MCP server" },
          );
        }
        return;
      }
      deliver(payload);
    } else {
      const text = await this.#readText(response, 300).catch(() => "");
      if (expectId === undefined) return;
      throw new McpError(
        "PROTOCOL",
        `MCP server "${this.label}" answered "${method}" with content-type "${contentType || "(none)"}" instead of JSON or an event stream${text ? `: ${text}` : ""}`,
        {
          label: this.label,
          hint: `check that ${this.#url.href} is the MCP endpoint itself, not a web page or proxy`,
        },
      );
    }
    if (expectId !== undefined && !delivered) throw this.#noResponse(method, response);
  }

  #noResponse(method: string, response: Response): McpError {
    return new McpError(
      "PROTOCOL",
      `MCP server "${this.label}" ended its ${response.status} answer to "${method}" without a JSON-RPC response`,
      {
        label: this.label,
        hint: "the server dropped the request (it may have crashed mid-call); check its logs",
      },
    );
  }

  #tooLarge(method: string): McpError {
    return new McpError(
      "PROTOCOL",
      `MCP server "${this.label}" answered "${method}" with a frame larger than ${this.#maxFrameBytes} bytes`,
      { label: this.label, hint: "raise maxFrameBytes if such results are expected" },
    );
  }

  #streamError(method: string, error: unknown): McpError {
    if (this.#closing) {
      return new McpError(
        "CLOSED",
        `MCP server "${this.label}": transport closed during "${method}"`,
        {
          label: this.label,
        },
      );
    }
    return new McpError(
      "UNREACHABLE",
      `MCP server "${this.label}" at ${this.#url.href} broke off its answer to "${method}": ${describeError(error)}`,
      {
        label: this.label,
        hint: "the server or the network dropped the connection mid-response",
        cause: error,
      },
    );
  }

  /** Reads the whole body as UTF-8, failing `PROTOCOL` past `maxFrameBytes`. */
  async #readBody(response: Response, method: string): Promise<string> {
    if (!response.body) return "";
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (Number.isFinite(declared)) {
      if (declared > this.#maxFrameBytes) {
        await response.body.cancel().catch(() => undefined);
        throw this.#tooLarge(method);
      }
      // Fast path: a declared length within the cap cannot grow past it (fetch enforces it).
      try {
        return await response.text();
      } catch (error) {
        throw this.#streamError(method, error);
      }
    }
    const reader = bodyReader(response.body);
    const decoder = new TextDecoder();
    let text = "";
    let bytes = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (bytes > this.#maxFrameBytes) {
          await reader.cancel().catch(() => undefined);
          throw this.#tooLarge(method);
        }
        text += decoder.decode(value, { stream: true });
      }
    } catch (error) {
      if (error instanceof McpError) throw error;
      throw this.#streamError(method, error);
    }
    return text + decoder.decode();
  }

  /** Reads at most `limit` characters of the body (for error messages), then drops the rest. */
  async #readText(response: Response, limit: number): Promise<string> {
    if (!response.body) return "";
    const reader = bodyReader(response.body);
    const decoder = new TextDecoder();
    let text = "";
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel().catch(() => undefined);
    return text.slice(0, limit).trim();
  }

  async #readEventStream(
    response: Response,
    deliver: (payload: unknown) => void,
    method: string,
  ): Promise<void> {
    if (!response.body) return;
    let oversized = false;
    const parser = createParser({
      maxBufferSize: this.#maxFrameBytes,
      onEvent: (event) => {
        const data = event.data.trim();
        if (data === "" || data === "[DONE]") return;
        let payload: unknown;
        try {
          payload = JSON.parse(data);
        } catch {
          return; // An unparseable event is dropped; the stream goes on.
        }
        deliver(payload);
      },
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") oversized = true;
      },
    });
    const reader = bodyReader(response.body);
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
        if (oversized) {
          await reader.cancel().catch(() => undefined);
          throw this.#tooLarge(method);
        }
      }
      const tail = decoder.decode();
      if (tail) parser.feed(tail);
      // Promenade superset of WHATWG: an event still buffered at end of stream is dispatched
      // too. Ending the open line and adding a blank one does exactly that.
      parser.feed("\n\n");
    } catch (error) {
      if (error instanceof McpError) throw error;
      throw this.#streamError(method, error);
    }
  }
}
