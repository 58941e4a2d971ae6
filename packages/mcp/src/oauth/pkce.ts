/**
 * PKCE S256 (RFC 7636) and the OAuth `state` value: 32 random bytes for the verifier (43
 * base64url chars), SHA-256 for the challenge, 16 random bytes for the state. Fresh per flow.
 */
import { createHash, randomBytes } from "node:crypto";

/** base64url(SHA-256(verifier)), no padding. */
export function s256Challenge(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/** A fresh verifier (43 chars of `[A-Za-z0-9_-]`) and its S256 challenge. */
export function createPkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: s256Challenge(verifier) };
}

/** A fresh `state` value: 16 random bytes, base64url. */
export function createState(): string {
  return randomBytes(16).toString("base64url");
}
