/**
 * Credential comparisons and browser-facing guards: constant-time token and HMAC checks, the Origin
 * check, the DNS-rebinding Host check and the loopback bind rule. Pure functions; never logs or
 * returns a credential value.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** SHA-256 both sides, then constant-time equality (the expected length does not leak). */
export function tokenEquals(presented: string, expected: string): boolean {
  const a = createHash("sha256").update(presented, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  if (typeof header !== "string") return null;
  const match = /^\s*bearer +(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** True when the header occurs at most once in the raw header list (`name` lower-case). */
export function single(rawHeaders: string[], name: string): boolean {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === name) n++;
  }
  return n <= 1;
}

/** Verify `sha256=<64 hex>` against HMAC-SHA256(secret, message) in constant time. */
export function signatureMatches(header: string, secret: string, body: Buffer): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header);
  if (match?.[1] === undefined) return false;
  const presented = Buffer.from(match[1], "hex");
  const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(body).digest();
  return timingSafeEqual(presented, expected);
}

/**
 * True for loopback bind addresses: `localhost`, IPv4 in 127.0.0.0/8, `::1`,
 * `::ffff:127.x.y.z` (brackets tolerated). `0.0.0.0`, `::` and other names are not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped?.[1] !== undefined && isIP(mapped[1]) === 4 && mapped[1].startsWith("127.");
}

/** Split a `Host` header into a lower-cased hostname (IPv6 keeps brackets) and port. */
function splitHost(value: string): { hostname: string; port: string } | null {
  const v = value.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(v);
  if (m?.[1] === undefined) return null;
  return { hostname: m[1], port: m[2] ?? "" };
}

/** The DNS-rebinding guard: the `Host` hostname must be loopback. */
export function isLoopbackHostHeader(value: string | undefined): boolean {
  if (value === undefined) return false;
  const parts = splitHost(value);
  if (parts === null) return false;
  const h = parts.hostname;
  if (h === "localhost" || h === "[::1]") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

/**
 * The Origin check: allowed iff the origin's host[:port] equals the `Host` header (default ports
 * normalised) or it is listed exactly in `allowed`.
 */
export function originAllowed(
  origin: string,
  hostHeader: string | undefined,
  allowed: readonly string[],
): boolean {
  if (allowed.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  if (hostHeader === undefined) return false;
  const parts = splitHost(hostHeader);
  if (parts === null) return false;
  const defaultPort = url.protocol === "https:" ? "443" : "80";
  const originPort = url.port === "" ? defaultPort : url.port;
  const hostPort = parts.port === "" ? defaultPort : parts.port;
  return url.hostname.toLowerCase() === parts.hostname && originPort === hostPort;
}
