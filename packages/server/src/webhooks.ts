/**
 * Webhook triggers, `POST /hooks/<slug>/<index>`: resolution with one uniform 404,
 * fail-closed credentials read per request from the server's `env` source, constant-time token
 * and HMAC checks, and body → input conversion. Never logs or echoes a credential or a body.
 */
import type { IncomingHttpHeaders } from "node:http";
import { HttpError } from "./internal/http.ts";
import { bearerToken, signatureMatches, tokenEquals } from "./internal/security.ts";
import type { EngineApi, JsonValue } from "./ports.ts";

const SLUG_PATTERN = /^[A-Za-z0-9-]{1,100}$/;

/** The canonical credential variable for a slug: `PROMENADE_WEBHOOK_<KIND>__<NAME>`. */
export function webhookEnvVarName(kind: "TOKEN" | "SECRET", slug: string): string {
  return `PROMENADE_WEBHOOK_${kind}__${slug.toUpperCase().replace(/-/g, "_")}`;
}

/** Outcome label of `promenade_webhook_requests_total`. */
export type WebhookOutcome =
  "accepted" | "not_found" | "unauthorized" | "unconfigured" | "invalid_body" | "too_large";

/** An `HttpError` tagged with its metrics outcome. */
export class WebhookError extends HttpError {
  readonly outcome: WebhookOutcome;
  constructor(
    outcome: WebhookOutcome,
    status: number,
    code: string,
    message: string,
    hint?: string,
  ) {
    super(status, code, message, hint);
    this.outcome = outcome;
  }
}

/**
 * Resolve the trigger, check the credential, convert the body (the caller did the method and size
 * checks). Resolves with the slug and input to start the run with.
 */
export async function resolveWebhook(
  engine: EngineApi,
  env: Record<string, string | undefined>,
  slug: string,
  index: string,
  headers: IncomingHttpHeaders,
  rawHeaders: string[],
  body: Buffer,
): Promise<{ slug: string; input: JsonValue | undefined }> {
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
  } else {
    const name = ["x-promenade-signature", "x-boardwalk-signature", "x-hub-signature-256"].find(
      (h) => headers[h] !== undefined,
    );
    const value = name === undefined ? undefined : headers[name];
    if (name === undefined || typeof value !== "string" || !single(rawHeaders, name))
      throw unauthorized;
    if (!signatureMatches(value.trim(), credential, body)) throw unauthorized;
  }
  return { slug: wf.slug, input: bodyToInput(headers["content-type"], body) };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

/** True when the header occurs at most once in the raw header list. */
function single(rawHeaders: string[], name: string): boolean {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === name) n++;
  }
  return n <= 1;
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
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
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
