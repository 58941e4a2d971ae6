/**
 * Which server a command talks to: flags beat the environment, the environment beats the local
 * default, and a bad address names where it came from. If this breaks, commands talk to the
 * wrong server or print a stack for a typo.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.ts";
import { DEFAULT_URL, resolveTarget, webSocketUrl } from "./target.ts";

describe("resolveTarget", () => {
  it("prefers --url/--token, then PROMENADE_URL/PROMENADE_API_TOKEN, then the default", () => {
    const env = { PROMENADE_URL: "http://env:1", PROMENADE_API_TOKEN: "envtoken" };
    expect(resolveTarget({ url: "http://flag:2/", token: "flagtoken" }, env)).toEqual({
      baseUrl: "http://flag:2",
      token: "flagtoken",
    });
    expect(resolveTarget({}, env)).toEqual({ baseUrl: "http://env:1", token: "envtoken" });
    expect(resolveTarget({}, { PROMENADE_URL: "", PROMENADE_API_TOKEN: "" })).toEqual({
      baseUrl: DEFAULT_URL,
      token: undefined,
    });
  });

  it("keeps a path prefix for servers behind a reverse proxy", () => {
    const target = resolveTarget({ url: "https://example.com/promenade/" }, {});
    expect(target.baseUrl).toBe("https://example.com/promenade");
    expect(webSocketUrl(target)).toBe("wss://example.com/promenade/api/ws");
  });

  it("names the source of a malformed address", () => {
    expect(() => resolveTarget({}, { PROMENADE_URL: "localhost:8080" })).toThrow(UsageError);
    expect(() => resolveTarget({}, { PROMENADE_URL: "localhost:8080" })).toThrow(
      'PROMENADE_URL must be an http:// or https:// URL, got "localhost:8080".',
    );
    expect(() => resolveTarget({ url: "not a url" }, {})).toThrow(
      '--url is not a URL: "not a url".',
    );
  });
});
