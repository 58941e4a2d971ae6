/**
 * The signature scheme of `auth: "signature"` webhooks, in its two forms. Body-only (Boardwalk
 * compatible): `sha256=<hex HMAC-SHA256(secret, body)>`. Timestamped (replay-proof, a Promenade
 * addition): the sender adds `X-Promenade-Timestamp: <Unix seconds>` and signs
 * `<timestamp>.<body>`; the timestamp must be within the workflow's tolerance window, and a
 * delivery (the same signature, or the same `X-Promenade-Delivery` / `X-GitHub-Delivery` id) is
 * accepted once within the window: its keys go to the engine with the run it starts, which
 * remembers them durably and refuses a repeat with 409 `CONFLICT`. Strict mode
 * (`config.webhooks.strict`) refuses body-only signatures. Never logs or echoes a secret, a
 * signature or a body.
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { readWebhookReplayPolicy } from "@promenade/workflow/limits";
import type { RunDelivery } from "./ports.ts";
import { signatureMatches, single } from "./internal/security.ts";
import { WebhookError } from "./webhook-error.ts";

/** Signature headers, in precedence order: only the first present one is checked. */
export const SIGNATURE_HEADERS = [
  "x-promenade-signature",
  "x-boardwalk-signature",
  "x-hub-signature-256",
] as const;
/** The signed timestamp header (Unix seconds). */
export const TIMESTAMP_HEADER = "x-promenade-timestamp";
/** Delivery id headers, in precedence order. */
export const DELIVERY_HEADERS = ["x-promenade-delivery", "x-github-delivery"] as const;

const TIMESTAMP = /^\d{1,12}$/;
/** Longest delivery id kept for messages, in characters (the key hashes all of it). */
const DELIVERY_ID_SHOWN = 200;

/** What {@link verifySignedDelivery} needs. */
export interface SignedDeliveryArgs {
  /** The workflow's id and deploy config (`config.webhooks` holds the replay policy). */
  workflow: { id: string; slug: string; config: Readonly<Record<string, unknown>> };
  /** The trigger index from the path. */
  index: number;
  /** The webhook secret. */
  secret: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  /** The server clock, epoch ms. */
  now: number;
}

/**
 * Verifies a signature delivery. Returns, for a timestamped delivery, the keys that identify it
 * (its signature, and its delivery id when sent), to start its run with: the engine refuses it
 * with 409 `CONFLICT` when any of them was already accepted within the window. `null` for a
 * body-only (Boardwalk-compatible) delivery, which may be repeated. Throws 401 `UNAUTHORIZED`
 * for a missing, repeated, malformed or wrong signature or timestamp, and for a timestamp
 * outside the window; 503 `WEBHOOK_UNCONFIGURED` when `config.webhooks` is invalid (fail
 * closed).
 */
export function verifySignedDelivery(args: SignedDeliveryArgs): RunDelivery | null {
  const { workflow, headers, rawHeaders, body } = args;
  const read = readWebhookReplayPolicy(workflow.config);
  if (!read.ok) {
    throw new WebhookError(
      "unconfigured",
      503,
      "WEBHOOK_UNCONFIGURED",
      `Webhook auth for workflow "${workflow.slug}" is not configured on this server.`,
      `Fix the deploy config and redeploy: ${read.problem}.`,
    );
  }
  const { strict, toleranceSeconds } = read.policy;
  const unauthorized = new WebhookError(
    "unauthorized",
    401,
    "UNAUTHORIZED",
    "Invalid webhook credentials.",
  );
  const name = SIGNATURE_HEADERS.find((h) => headers[h] !== undefined);
  const value = name === undefined ? undefined : headers[name];
  if (name === undefined || typeof value !== "string" || !single(rawHeaders, name)) {
    throw unauthorized;
  }
  const stamp = headers[TIMESTAMP_HEADER];
  if (stamp === undefined) {
    if (strict) throw unauthorized;
    if (!signatureMatches(value.trim(), args.secret, body)) throw unauthorized;
    return null;
  }
  if (typeof stamp !== "string" || !single(rawHeaders, TIMESTAMP_HEADER)) throw unauthorized;
  const timestamp = stamp.trim();
  if (!TIMESTAMP.test(timestamp)) throw unauthorized;
  const signed = Buffer.concat([Buffer.from(`${timestamp}.`, "utf8"), body]);
  if (!signatureMatches(value.trim(), args.secret, signed)) throw unauthorized;

  const nowSeconds = Math.floor(args.now / 1000);
  const sentSeconds = Number(timestamp);
  if (Math.abs(nowSeconds - sentSeconds) > toleranceSeconds) {
    throw new WebhookError(
      "unauthorized",
      401,
      "UNAUTHORIZED",
      `Webhook timestamp is outside the ${String(toleranceSeconds)}-second tolerance window.`,
      `Sign each delivery with the current time in ${TIMESTAMP_HEADER} (Unix seconds) and keep the sender's clock in sync.`,
    );
  }
  // Keys are hashed, so a long header costs one 64-character key.
  const keys = [digest(`signature\u0000${value.trim().toLowerCase()}`)];
  const deliveryHeader = DELIVERY_HEADERS.find((h) => typeof headers[h] === "string");
  const sent = deliveryHeader === undefined ? undefined : headers[deliveryHeader];
  const deliveryId = typeof sent === "string" && sent.trim() !== "" ? sent.trim() : null;
  if (deliveryId !== null) keys.push(digest(`delivery\u0000${deliveryId}`));
  return {
    hookIndex: args.index,
    keys,
    deliveryId: deliveryId === null ? null : deliveryId.slice(0, DELIVERY_ID_SHOWN),
    // Remembered until the signed timestamp can no longer pass the window.
    expiresAt: (Math.max(nowSeconds, sentSeconds) + toleranceSeconds + 1) * 1000,
  };
}

function digest(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
