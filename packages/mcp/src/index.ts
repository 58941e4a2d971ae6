/**
 * @promenade/mcp — a standalone Model Context Protocol client: JSON-RPC 2.0, stdio and
 * streamable HTTP transports, tools. OAuth 2.1 lives in the `./oauth` subpath. This file is the
 * only door in: named re-exports, nothing else.
 */
export {
  McpClient,
  connectMcp,
  flattenToolContent,
  SUPPORTED_PROTOCOL_VERSIONS,
  type McpClientOptions,
  type CallOptions,
} from "./client.ts";
export { StdioTransport, type StdioTransportOptions } from "./stdio-transport.ts";
export { StreamableHttpTransport, type StreamableHttpTransportOptions } from "./http-transport.ts";
export {
  McpError,
  isMcpError,
  toMcpErrorShape,
  type McpErrorCode,
  type McpErrorOptions,
} from "./errors.ts";
export type { McpTransport, McpAuthProvider, TokenStore, FetchLike } from "./ports.ts";
export type {
  JsonRpcId,
  JsonRpcMessage,
  InitializeResult,
  McpTool,
  ToolContent,
  CallToolResult,
  AuthorizationDiscovery,
  TokenGrant,
  McpTokenEntry,
} from "./types.ts";
