/**
 * `McpClient`: the MCP lifecycle on top of the JSON-RPC layer — the
 * `initialize` handshake with version negotiation, `tools/list` with pagination and
 * normalization, `tools/call` with result validation, `ping`, and `close()`. When an HTTP
 * server says the session expired, it initializes a new one once and retries the request. It never knows which
 * transport it has. Every server answer is schema-checked; a malformed one is a `PROTOCOL` error
 * naming the method, never a crash further down.
 */
import { z } from "zod";
import { McpError, isMcpError } from "./errors.ts";
import { JsonRpcConnection } from "./internal/json-rpc.ts";
import { packageVersion } from "./internal/version.ts";
import type { McpTransport } from "./ports.ts";
import type { CallToolResult, InitializeResult, McpTool, ToolContent } from "./types.ts";

/**
 * Protocol versions this client speaks, newest first. `2025-11-25` is wire-compatible with
 * `2025-06-18` for tools.
 */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
];

const DEFAULT_PROTOCOL_VERSION = "2025-06-18";

/** Options of {@link McpClient}. */
export interface McpClientOptions {
  /** Names the server in errors. Default: the transport's label (command or URL host). */
  label?: string;
  /** Sent as `clientInfo`. Default `{ name: "promenade", version: <this package's version> }`. */
  clientInfo?: { name: string; version: string };
  /** Version offered in `initialize`; one of {@link SUPPORTED_PROTOCOL_VERSIONS}. Default `2025-06-18`. */
  protocolVersion?: string;
  /** Per-request timeout in ms. Default 60_000. */
  requestTimeoutMs?: number;
  /** Most `tools/list` pages `listAllTools()` follows before failing `PROTOCOL`. Default 100. */
  maxToolPages?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** Overrides the client's `requestTimeoutMs` for this call. */
  timeoutMs?: number;
  /** Aborting rejects with `ABORTED` and sends `notifications/cancelled`. */
  signal?: AbortSignal;
}

const looseRecord = z.record(z.string(), z.unknown());

const initializeSchema = z.looseObject({
  protocolVersion: z.string().min(1),
  capabilities: looseRecord.optional(),
  serverInfo: z.looseObject({ name: z.string(), version: z.string() }).optional(),
  instructions: z.string().optional(),
});

const toolSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  inputSchema: looseRecord.optional(),
  title: z.string().optional(),
  annotations: looseRecord.optional(),
  outputSchema: looseRecord.optional(),
});

const listSchema = z.looseObject({
  tools: z.array(toolSchema),
  nextCursor: z.string().nullable().optional(),
});

const callSchema = z.looseObject({
  content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })).optional(),
  isError: z.boolean().nullable().optional(),
  structuredContent: z.unknown().optional(),
});

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid shape";
  const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  return `${path}: ${issue.message}`;
}

function labelOf(transport: McpTransport): string {
  const label = (transport as { label?: unknown }).label;
  return typeof label === "string" && label !== "" ? label : "mcp";
}

/**
 * A connection to one MCP server. Call {@link McpClient.connect} first (or use
 * {@link connectMcp}); release it with {@link McpClient.close}.
 */
export class McpClient {
  readonly #rpc: JsonRpcConnection;
  readonly #transport: McpTransport;
  readonly #options: McpClientOptions;
  #protocolVersion: string | null = null;
  #serverInfo: { name: string; version: string } | null = null;
  #serverCapabilities: Record<string, unknown> | null = null;
  #instructions: string | null = null;
  #reconnecting: Promise<InitializeResult> | null = null;

