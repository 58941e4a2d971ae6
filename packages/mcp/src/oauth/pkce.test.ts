import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createPkcePair, createState, s256Challenge } from "./pkce.ts";

describe("PKCE", () => {
  it("derives the challenge as base64url(SHA-256(verifier)) without padding", () => {
    const { verifier, challenge } = createPkcePair();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge).toBe(createHash("sha256").update(verifier).digest("base64url"));
    // RFC 7636 appendix B test vector.
    expect(s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });

  it("never repeats verifiers or states", () => {
    const verifiers = new Set(Array.from({ length: 50 }, () => createPkcePair().verifier));
    const states = new Set(Array.from({ length: 50 }, () => createState()));
    expect(verifiers.size).toBe(50);
    expect(states.size).toBe(50);
  });
});
