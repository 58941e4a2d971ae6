/**
 * `WWW-Authenticate: Bearer …` parsing: if quoted values or commas inside quotes are mis-read, the
 * client misses the `resource_metadata` URL and cannot start OAuth discovery.
 */
import { describe, expect, it } from "vitest";
import { parseBearerChallenge } from "./challenge.ts";

describe("parseBearerChallenge", () => {
  it("parses quoted and token parameters, lower-casing keys", () => {
    expect(
      parseBearerChallenge(
        'Bearer realm="mcp", resource_metadata="https://x/.well-known/oauth-protected-resource", error=invalid_token',
      ),
    ).toEqual({
      realm: "mcp",
      resource_metadata: "https://x/.well-known/oauth-protected-resource",
      error: "invalid_token",
    });
    expect(parseBearerChallenge('bearer Scope="a b",ERROR="x"')).toEqual({
      scope: "a b",
      error: "x",
    });
  });

  it("unescapes quoted characters and keeps commas inside quotes", () => {
    expect(parseBearerChallenge('Bearer realm="say \\"hi\\", ok"')).toEqual({
      realm: 'say "hi", ok',
    });
  });

  it("returns {} for non-Bearer, bare Bearer and empty headers", () => {
    expect(parseBearerChallenge('Basic realm="x"')).toEqual({});
    expect(parseBearerChallenge("Bearer")).toEqual({});
    expect(parseBearerChallenge("")).toEqual({});
    expect(parseBearerChallenge("Bearerish realm=x")).toEqual({});
  });
});
