/**
 * OAuth 2.1 end to end against real peers: oidc-provider as the authorization server and an
 * SDK-built MCP server as the protected resource. The test plays the browser. Covers the first
 * authorization, headless runs with silent refresh and rotation, a rejected access token, a
 * revoked refresh token, single-flight refresh, and the flow's failure modes.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  StreamableHttpTransport,
  connectMcp,
  flattenToolContent,
  type McpAuthProvider,
} from "../src/index.ts";
import {
  FileTokenStore,
  MemoryTokenStore,
  TokenBroker,
  authorizeServer,
  brokerAuthProvider,
  canonicalServerUrl,
  discoverAuthorization,
  type McpTokenEntry,
} from "../src/oauth/index.ts";
import { failure } from "./helpers.ts";
import { startMcpHttpServer } from "./mcp-http-server.ts";
import {
  playBrowser,
  startOAuthPeers,
  type BrowserResult,
  type OAuthPeers,
} from "./oauth-peers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function peers(options: Parameters<typeof startOAuthPeers>[0] = {}): Promise<OAuthPeers> {
  const started = await startOAuthPeers(options);
  cleanups.push(() => started.close());
  return started;
}

function tokenFile(): string {
  return join(mkdtempSync(join(tmpdir(), "promenade-mcp-oauth-")), "data", "mcp_tokens.json");
}

/** Authorizes once, playing the browser; returns the authorization URL and the browser's end page. */
async function authorizeOnce(
  as: OAuthPeers,
  store: FileTokenStore | MemoryTokenStore,
): Promise<{ authorizationUrl: URL; browser: BrowserResult }> {
  let browsing: Promise<BrowserResult> | undefined;
  let authorizationUrl: URL | undefined;
  // If the browser side fails, stop waiting for its callback instead of sitting out the timeout.
  const browserFailed = new AbortController();
  try {
    await authorizeServer(as.mcp.url, {
      store,
      clientName: "promenade-test",
      timeoutMs: 60_000,
      signal: browserFailed.signal,
      onAuthorizationUrl: (url) => {
        authorizationUrl = new URL(url);
        browsing = playBrowser(url);
        browsing.catch(() => browserFailed.abort());
      },
    });
  } catch (error) {
    await browsing; // Rethrows the browser's own failure, which says more.
    throw error;
  }
  return { authorizationUrl: authorizationUrl!, browser: await browsing! };
}

async function headlessClient(url: string, auth: McpAuthProvider) {
  const client = await connectMcp(new StreamableHttpTransport({ url, auth, label: "locked" }));
  cleanups.push(() => client.close());
  return client;
}

function expireStoredToken(path: string, url: string): McpTokenEntry {
  const all = JSON.parse(readFileSync(path, "utf8")) as Record<string, McpTokenEntry>;
  const key = canonicalServerUrl(url);
  all[key] = { ...all[key]!, expiresAt: Date.now() - 60_000 };
  writeFileSync(path, JSON.stringify(all, null, 2));
  return all[key];
}

