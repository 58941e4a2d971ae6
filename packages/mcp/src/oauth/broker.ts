/**
 * The engine-side token broker: hands out stored access tokens, refreshes them
 * when expired (with a skew) or when a caller reports one as rejected, persists rotated refresh
 * tokens, and answers "needs interactive authorization" with a hint, never a prompt.
 * Refreshes are single-flight per canonical server URL, so a rotating refresh token is never
 * spent twice; a failed refresh keeps the stored grant (an AS outage must not destroy it).
 */
import { McpError } from "../errors.ts";
import type { FetchLike, McpAuthProvider, TokenStore } from "../ports.ts";
import type { McpTokenEntry } from "../types.ts";
import { canonicalServerUrl } from "./canonical-url.ts";
import { refreshAccessToken } from "./token-endpoint.ts";

/** The broker's answer: a bearer, or null plus what to do about it. */
export interface BrokeredToken {
  accessToken: string | null;
  hint?: string;
}

/** Options of {@link TokenBroker}. */
export interface TokenBrokerOptions {
  store: TokenStore;
  fetch?: FetchLike;
  /** Treat tokens expiring within this many ms as expired. Default 30_000. */
  skewMs?: number;
  /** Epoch ms clock. Default `Date.now`. */
  now?: () => number;
  /** The hint for "authorize this server"; default names `engine.authorizeMcpServer("<url>")`. */
  hint?: (serverUrl: string) => string;
}

function defaultHint(serverUrl: string): string {
  return `run engine.authorizeMcpServer("${serverUrl}") (standalone: authorizeServer) to authorize it, then re-run`;
}

/** Hands out access tokens for stored grants, refreshing them when expired or rejected. */
export class TokenBroker {
  readonly #options: TokenBrokerOptions;
  readonly #inFlight = new Map<string, Promise<BrokeredToken>>();

  constructor(options: TokenBrokerOptions) {
    this.#options = options;
  }

  /**
   * A usable access token for `serverUrl`, refreshing if the stored one expires within the skew
   * or equals `invalidateToken`. `{ accessToken: null, hint }` when the server needs interactive
   * authorization (no grant, no refresh token, refresh refused). Throws `INVALID_URL`, or
   * `INTERNAL` for a corrupt store.
   */
  async getToken(serverUrl: string, invalidateToken?: string): Promise<BrokeredToken> {
    if (typeof serverUrl !== "string" || serverUrl === "") {
      throw new McpError("INVALID_URL", "getToken needs a non-empty serverUrl", {
        hint: "pass the MCP server's URL",
      });
    }
    const key = canonicalServerUrl(serverUrl);
    const pending = this.#inFlight.get(key);
    if (pending) {
      // Another caller is refreshing this grant: share its outcome instead of spending the
      // (possibly rotated) refresh token a second time.
      const shared = await pending;
      if (shared.accessToken === null) return shared;
    }
    const entry = this.#options.store.get(key);
    if (!entry) return this.#needsAuthorization(serverUrl);
    const invalidated = invalidateToken !== undefined && invalidateToken === entry.accessToken;
    const now = (this.#options.now ?? Date.now)();
    const expired =
      entry.expiresAt !== undefined && entry.expiresAt - (this.#options.skewMs ?? 30_000) <= now;
    if (!invalidated && !expired) return { accessToken: entry.accessToken };
    if (entry.refreshToken === undefined || entry.tokenEndpoint === undefined) {
      return this.#needsAuthorization(serverUrl);
    }
    const racing = this.#inFlight.get(key);
    if (racing) return racing;
    const refresh = this.#refresh(serverUrl, key, entry).finally(() => {
      this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, refresh);
    return refresh;
  }

  async #refresh(serverUrl: string, key: string, entry: McpTokenEntry): Promise<BrokeredToken> {
    const io: { fetch?: FetchLike; now?: () => number } = {};
    if (this.#options.fetch) io.fetch = this.#options.fetch;
    if (this.#options.now) io.now = this.#options.now;
    let grant;
    try {
      const args: {
        tokenEndpoint: string;
        clientId: string;
        refreshToken: string;
        resource?: string;
      } = {
        tokenEndpoint: entry.tokenEndpoint!,
        clientId: entry.clientId,
        refreshToken: entry.refreshToken!,
      };
      if (entry.resource !== undefined) args.resource = entry.resource;
      grant = await refreshAccessToken(args, io);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        accessToken: null,
        hint: `refreshing the stored token failed (${reason}); ${this.#hint(serverUrl)}`,
      };
    }
    const next: McpTokenEntry = {
      clientId: entry.clientId,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken ?? entry.refreshToken!,
    };
    // Promenade: no expires_in on refresh drops the old expiresAt instead of keeping a stale one.
    if (grant.expiresAt !== undefined) next.expiresAt = grant.expiresAt;
    if (entry.tokenEndpoint !== undefined) next.tokenEndpoint = entry.tokenEndpoint;
    if (entry.resource !== undefined) next.resource = entry.resource;
    this.#options.store.set(key, next);
    return { accessToken: grant.accessToken };
  }

  #hint(serverUrl: string): string {
    return (this.#options.hint ?? defaultHint)(serverUrl);
  }

  #needsAuthorization(serverUrl: string): BrokeredToken {
    return { accessToken: null, hint: this.#hint(serverUrl) };
  }
}

/**
 * An `McpAuthProvider` over a broker in the same process. A null token becomes an
 * `AUTH_REQUIRED` error carrying the broker's hint.
 */
export function brokerAuthProvider(broker: Pick<TokenBroker, "getToken">): McpAuthProvider {
  return {
    async getAccessToken({ serverUrl, failedToken }) {
      const answer = await broker.getToken(serverUrl, failedToken ?? undefined);
      if (answer.accessToken !== null) return answer.accessToken;
      throw new McpError("AUTH_REQUIRED", `MCP server ${serverUrl} requires OAuth authorization`, {
        hint: answer.hint ?? defaultHint(serverUrl),
      });
    },
  };
}
