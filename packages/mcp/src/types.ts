/**
 * Data shapes of the MCP client's public API: JSON-RPC frames, handshake and tool
 * results, OAuth discovery results and stored grants. Types only; no runtime code.
 */

/** A JSON-RPC request id. We only ever send integers; servers may use strings for theirs. */
export type JsonRpcId = string | number;

/** One JSON-RPC 2.0 frame: request, notification, result or error response. */
export type JsonRpcMessage =
  | { jsonrpc: "2.0"; id: JsonRpcId; method: string; params?: unknown }
  | { jsonrpc: "2.0"; method: string; params?: unknown }
  | { jsonrpc: "2.0"; id: JsonRpcId; result: unknown }
  | {
      jsonrpc: "2.0";
      id: JsonRpcId | null;
      error: { code: number; message: string; data?: unknown };
    };

/** The server's answer to `initialize`. */
export interface InitializeResult {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  serverInfo?: { name: string; version: string };
  instructions?: string;
}

/** A tool as listed by the server, normalized (description `""`, schema `{ type: "object" }`). */
export interface McpTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  title?: string;
  annotations?: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
}

/** One content item of a tool result (`text`, `image`, `audio`, `resource`, `resource_link`, …). */
export interface ToolContent {
  type: string;
  text?: string;
  [key: string]: unknown;
}

/** The validated result of `tools/call`; `isError` is a plain boolean (`null`/absent → false). */
export interface CallToolResult {
  content: ToolContent[];
  isError: boolean;
  structuredContent?: unknown;
}

/** Where and how to authorize against an HTTP MCP server. */
export interface AuthorizationDiscovery {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  registrationEndpoint?: string;
  /** RFC 8707 resource indicator sent on authorize and token requests. */
  resource: string;
  scopesSupported?: string[];
  /** `scope` of the server's 401 challenge, sent on the authorization request when present. */
  challengeScope?: string;
}

/** Tokens returned by a token endpoint; `expiresAt` is epoch ms. */
export interface TokenGrant {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
}

/** One stored grant, keyed by canonical server URL. */
export interface McpTokenEntry {
  clientId: string;
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms; absent = no known expiry. */
  expiresAt?: number;
  tokenEndpoint?: string;
  resource?: string;
}
