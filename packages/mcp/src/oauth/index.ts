/**
 * @promenade/mcp/oauth — OAuth 2.1 for HTTP MCP servers: discovery (RFC 9728 → RFC 8414 / OpenID),
 * dynamic registration (RFC 7591), PKCE, token requests with RFC 8707 `resource`, grant storage,
 * the token broker, and the one interactive authorization. Named re-exports only.
 */
export { parseBearerChallenge } from "./challenge.ts";
export { canonicalServerUrl } from "./canonical-url.ts";
export { discoverAuthorization } from "./discovery.ts";
export { registerClient } from "./registration.ts";
export { createPkcePair, s256Challenge } from "./pkce.ts";
export { exchangeAuthorizationCode, refreshAccessToken, type TokenIo } from "./token-endpoint.ts";
export {
  authorizeServer,
  authorizeServer as authorizeMcpServer,
  type AuthorizeServerOptions,
} from "./authorize.ts";
export { FileTokenStore, MemoryTokenStore } from "./token-store.ts";
export {
  TokenBroker,
  brokerAuthProvider,
  type BrokeredToken,
  type TokenBrokerOptions,
} from "./broker.ts";
export type { TokenStore, McpAuthProvider, FetchLike } from "../ports.ts";
export type { AuthorizationDiscovery, TokenGrant, McpTokenEntry } from "../types.ts";
export { McpError, isMcpError, type McpErrorCode } from "../errors.ts";
