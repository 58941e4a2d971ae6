/**
 * JSON-RPC 2.0 over one `McpTransport`: integer ids from 1, a pending table
 * with per-request timeouts and abort signals (both send `notifications/cancelled`), inbound
 * validation that drops anything malformed without disturbing pending requests, and replies to
 * server requests (`ping` → `{}`, everything else → -32601). Knows no MCP method except `ping`.
 * Invariant: every pending request settles exactly once, and nothing here rejects unobserved.
 */
import { McpError, isMcpError } from "../errors.ts";
import type { McpTransport } from "../ports.ts";
import type { JsonRpcId, JsonRpcMessage } from "../types.ts";

/** Per-request options. */
export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  cleanup: () => void;
}

// Methods the MCP spec forbids cancelling: a cancelled handshake leaves no usable session.
const NOT_CANCELLABLE = new Set(["initialize"]);

/** Renders a timeout the way messages quote it: `60s`, `0.3s`. */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A frame is well formed when it is an object with `jsonrpc: "2.0"`, an id that is absent, null,
 * a string or a number, a string `method` if any, and an `error` with a numeric `code` and a
 * string `message` if any. Anything else is dropped by the caller.
 */
function isWellFormed(frame: unknown): frame is Record<string, unknown> {
  if (!isObject(frame) || frame["jsonrpc"] !== "2.0") return false;
  const id = frame["id"];
  if (id !== undefined && id !== null && typeof id !== "string" && typeof id !== "number") {
    return false;
  }
  if (frame["method"] !== undefined && typeof frame["method"] !== "string") return false;
  const error = frame["error"];
  if (error !== undefined) {
    if (!isObject(error) || typeof error["code"] !== "number") return false;
    if (typeof error["message"] !== "string") return false;
  }
  return true;
}

/** A JSON-RPC peer over one transport. */
export class JsonRpcConnection {
  readonly #transport: McpTransport;
  readonly #label: string;
  readonly #defaultTimeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #handlers = new Map<string, Set<(params: unknown) => void>>();
  #nextId = 1;
  #closed = false;
  #deathError: Error | null = null;
  #closing: Promise<void> | null = null;

  constructor(transport: McpTransport, label: string, defaultTimeoutMs: number) {
    this.#transport = transport;
    this.#label = label;
    this.#defaultTimeoutMs = defaultTimeoutMs;
    transport.onMessage((frame) => this.#receive(frame));
    transport.onClose((err) => {
      this.#deathError = err;
      this.#rejectAll(err);
    });
  }

  /** The server label used in every message. */
  get label(): string {
    return this.#label;
  }

  /** Sends a request and resolves with its raw `result`. */
  request(method: string, params?: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closedError(method));
    if (this.#deathError) return Promise.reject(this.#deathError);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(this.#abortedError(method));
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? this.#defaultTimeoutMs;
    const frame: JsonRpcMessage =
      params === undefined
        ? { jsonrpc: "2.0", id, method }
        : { jsonrpc: "2.0", id, method, params };

    return new Promise<unknown>((resolve, reject) => {
      const onAbort = (): void => {
        this.#settle(id, this.#abortedError(method));
        this.#cancel(id, method, "aborted");
      };
      const timer = setTimeout(() => {
        this.#settle(
          id,
          new McpError(
            "TIMEOUT",
            `${this.#prefix()}"${method}" timed out after ${seconds(timeoutMs)}`,
            {
              label: this.#label,
              hint: "the server did not answer in time; raise requestTimeoutMs (or the call's timeoutMs) if it is just slow",
            },
          ),
        );
        this.#cancel(id, method, "timeout");
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, {
        method,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
      });
      this.#transport.send(frame).then(
        () => undefined,
        (error: unknown) => this.#settle(id, this.#wrap(error, method)),
      );
    });
  }

  /** Sends a notification (no id, no answer). */
  async notify(method: string, params?: unknown): Promise<void> {
    if (this.#closed) throw this.#closedError(method);
    if (this.#deathError) throw this.#deathError;
    const frame: JsonRpcMessage =
      params === undefined ? { jsonrpc: "2.0", method } : { jsonrpc: "2.0", method, params };
    try {
      await this.#transport.send(frame);
    } catch (error) {
      throw this.#wrap(error, method);
    }
  }

  /** Subscribes to one notification method; returns the unsubscribe function. */
  onNotification(method: string, handler: (params: unknown) => void): () => void {
    let set = this.#handlers.get(method);
    if (!set) {
      set = new Set();
      this.#handlers.set(method, set);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  /** Idempotent: rejects everything pending, closes the transport. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#rejectAll(
      new McpError("CLOSED", `${this.#prefix()}connection closed while the request was pending`, {
        label: this.#label,
      }),
    );
    this.#closing = this.#transport.close().catch(() => undefined);
    return this.#closing;
  }

  #prefix(): string {
    return `MCP server "${this.#label}": `;
  }

  #closedError(method: string): McpError {
    return new McpError(
      "CLOSED",
      `${this.#prefix()}connection is closed; cannot send "${method}"`,
      { label: this.#label, hint: "open a new client; a closed one cannot be reused" },
    );
  }

  #abortedError(method: string): McpError {
    return new McpError("ABORTED", `${this.#prefix()}"${method}" was aborted`, {
      label: this.#label,
    });
  }

  #wrap(error: unknown, method: string): Error {
    if (isMcpError(error)) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new McpError("PROTOCOL", `${this.#prefix()}sending "${method}" failed: ${reason}`, {
      label: this.#label,
      cause: error,
    });
  }

  #settle(id: number, outcome: Error | { result: unknown }): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.cleanup();
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome.result);
  }

  #rejectAll(error: Error): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, error);
  }

  /** Best effort: the server may already be gone, which is fine. */
  #cancel(id: number, method: string, reason: "timeout" | "aborted"): void {
    if (NOT_CANCELLABLE.has(method) || this.#closed || this.#deathError) return;
    this.#transport
      .send({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: id, reason },
      })
      .catch(() => undefined);
  }

  #reply(frame: JsonRpcMessage): void {
    if (this.#closed || this.#deathError) return;
    this.#transport.send(frame).catch(() => undefined);
  }

  #receive(frame: unknown): void {
    if (!isWellFormed(frame)) return;
    const id = frame["id"] as JsonRpcId | null | undefined;
    const method = frame["method"] as string | undefined;
    if (method !== undefined) {
      if (id !== undefined && id !== null) {
        this.#reply(
          method === "ping"
            ? { jsonrpc: "2.0", id, result: {} }
            : {
                jsonrpc: "2.0",
                id,
                error: {
                  code: -32601,
                  message: `Method not found: this client supports no server-initiated "${method}" requests`,
                },
              },
        );
        return;
      }
      for (const handler of this.#handlers.get(method) ?? []) {
        try {
          handler(frame["params"]);
        } catch {
          // A throwing handler must not take the connection down with it.
        }
      }
      return;
    }
    if (typeof id !== "number") return;
    const pending = this.#pending.get(id);
    if (!pending) return;
    const error = frame["error"] as { code: number; message: string } | undefined;
    if (error) {
      this.#settle(
        id,
        new McpError(
          "RPC_ERROR",
          `${this.#prefix()}"${pending.method}" failed: ${error.message} (code ${error.code})`,
          { label: this.#label, rpcCode: error.code },
        ),
      );
      return;
    }
    if (!("result" in frame)) return;
    this.#settle(id, { result: frame["result"] });
  }
}
