/** Server guards: loopback binding, Host and Origin checks, credential compares. */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  bearerToken,
  isLoopbackHost,
  isLoopbackHostHeader,
  originAllowed,
  signatureMatches,
  tokenEquals,
} from "./security.ts";

describe("loopback rules", () => {
  it("classifies bind hosts", () => {
    for (const h of ["localhost", "127.0.0.1", "127.9.8.7", "::1", "[::1]", "::ffff:127.0.0.1"]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ["0.0.0.0", "::", "example.com", "10.0.0.1", "::ffff:10.0.0.1", "128.0.0.1"]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  it("classifies Host headers", () => {
    expect(isLoopbackHostHeader("localhost:8080")).toBe(true);
    expect(isLoopbackHostHeader("127.0.0.1")).toBe(true);
    expect(isLoopbackHostHeader("[::1]:8080")).toBe(true);
    expect(isLoopbackHostHeader("evil.example:8080")).toBe(false);
    expect(isLoopbackHostHeader("127.0.0.1.evil.example")).toBe(false);
    expect(isLoopbackHostHeader(undefined)).toBe(false);
  });
});

describe("origin check", () => {
  it("accepts same origin with default ports normalised and listed origins only", () => {
    expect(originAllowed("http://127.0.0.1:8080", "127.0.0.1:8080", [])).toBe(true);
    expect(originAllowed("https://app.example", "app.example:443", [])).toBe(true);
    expect(originAllowed("http://evil.example", "127.0.0.1:8080", [])).toBe(false);
    expect(originAllowed("null", "127.0.0.1:8080", [])).toBe(false);
    expect(
      originAllowed("https://proxy.example", "127.0.0.1:8080", ["https://proxy.example"]),
    ).toBe(true);
  });
});

describe("credentials", () => {
  it("parses bearer tokens and compares them in constant time", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("  bearer   abc  ")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeNull();
    expect(tokenEquals("abc", "abc")).toBe(true);
    expect(tokenEquals("abc", "abcd")).toBe(false);
  });

  it("verifies sha256= HMAC signatures over the exact bytes", () => {
    const body = Buffer.from('{"a":1}');
    const hex = createHmac("sha256", "s3cret").update(body).digest("hex");
    expect(signatureMatches(`sha256=${hex}`, "s3cret", body)).toBe(true);
    expect(signatureMatches(`SHA256=${hex.toUpperCase()}`, "s3cret", body)).toBe(true);
    expect(signatureMatches(`sha256=${hex}`, "other", body)).toBe(false);
    expect(signatureMatches("sha256=zz", "s3cret", body)).toBe(false);
    expect(signatureMatches(hex, "s3cret", body)).toBe(false);
  });
});
