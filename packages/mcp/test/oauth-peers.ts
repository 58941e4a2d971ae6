/**
 * Real OAuth peers for the integration tests: an in-process `oidc-provider` authorization server
 * (dynamic registration, PKCE, RFC 8707 resource indicators, rotating refresh tokens, dev
 * login/consent pages) protecting an SDK-built streamable-HTTP MCP server that validates bearer
 * tokens against it and serves RFC 9728 metadata. Plus `playBrowser`, which follows an
 * authorization URL the way a user's browser would, cookies and forms included.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { errors } from "oidc-provider";
import { startMcpHttpServer, type McpHttpServer } from "./mcp-http-server.ts";

/** The running peers. */
export interface OAuthPeers {
  issuer: string;
  provider: Provider;
  mcp: McpHttpServer;
  /** Successful refresh_token grants so far. */
  refreshCount(): number;
  /** Successful authorization_code grants so far. */
  codeCount(): number;
  close(): Promise<void>;
}

/** Options of {@link startOAuthPeers}. */
export interface OAuthPeerOptions {
  /** Offer dynamic client registration. Default true. */
  registration?: boolean;
  /** Override the resource_metadata URL the MCP server's 401 points at. */
  resourceMetadataUrl?: (origin: string) => string;
}

/** Starts the authorization server and the protected MCP server on 127.0.0.1. */
export async function startOAuthPeers(options: OAuthPeerOptions = {}): Promise<OAuthPeers> {
  let asHandler: ((req: IncomingMessage, res: ServerResponse) => unknown) | null = null;
  const asServer = createServer((req, res) => {
    void asHandler?.(req, res);
  });
  await new Promise<void>((resolve) => asServer.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(asServer.address() as AddressInfo).port}`;

  let provider: Provider | null = null;
  let resource = "";
  let origin = "";
  const mcp = await startMcpHttpServer({
    json: true,
    routes: (req, res) => {
      if (req.url !== "/.well-known/oauth-protected-resource/mcp") return false;
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          resource,
          authorization_servers: [issuer],
          scopes_supported: ["mcp"],
          bearer_methods_supported: ["header"],
        }),
      );
      return true;
    },
    authorize: async (req, res) => {
      const header = req.headers["authorization"];
      const token = header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
      if (token && provider) {
        const found = await provider.AccessToken.find(token);
        if (found && !found.isExpired && found.aud === resource) return true;
      }
      const metadata =
        options.resourceMetadataUrl?.(origin) ??
        `${origin}/.well-known/oauth-protected-resource/mcp`;
      res
        .writeHead(401, {
          "www-authenticate": `Bearer resource_metadata="${metadata}", scope="mcp"${token ? ', error="invalid_token"' : ""}`,
        })
        .end();
      return false;
    },
  });
  resource = mcp.url;
  origin = mcp.origin;

  provider = new Provider(issuer, {
    clients: [],
    cookies: { keys: ["promenade-mcp-test-cookie-key"] },
    features: {
      devInteractions: { enabled: true },
      registration: { enabled: options.registration ?? true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget();
          return {
            scope: "mcp",
            audience: resource,
            accessTokenFormat: "opaque",
            accessTokenTTL: 3600,
          };
        },
      },
    },
    // Public MCP clients do not ask for offline_access; grant refresh tokens anyway.
    issueRefreshToken: (_ctx, client) => Promise.resolve(client.grantTypeAllowed("refresh_token")),
    expiresWithSession: () => Promise.resolve(false),
    // Explicit lifetimes and account lookup keep oidc-provider's "you should change this" notices quiet.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      Grant: 86_400,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 86_400,
      Session: 86_400,
    },
    findAccount: (_ctx, sub) => Promise.resolve({ accountId: sub, claims: () => ({ sub }) }),
  });
  let refreshes = 0;
  let codes = 0;
  provider.on("grant.success", (ctx) => {
    const grantType = (ctx.oidc.params as { grant_type?: string } | undefined)?.grant_type;
    if (grantType === "refresh_token") refreshes++;
    if (grantType === "authorization_code") codes++;
  });
  asHandler = provider.callback();

  return {
    issuer,
    provider,
    mcp,
    refreshCount: () => refreshes,
    codeCount: () => codes,
    async close() {
      await mcp.close();
      asServer.closeAllConnections();
      await new Promise<void>((resolve) => asServer.close(() => resolve()));
    },
  };
}

/** What the browser ended on. */
export interface BrowserResult {
  url: string;
  status: number;
  body: string;
}

/**
 * Follows `startUrl` like a browser: redirects, cookies, and the dev login and consent forms
 * (logging in as `alice`), until a page without a form — normally our loopback callback.
 */
export async function playBrowser(startUrl: string): Promise<BrowserResult> {
  const jar = new Map<string, string>();
  let url = startUrl;
  let form: string | undefined;
  for (let hop = 0; hop < 25; hop++) {
    const headers: Record<string, string> = {};
    if (jar.size > 0) headers["cookie"] = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    if (form !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
    const response = await fetch(url, {
      method: form === undefined ? "GET" : "POST",
      headers,
      redirect: "manual",
      ...(form === undefined ? {} : { body: form }),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(";")[0] ?? "";
      const eq = pair.indexOf("=");
      if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    const body = await response.text();
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url).href;
      form = undefined;
      continue;
    }
    const match = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(body);
    if (!match?.[1]) return { url, status: response.status, body };
    const prompt = /name="prompt" value="([^"]+)"/.exec(match[2] ?? "")?.[1];
    url = new URL(match[1].replaceAll("&amp;", "&"), url).href;
    form =
      prompt === "login"
        ? new URLSearchParams({ prompt: "login", login: "alice", password: "secret" }).toString()
        : new URLSearchParams({ prompt: prompt ?? "consent" }).toString();
  }
  throw new Error(`browser gave up after 25 hops at ${url}`);
}
