/**
 * Webhook triggers, `POST /hooks/<slug>/<index>`: resolution with one uniform 404, fail-closed
 * credentials read per request from the server's `env` source, constant-time token checks, the
 * signature scheme (`webhook-signing.ts`), and body → input conversion under the JSON depth
 * limit. Never logs or echoes a credential or a body.
 */
import type { IncomingHttpHeaders } from "node:http";
import { jsonTextDepthProblem, tooDeepMessage } from "@promenade/workflow/limits";
import type { HttpError } from "./internal/http.ts";
import { SLUG_PATTERN } from "./internal/ids.ts";
import { bearerToken, single, tokenEquals } from "./internal/security.ts";
import type { EngineApi, JsonValue, RunDelivery } from "./ports.ts";
import { WebhookError } from "./webhook-error.ts";
import { verifySignedDelivery } from "./webhook-signing.ts";

export { WebhookError } from "./webhook-error.ts";
export type { WebhookOutcome } from "./webhook-error.ts";

/** The canonical credential variable for a slug: `PROMENADE_WEBHOOK_<KIND>__<NAME>`. */
export function webhookEnvVarName(kind: "TOKEN" | "SECRET", slug: string): string {
  return `PROMENADE_WEBHOOK_${kind}__${slug.toUpperCase().replace(/-/g, "_")}`;
}

/**
 * Everything after the method and size checks: resolve the trigger, check the credential (and,
 * for signature webhooks, the timestamp window), convert the body. Returns the slug and input to
 * start the run with, and a timestamped delivery's keys (`null` otherwise), which the run is
 * started with so a repeat is refused durably.
 */
export async function resolveWebhook(
  engine: EngineApi,
  env: Record<string, string | undefined>,
  slug: string,
  index: string,
  headers: IncomingHttpHeaders,
  rawHeaders: string[],
  body: Buffer,
  now: number,
): Promise<{ slug: string; input: JsonValue | undefined; delivery: RunDelivery | null }> {
  const notFound = new WebhookError(
    "not_found",
    404,
    "NOT_FOUND",
    `No webhook trigger at /hooks/${slug}/${index}.`,
  );
  if (!SLUG_PATTERN.test(slug) || !/^\d+$/.test(index)) throw notFound;
  const wf = await engine.getWorkflow(slug);
  const trigger = wf?.manifest.triggers?.[Number(index)];
  if (wf === null || trigger === undefined || trigger.kind !== "webhook") throw notFound;

  const kind = trigger.auth === "signature" ? "SECRET" : "TOKEN";
  const canonical = webhookEnvVarName(kind, wf.slug);
  const legacy = canonical.replace(/^PROMENADE_/, "BOARDWALK_");
  const credential = nonEmpty(env[canonical]) ?? nonEmpty(env[legacy]);
  if (credential === undefined) {
    throw new WebhookError(
      "unconfigured",
      503,
      "WEBHOOK_UNCONFIGURED",
      `Webhook auth for workflow "${wf.slug}" is not configured on this server.`,
      `Set the environment variable ${canonical} and restart the server.`,
    );
  }
  const unauthorized = new WebhookError(
    "unauthorized",
    401,
    "UNAUTHORIZED",
    "Invalid webhook credentials.",
  );
  if (kind === "TOKEN") {
    const presented = single(rawHeaders, "authorization")
      ? bearerToken(headers.authorization)
      : null;
    if (presented === null || !tokenEquals(presented, credential)) throw unauthorized;
    const input = bodyToInput(headers["content-type"], body);
    return { slug: wf.slug, input, delivery: null };
  }
  const delivery = verifySignedDelivery({
    workflow: wf,
    index: Number(index),
    secret: credential,
    headers,
    rawHeaders,
    body,
    now,
  });
  const input = bodyToInput(headers["content-type"], body);
  return { slug: wf.slug, input, delivery };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

/** Body → run input by content type. Empty → `undefined` (stored as null). */
export function bodyToInput(contentType: string | undefined, body: Buffer): JsonValue | undefined {
  if (body.length === 0) return undefined;
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const text = decodeUtf8(body);
  if (mediaType === "application/json" || mediaType.endsWith("+json")) {
    if (text === null) {
      throw new WebhookError(
        "invalid_body",
        400,
        "VALIDATION",
        "webhook payload is not valid JSON: invalid UTF-8",
      );
    }
    refuseTooDeep(text);
    try {
      return JSON.parse(text) as JsonValue;
    } catch (err) {
      throw new WebhookError(
        "invalid_body",
        400,
        "VALIDATION",
        `webhook payload is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  if (text === null) {
    throw new WebhookError(
      "invalid_body",
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "Webhook body is not JSON, form data or UTF-8 text.",
      "Send application/json, application/x-www-form-urlencoded or UTF-8 text.",
    );
  }
  if (mediaType === "application/x-www-form-urlencoded") {
    const out: Record<string, JsonValue> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      const prev = out[key];
      if (prev === undefined) out[key] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[key] = [prev, value];
    }
    return out;
  }
  // Text that opens arrays/objects past the depth limit is refused here too: it would parse.
  refuseTooDeep(text);
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** 400 for a payload nested past the JSON depth limit, checked before it is parsed. */
function refuseTooDeep(text: string): void {
  const tooDeep = jsonTextDepthProblem(text);
  if (tooDeep !== null) {
    throw new WebhookError(
      "invalid_body",
      400,
      "VALIDATION",
      tooDeepMessage("webhook payload", tooDeep),
    );
  }
}

function decodeUtf8(body: Buffer): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return null;
  }
}

/** Re-exported for the router: the 404 message for malformed webhook paths. */
export function webhookNotFound(path: string): HttpError {
  return new WebhookError("not_found", 404, "NOT_FOUND", `No webhook trigger at ${path}.`);
}