describe("OAuth 2.1 against oidc-provider", () => {
  it("runs the first authorization, then headless calls reuse the stored token", async () => {
    const as = await peers();
    const path = tokenFile();
    const store = new FileTokenStore(path);
    const { authorizationUrl, browser } = await authorizeOnce(as, store);

    expect(browser.status).toBe(200);
    expect(browser.body).toContain("Authorized");
    const query = authorizationUrl.searchParams;
    expect(authorizationUrl.origin).toBe(as.issuer);
    expect(query.get("response_type")).toBe("code");
    expect(query.get("code_challenge_method")).toBe("S256");
    expect(query.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.get("state")).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(query.get("resource")).toBe(canonicalServerUrl(as.mcp.url));
    expect(query.get("scope")).toBe("mcp");
    expect(query.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);

    const entry = store.get(as.mcp.url)!;
    expect(entry.clientId).toEqual(expect.any(String));
    expect(entry.accessToken).toEqual(expect.any(String));
    expect(entry.refreshToken).toEqual(expect.any(String));
    expect(entry.expiresAt).toBeGreaterThan(Date.now());
    expect(entry.tokenEndpoint).toBe(`${as.issuer}/token`);
    expect(entry.resource).toBe(as.mcp.url);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8").endsWith("}\n")).toBe(true);
    expect(as.codeCount()).toBe(1);
    const registered = (await as.provider.Client.find(entry.clientId))!.metadata();
    expect(registered).toMatchObject({
      client_name: "promenade-test",
      token_endpoint_auth_method: "none",
      redirect_uris: [query.get("redirect_uri")],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    });

    const asked: (string | null)[] = [];
    const broker = new TokenBroker({ store });
    const recording: McpAuthProvider = {
      getAccessToken: (ctx) => {
        asked.push(ctx.failedToken);
        expect(ctx.challenge["resource_metadata"]).toContain("oauth-protected-resource");
        return brokerAuthProvider(broker).getAccessToken(ctx);
      },
    };
    const client = await headlessClient(as.mcp.url, recording);
    const who = await client.callTool("whoami");
    expect(flattenToolContent(who)).toBe(`Bearer ${entry.accessToken}`);
    await client.callTool("echo", { text: "again" });
    // One 401 for the first frame, then the acquired token is reused without new 401s.
    expect(asked).toEqual([null]);
    expect(as.refreshCount()).toBe(0);
  });

  it("refreshes an expired token silently and persists the rotated refresh token", async () => {
    const as = await peers();
    const path = tokenFile();
    const store = new FileTokenStore(path);
    await authorizeOnce(as, store);
    const before = expireStoredToken(path, as.mcp.url);

    const client = await headlessClient(as.mcp.url, brokerAuthProvider(new TokenBroker({ store })));
    const after = store.get(as.mcp.url)!;
    expect(as.refreshCount()).toBe(1);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.expiresAt).toBeGreaterThan(Date.now());
    expect(after.clientId).toBe(before.clientId);
    expect(flattenToolContent(await client.callTool("whoami"))).toBe(`Bearer ${after.accessToken}`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("refreshes when the server rejects a stored token the broker still thinks valid", async () => {
    const as = await peers();
    const store = new MemoryTokenStore();
    await authorizeOnce(as, store);
    const stale = store.get(as.mcp.url)!.accessToken;
    await (await as.provider.AccessToken.find(stale))!.destroy();

    const asked: (string | null)[] = [];
    const broker = new TokenBroker({ store });
    const client = await headlessClient(as.mcp.url, {
      getAccessToken: (ctx) => {
        asked.push(ctx.failedToken);
        return brokerAuthProvider(broker).getAccessToken(ctx);
      },
    });
    // 401 (no token) → stale → 401 → invalidate stale → refreshed → success.
    expect(asked).toEqual([null, stale]);
    expect(as.refreshCount()).toBe(1);
    const fresh = store.get(as.mcp.url)!.accessToken;
    expect(fresh).not.toBe(stale);
    expect(flattenToolContent(await client.callTool("whoami"))).toBe(`Bearer ${fresh}`);
  });

  it("fails with the hint and keeps the grant when the refresh token was revoked", async () => {
    const as = await peers();
    const path = tokenFile();
    const store = new FileTokenStore(path);
    await authorizeOnce(as, store);
    const expired = expireStoredToken(path, as.mcp.url);
    await (await as.provider.RefreshToken.find(expired.refreshToken!))!.destroy();

    const broker = new TokenBroker({ store });
    const answer = await broker.getToken(as.mcp.url);
    expect(answer.accessToken).toBeNull();
    expect(answer.hint).toContain(`authorizeMcpServer("${as.mcp.url}")`);
    expect(answer.hint).toContain("status 400");
    expect(answer.hint).not.toContain(expired.refreshToken!);
    expect(store.get(as.mcp.url)).toEqual(expired);

    const error = await failure(
      connectMcp(
        new StreamableHttpTransport({ url: as.mcp.url, auth: brokerAuthProvider(broker) }),
      ),
    );
    expect(error.code).toBe("AUTH_REQUIRED");
    expect(error.message).toContain("requires OAuth authorization");
    expect(error.hint).toContain("authorizeMcpServer");
    expect(store.get(as.mcp.url)).toEqual(expired);
  });

  it("runs one network refresh for two concurrent requests", async () => {
    const as = await peers();
    const path = tokenFile();
    const store = new FileTokenStore(path);
    await authorizeOnce(as, store);
    const expired = expireStoredToken(path, as.mcp.url);

    const broker = new TokenBroker({ store });
    const [first, second] = await Promise.all([
      broker.getToken(as.mcp.url),
      broker.getToken(`${as.mcp.url}/`, expired.accessToken),
    ]);
    expect(as.refreshCount()).toBe(1);
    expect(first.accessToken).toEqual(expect.any(String));
    expect(second.accessToken).toBe(first.accessToken);
    expect(store.get(as.mcp.url)!.accessToken).toBe(first.accessToken);
    // A caller still holding the pre-refresh token gets the stored one, without a refresh.
    expect((await broker.getToken(as.mcp.url, expired.accessToken)).accessToken).toBe(
      first.accessToken,
    );
    expect(as.refreshCount()).toBe(1);
  });

  it("discovers through the 401 hint and falls back to OpenID discovery", async () => {
    const as = await peers();
    const discovery = await discoverAuthorization(as.mcp.url);
    expect(discovery).toMatchObject({
      authorizationEndpoint: `${as.issuer}/auth`,
      tokenEndpoint: `${as.issuer}/token`,
      registrationEndpoint: `${as.issuer}/reg`,
      resource: as.mcp.url,
      scopesSupported: ["mcp"],
      challengeScope: "mcp",
    });
  });

  it("fails UNSUPPORTED when the authorization server has no dynamic registration", async () => {
    const as = await peers({ registration: false });
    const error = await failure(
      authorizeServer(as.mcp.url, {
        store: new MemoryTokenStore(),
        onAuthorizationUrl: () => undefined,
      }),
    );
    expect(error.code).toBe("UNSUPPORTED");
    expect(error.message).toContain("dynamic client registration");
  });

  it("refuses a WWW-Authenticate hint pointing at another origin's metadata", async () => {
    const elsewhere = await startMcpHttpServer({});
    cleanups.push(() => elsewhere.close());
    const as = await peers({
      resourceMetadataUrl: () => `${elsewhere.origin}/.well-known/oauth-protected-resource`,
    });
    const error = await failure(
      authorizeServer(as.mcp.url, {
        store: new MemoryTokenStore(),
        onAuthorizationUrl: () => undefined,
      }),
    );
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("another origin");
    expect(error.message).toContain(elsewhere.origin);
  });

  it("fails naming authorization-server metadata when nothing answers", async () => {
    const open = await startMcpHttpServer({});
    cleanups.push(() => open.close());
    const error = await failure(discoverAuthorization(open.url));
    expect(error.code).toBe("PROTOCOL");
    expect(error.message).toContain("authorization-server metadata");
    expect(error.message).toContain(open.origin);
  });

  it("rejects the flow on error=access_denied, a forged state, and a timeout", async () => {
    const as = await peers();
    const store = new MemoryTokenStore();
    const callbackWith = (extra: (state: string) => Record<string, string>) => (url: string) => {
      const params = new URL(url).searchParams;
      const callback = new URL(params.get("redirect_uri")!);
      for (const [key, value] of Object.entries(extra(params.get("state")!))) {
        callback.searchParams.set(key, value);
      }
      void fetch(new URL("/elsewhere", callback)).then(async (response) => {
        expect(response.status).toBe(404);
        await fetch(callback).then((r) => r.text());
      });
    };

    const denied = await failure(
      authorizeServer(as.mcp.url, {
        store,
        onAuthorizationUrl: callbackWith((state) => ({ error: "access_denied", state })),
      }),
    );
    expect(denied.code).toBe("AUTHORIZATION_FAILED");
    expect(denied.message).toContain("access_denied");

    const forged = await failure(
      authorizeServer(as.mcp.url, {
        store,
        onAuthorizationUrl: callbackWith(() => ({ code: "abc", state: "forged" })),
      }),
    );
    expect(forged.code).toBe("AUTHORIZATION_FAILED");
    expect(forged.message).toContain("state mismatch");

    const noCode = await failure(
      authorizeServer(as.mcp.url, {
        store,
        onAuthorizationUrl: callbackWith((state) => ({ state })),
      }),
    );
    expect(noCode.code).toBe("AUTHORIZATION_FAILED");

    const slow = await failure(
      authorizeServer(as.mcp.url, { store, timeoutMs: 150, onAuthorizationUrl: () => undefined }),
    );
    expect(slow.code).toBe("TIMEOUT");
    expect(slow.message).toContain("timed out");

    const controller = new AbortController();
    const abandoned = await failure(
      authorizeServer(as.mcp.url, {
        store,
        signal: controller.signal,
        onAuthorizationUrl: () => controller.abort(),
      }),
    );
    expect(abandoned.code).toBe("ABORTED");
    expect(store.get(as.mcp.url)).toBeNull();
  });

  it("gives up with UNAUTHORIZED and a re-authorize hint when fresh tokens keep failing", async () => {
    const as = await peers();
    const asked: (string | null)[] = [];
    const error = await failure(
      connectMcp(
        new StreamableHttpTransport({
          url: as.mcp.url,
          auth: {
            getAccessToken: ({ failedToken }) => {
              asked.push(failedToken);
              return Promise.resolve(`bogus-${asked.length}`);
            },
          },
        }),
      ),
    );
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("401 Unauthorized");
    expect(error.hint).toContain("re-authorize");
    expect(asked).toEqual([null, "bogus-1"]);
  });
});
