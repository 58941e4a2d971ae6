/**
 * The signature scheme of `auth: "signature"` webhooks, in its two forms. Body-only (Boardwalk
 * compatible): `sha256=<hex HMAC-SHA256(secret, body)>`. Timestamped (replay-proof, a Promenade
 * addition): the sender adds `X-Promenade-Timestamp: <Unix seconds>` and signs
 * `<timestamp>.<body>`; the timestamp must be within the workflow's tolerance window, and a
 * delivery (the same signature, or the same `X-Promenade-Delivery` / `X-GitHub-Delivery` id) is
 * accepted once within the window. Strict mode (`config.webhooks.strict`) refuses body-only
 * signatures. Never logs or echoes a secret, a signature or a body.
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { readWebhookReplayPolicy } from "@promenade/workflow/limits";
import type { ReplayCache } from "./internal/replay-cache.ts";
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
  cache: ReplayCache;
}

/**
 * Verifies a signature delivery and returns `admit`, to call once the body has been accepted:
 * for a timestamped delivery it remembers the delivery (throwing 409 `CONFLICT` when it was
 * already accepted within the window) and returns a function that forgets it again, for a
 * delivery whose run could not be started. Throws 401 `UNAUTHORIZED` for a missing, repeated,
 * malformed or wrong signature or timestamp, and for a timestamp outside the window; 503
 * `WEBHOOK_UNCONFIGURED` when `config.webhooks` is invalid (fail closed).
 */
export function verifySignedDelivery(args: SignedDeliveryArgs): { admit(): () => void } {
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
    return { admit: () => () => undefined };
  }
  if (typeof stamp !== "string" || !single(rawHeaders, TIMESTAMP_HEADER)) throw unauthorized;
  const timestamp = stamp.trim();
  if (!TIMESTAMP.test(timestamp)) throw unauthorized;
  const signed = Buffer.concat([Buffer.from(`${timestamp}.`, "utf8"), body]);
  if (!signatureMatches(value.trim(), args.secret, signed)) throw unauthorized;

  const nowSeconds = Math.floor(args.cache.now() / 1000);
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
  return {
    admit: () => {
      // Keys are scoped to the trigger and hashed, so a long header costs the cache 64 bytes.
      const scope = `${workflow.id}\u0000${String(args.index)}\u0000`;
      const keys = [digest(`${scope}signature\u0000${value.trim().toLowerCase()}`)];
      const deliveryHeader = DELIVERY_HEADERS.find((h) => typeof headers[h] === "string");
      const delivery = deliveryHeader === undefined ? undefined : headers[deliveryHeader];
      if (typeof delivery === "string" && delivery.trim() !== "") {
        keys.push(digest(`${scope}delivery\u0000${delivery.trim()}`));
      }
      // Remembered until the signed timestamp can no longer pass the window.
      const expiresAtMs = (Math.max(nowSeconds, sentSeconds) + toleranceSeconds + 1) * 1000;
      const release = args.cache.admit(keys, expiresAtMs);
      if (release === null) {
        throw new WebhookError(
          "replayed",
          409,
          "CONFLICT",
          "This webhook delivery was already received.",
          "Each delivery is accepted once. A new event needs a new delivery id and a fresh timestamp.",
        );
      }
      return release;
    },
  };
}

function digest(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