  constructor(transport: McpTransport, options: McpClientOptions = {}) {
    this.#transport = transport;
    this.#options = options;
    this.#rpc = new JsonRpcConnection(
      transport,
      options.label ?? labelOf(transport),
      options.requestTimeoutMs ?? 60_000,
    );
  }

  /** The label naming this server in errors. */
  get label(): string {
    return this.#rpc.label;
  }

  /** The negotiated protocol version, once connected. */
  get protocolVersion(): string | null {
    return this.#protocolVersion;
  }

  /** The server's `serverInfo`, once connected (null if it sent none). */
  get serverInfo(): { name: string; version: string } | null {
    return this.#serverInfo;
  }

  /** The server's `capabilities`, once connected. Recorded, not enforced. */
  get serverCapabilities(): Record<string, unknown> | null {
    return this.#serverCapabilities;
  }

  /** The server's `instructions`, once connected (null if it sent none). */
  get instructions(): string | null {
    return this.#instructions;
  }

  /**
   * Runs `initialize` and sends `notifications/initialized`. Throws `PROTOCOL` for a malformed
   * answer or a version this client does not speak, or the transport's error.
   */
  async connect(): Promise<InitializeResult> {
    const offered = this.#options.protocolVersion ?? DEFAULT_PROTOCOL_VERSION;
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(offered)) {
      throw new McpError("PROTOCOL", `protocolVersion "${offered}" is not one this client speaks`, {
        label: this.label,
        hint: `use one of ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}`,
      });
    }
    const raw = await this.#rpc.request("initialize", {
      protocolVersion: offered,
      capabilities: {},
      clientInfo: this.#options.clientInfo ?? { name: "promenade", version: packageVersion() },
    });
    const parsed = initializeSchema.safeParse(raw);
    if (!parsed.success) {
      throw this.#malformed("initialize", parsed.error);
    }
    const result = parsed.data;
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(result.protocolVersion)) {
      throw new McpError(
        "PROTOCOL",
        `MCP server "${this.label}" answered protocol version "${result.protocolVersion}", which this client does not speak`,
        {
          label: this.label,
          hint: `supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}; upgrade @promenade/mcp or pin the server to one of them`,
        },
      );
    }
    this.#protocolVersion = result.protocolVersion;
    this.#serverCapabilities = result.capabilities ?? {};
    this.#serverInfo = result.serverInfo
      ? { name: result.serverInfo.name, version: result.serverInfo.version }
      : null;
    this.#instructions = result.instructions ?? null;
    this.#transport.setProtocolVersion?.(result.protocolVersion);
    await this.#rpc.notify("notifications/initialized");
    const out: InitializeResult = {
      protocolVersion: result.protocolVersion,
      capabilities: this.#serverCapabilities,
    };
    if (this.#serverInfo) out.serverInfo = this.#serverInfo;
    if (result.instructions !== undefined) out.instructions = result.instructions;
    return out;
  }

  /** One `tools/list` page, normalized. Throws `PROTOCOL` on a malformed page. */
  async listTools(cursor?: string): Promise<{ tools: McpTool[]; nextCursor?: string }> {
    const raw = await this.#recovering("tools/list", cursor === undefined ? {} : { cursor });
    const parsed = listSchema.safeParse(raw);
    if (!parsed.success) throw this.#malformed("tools/list", parsed.error);
    const tools = parsed.data.tools.map((tool) => {
      // Unknown fields (`_meta`, `icons`, …) are kept for standalone callers.
      return {
        ...tool,
        description: tool.description ?? "",
        inputSchema: tool.inputSchema ?? { type: "object" },
      } as McpTool;
    });
    const next = parsed.data.nextCursor;
    return typeof next === "string" ? { tools, nextCursor: next } : { tools };
  }

  /** Every tool, following `nextCursor` up to `maxToolPages` pages (then `PROTOCOL`). */
  async listAllTools(): Promise<McpTool[]> {
    const maxPages = this.#options.maxToolPages ?? 100;
    const all: McpTool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const result = await this.listTools(cursor);
      all.push(...result.tools);
      if (result.nextCursor === undefined) return all;
      cursor = result.nextCursor;
    }
    throw new McpError(
      "PROTOCOL",
      `MCP server "${this.label}" paginated past ${maxPages} pages of tools/list`,
      { label: this.label, hint: "raise maxToolPages if the server really has that many tools" },
    );
  }

  /**
   * Calls a tool and returns its validated result. A tool-level failure is `isError: true`, not a
   * throw; JSON-RPC errors throw `RPC_ERROR`, timeouts `TIMEOUT`, aborts `ABORTED`.
   */
  async callTool(
    name: string,
    args: Record<string, unknown> = {},
    options: CallOptions = {},
  ): Promise<CallToolResult> {
    const raw = await this.#recovering("tools/call", { name, arguments: args }, options);
    const parsed = callSchema.safeParse(raw);
    if (!parsed.success) throw this.#malformed("tools/call", parsed.error);
    const result: CallToolResult = {
      content: (parsed.data.content ?? []) as ToolContent[],
      isError: parsed.data.isError === true,
    };
    if (parsed.data.structuredContent !== undefined) {
      result.structuredContent = parsed.data.structuredContent;
    }
    return result;
  }

  /** Round-trips a `ping`. */
  async ping(options: { timeoutMs?: number } = {}): Promise<void> {
    await this.#recovering("ping", undefined, options);
  }

  /** Sends any request and resolves with its raw, unvalidated `result`. */
  request(method: string, params?: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.#rpc.request(method, params, options);
  }

  /** Sends a notification. */
  notify(method: string, params?: unknown): Promise<void> {
    return this.#rpc.notify(method, params);
  }

  /** Calls `handler` for every server notification `method`; returns the unsubscribe function. */
  onNotification(method: string, handler: (params: unknown) => void): () => void {
    return this.#rpc.onNotification(method, handler);
  }

  /** Idempotent: rejects pending requests (`CLOSED`) and closes the transport. */
  close(): Promise<void> {
    return this.#rpc.close();
  }

  /**
   * One request; when the server answers that the session it was sent with expired (HTTP 404
   * on a request that carried the session id), initializes a new session once and sends the
   * request again. A second failure is returned as is.
   */
  async #recovering(method: string, params: unknown, options: CallOptions = {}): Promise<unknown> {
    const session = this.#transport.sessionId ?? null;
    try {
      return await this.#rpc.request(method, params, options);
    } catch (error) {
      const expired =
        session !== null &&
        isMcpError(error) &&
        error.code === "HTTP_STATUS" &&
        error.status === 404 &&
        this.#transport.sessionId !== session;
      if (!expired) throw error;
      // Concurrent requests that hit the same expiry share one new session.
      if (this.#transport.sessionId === null) {
        this.#reconnecting ??= this.connect().finally(() => {
          this.#reconnecting = null;
        });
      }
      if (this.#reconnecting !== null) await this.#reconnecting;
      return this.#rpc.request(method, params, options);
    }
  }

  #malformed(method: string, error: z.ZodError): McpError {
    return new McpError(
      "PROTOCOL",
      `MCP server "${this.label}" sent a malformed ${method} result (${describeIssue(error)})`,
      {
        label: this.label,
        hint: "the server does not follow the MCP schema; report it to its author",
      },
    );
  }
}

/** Creates a client and connects it; closes the transport if the handshake fails. */
export async function connectMcp(
  transport: McpTransport,
  options?: McpClientOptions,
): Promise<McpClient> {
  const client = new McpClient(transport, options);
  try {
    await client.connect();
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

/**
 * Flattens tool content to text: text items verbatim, others as `[<type>]`,
 * joined with `\n`; no content → `""`.
 */
export function flattenToolContent(result: CallToolResult): string {
  return result.content
    .map((item) =>
      item.type === "text" && typeof item.text === "string" ? item.text : `[${item.type}]`,
    )
    .join("\n");
}
