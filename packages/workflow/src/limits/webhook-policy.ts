/**
 * The replay policy of a workflow's webhooks, read from its deploy config (`config.webhooks`),
 * never from the manifest: the operator who configures the sender turns it on. The engine
 * validates it at deploy; the server reads it per delivery with the same function, so the two
 * never disagree. Pure; knows nothing about HTTP or HMAC.
 */
/** Default `config.webhooks.toleranceSeconds`: how far a signed timestamp may be from now. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;
/** Largest accepted `config.webhooks.toleranceSeconds`. */
export const MAX_WEBHOOK_TOLERANCE_SECONDS = 3600;

/**
 * How a workflow's signature webhooks treat replays. `strict: false` (the default) is the
 * Boardwalk-compatible scheme: HMAC of the body, no timestamp, no delivery cache. `strict: true`
 * requires `X-Promenade-Timestamp` (Unix seconds) inside the HMAC input as `<timestamp>.<body>`,
 * refuses timestamps more than `toleranceSeconds` from now, and refuses a delivery seen within
 * the window.
 */
export interface WebhookReplayPolicy {
  strict: boolean;
  /** Seconds, 1–3600. Default 300. */
  toleranceSeconds: number;
}

/** The outcome of {@link readWebhookReplayPolicy}: the policy, or why the config is invalid. */
export type WebhookReplayPolicyResult =
  { ok: true; policy: WebhookReplayPolicy } | { ok: false; problem: string };

const KEYS = new Set(["strict", "toleranceSeconds"]);

/**
 * Reads `config.webhooks` (`{ strict?: boolean; toleranceSeconds?: integer 1–3600 }`, absent =
 * not strict). With `triggers`, strict mode also needs at least one webhook trigger with
 * `auth: "signature"`: a bearer token cannot sign a timestamp, so a token-only workflow would
 * believe it is protected when it is not. Problems name the config path, never a value.
 */
export function readWebhookReplayPolicy(
  config: Readonly<Record<string, unknown>>,
  triggers?: readonly { kind: string; auth?: string }[],
): WebhookReplayPolicyResult {
  const raw = config["webhooks"];
  const policy: WebhookReplayPolicy = {
    strict: false,
    toleranceSeconds: DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  };
  if (raw === undefined) return { ok: true, policy };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, problem: "config.webhooks must be an object { strict, toleranceSeconds }" };
  }
  const webhooks = raw as Record<string, unknown>;
  for (const key of Object.keys(webhooks)) {
    if (!KEYS.has(key)) {
      return {
        ok: false,
        problem: `config.webhooks.${key} is not a known option (strict, toleranceSeconds)`,
      };
    }
  }
  const strict = webhooks["strict"];
  if (strict !== undefined && typeof strict !== "boolean") {
    return { ok: false, problem: "config.webhooks.strict must be true or false" };
  }
  const tolerance = webhooks["toleranceSeconds"];
  if (
    tolerance !== undefined &&
    (typeof tolerance !== "number" ||
      !Number.isInteger(tolerance) ||
      tolerance < 1 ||
      tolerance > MAX_WEBHOOK_TOLERANCE_SECONDS)
  ) {
    return {
      ok: false,
      problem: `config.webhooks.toleranceSeconds must be an integer from 1 to ${String(MAX_WEBHOOK_TOLERANCE_SECONDS)}`,
    };
  }
  policy.strict = strict === true;
  if (typeof tolerance === "number") policy.toleranceSeconds = tolerance;
  if (
    policy.strict &&
    triggers !== undefined &&
    !triggers.some((trigger) => trigger.kind === "webhook" && trigger.auth === "signature")
  ) {
    return {
      ok: false,
      problem:
        'config.webhooks.strict needs a webhook trigger with auth "signature" (a bearer token cannot sign a timestamp)',
    };
  }
  return { ok: true, policy };
}
