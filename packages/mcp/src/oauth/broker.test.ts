/**
 * Broker decisions that need no network: missing grants, fresh tokens, expiry skew, and grants
 * that cannot be refreshed. Refreshing itself runs against a real authorization server in
 * test/oauth.integration.test.ts.
 */
import { describe, expect, it } from "vitest";
import { isMcpError } from "../errors.ts";
import { TokenBroker, brokerAuthProvider } from "./broker.ts";
import { MemoryTokenStore } from "./token-store.ts";

const url = "https://mcp.example.com/mcp";

describe("TokenBroker", () => {
  it("answers null with an authorizeMcpServer hint when nothing is stored", async () => {
    const broker = new TokenBroker({ store: new MemoryTokenStore() });
    const answer = await broker.getToken(url);
    expect(answer.accessToken).toBeNull();
    expect(answer.hint).toContain(`engine.authorizeMcpServer("${url}")`);
    expect(answer.hint).toContain("re-run");
  });

  it("returns a stored token that is outside the expiry skew", async () => {
    const store = new MemoryTokenStore();
    store.set(url, { clientId: "c", accessToken: "fresh", expiresAt: 100_000 });
    const broker = new TokenBroker({ store, now: () => 69_999 });
    expect(await broker.getToken(`${url}/`)).toEqual({ accessToken: "fresh" });
    expect(await broker.getToken(url, "some-older-token")).toEqual({ accessToken: "fresh" });
  });

  it("treats a token inside the 30 s skew as expired, and needs authorization without a refresh token", async () => {
    const store = new MemoryTokenStore();
    store.set(url, { clientId: "c", accessToken: "old", expiresAt: 100_000 });
    const broker = new TokenBroker({ store, now: () => 70_000, hint: (u) => `authorize ${u}` });
    expect(await broker.getToken(url)).toEqual({ accessToken: null, hint: `authorize ${url}` });
    expect(store.get(url)?.accessToken).toBe("old");
  });

  it("needs authorization when the invalidated token has no refresh path", async () => {
    const store = new MemoryTokenStore();
    store.set(url, { clientId: "c", accessToken: "rejected", refreshToken: "r" });
    const broker = new TokenBroker({ store });
    const answer = await broker.getToken(url, "rejected");
    expect(answer.accessToken).toBeNull();
  });

  it("rejects an empty server URL", async () => {
    const broker = new TokenBroker({ store: new MemoryTokenStore() });
    const error: unknown = await broker.getToken("").catch((e: unknown) => e);
    expect(isMcpError(error) && error.code).toBe("INVALID_URL");
  });
});

describe("brokerAuthProvider", () => {
  it("throws AUTH_REQUIRED carrying the broker's hint when there is no token", async () => {
    const provider = brokerAuthProvider({
      getToken: () => Promise.resolve({ accessToken: null, hint: "do the thing" }),
    });
    const error: unknown = await provider
      .getAccessToken({ serverUrl: url, failedToken: null, challenge: {} })
      .catch((e: unknown) => e);
    expect(isMcpError(error) && error.code).toBe("AUTH_REQUIRED");
    expect(isMcpError(error) && error.hint).toBe("do the thing");
  });

  it("passes the failed token as invalidateToken", async () => {
    const calls: unknown[] = [];
    const provider = brokerAuthProvider({
      getToken: (serverUrl, invalidateToken) => {
        calls.push([serverUrl, invalidateToken]);
        return Promise.resolve({ accessToken: "next" });
      },
    });
    expect(
      await provider.getAccessToken({ serverUrl: url, failedToken: "stale", challenge: {} }),
    ).toBe("next");
    expect(
      await provider.getAccessToken({ serverUrl: url, failedToken: null, challenge: {} }),
    ).toBe("next");
    expect(calls).toEqual([
      [url, "stale"],
      [url, undefined],
    ]);
  });
});
