/**
 * The `Idempotency-Key` request header of run-creating requests (`POST /api/workflows/:slug/runs`
 * and webhooks): its check, and the fingerprint that tells a retry of the same request from a
 * different request reusing the key. The engine binds the key to the run it creates, per
 * workflow, in the run's own transaction, and honours it for 24 hours. Pure; no I/O.
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { HttpError } from "./internal/http.ts";

/** Longest accepted key, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

const PRINTABLE = /^[\x20-\x7e]+$/;

/** A checked key and the fingerprint of its request. */
export interface RequestKey {
  key: string;
  fingerprint: string;
}

/**
 * The request's `Idempotency-Key` with the fingerprint of `route` and the exact body bytes, or
 * `null` without the header. 400 `VALIDATION` for an empty, over-long or non-ASCII key.
 * `route` names what the body means (`runs`, `hook/<index>`): the same bytes sent to two
 * different endpoints are two different requests.
 */
export function readIdempotencyKey(
  headers: IncomingHttpHeaders,
  route: string,
  body: Buffer,
): RequestKey | null {
  const raw = headers["idempotency-key"];
  if (raw === undefined) return null;
  const key = (Array.isArray(raw) ? raw.join(", ") : raw).trim();
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !PRINTABLE.test(key)) {
    throw new HttpError(
      400,
      "VALIDATION",
      `Idempotency-Key must be 1 to ${String(MAX_IDEMPOTENCY_KEY_LENGTH)} printable ASCII characters.`,
      "Send a fresh random value (e.g. a UUID) per request, and the same value when retrying it.",
    );
  }
  const fingerprint = createHash("sha256").update(`${route}\n`).update(body).digest("hex");
  return { key, fingerprint };
}
