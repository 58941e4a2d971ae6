/**
 * Interfaces this package consumes, in its own words: the framing transport the
 * client talks through, the token source the HTTP transport asks after a 401, and the grant
 * storage the OAuth pieces read and write. Implementations satisfy them structurally.
 */
import type { JsonRpcMessage, McpTokenEntry } from "./types.ts";

/**
 * Moves JSON-RPC frames; knows nothing of the protocol. stdio and streamable HTTP
 * implement it, and `McpClient` never knows which it has.
 */
export interface McpTransport {
  /** Delivers one outbound frame; resolves when handed off (HTTP: once the response was consumed). */
  send(message: JsonRpcMessage): Promise<void>;
  /** Every inbound frame, JSON-parsed and unvalidated. */
  onMessage(cb: (message: unknown) => void): void;
  /** At most once, when the transport dies on its own (a stdio server exiting). */
  onClose(cb: (err: Error) => void): void;
  /** Deliberate teardown; never reported through `onClose`. */
  close(): Promise<void>;
  /** HTTP only: the negotiated version to send as `mcp-protocol-version`. */
  setProtocolVersion?(version: string): void;
  /**
   * HTTP only: the session id the server issued, or null. The transport forgets it when the
   * server answers 404 to a request that carried it (the session expired), so the client can
   * initialize a new one.
   */
  readonly sessionId?: string | null;
}

/** Supplies bearer tokens to the HTTP transport; consulted only after a 401. */
export interface McpAuthProvider {
  /**
   * Called only after a 401. Return a bearer to retry with, or null to give up (the send then
   * fails with `AUTH_REQUIRED`). `challenge` holds the 401's parsed Bearer parameters.
   */
  getAccessToken(ctx: {
    serverUrl: string;
    failedToken: string | null;
    challenge: Record<string, string>;
  }): Promise<string | null>;
}

/** Grant storage keyed by server URL; any spelling of one URL hits the same entry. */
export interface TokenStore {
  /** The stored grant, or null. */
  get(url: string): McpTokenEntry | null;
  /** Stores (replaces) the grant. */
  set(url: string, entry: McpTokenEntry): void;
  /** Removes the grant, if any. */
  delete(url: string): void;
}

/** The `fetch` this package calls; defaults to the global one. */
export type FetchLike = typeof fetch;
