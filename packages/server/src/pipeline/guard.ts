/**
 * The guards in front of every route and WebSocket upgrade: without an API token only loopback
 * `Host` names are served (the DNS-rebinding guard); with one, `/api/*` and `/metrics` need it as a
 * bearer token (a browser WebSocket may offer it as a subprotocol instead); and an `/api` request
 * from a foreign `Origin` is refused. Webhooks and `/healthz` pass every guard.
 */
import type { IncomingMessage } from "node:http";
import { WS_BEARER_PREFIX } from "../constants.ts";
import { HttpError } from "../internal/http.ts";
import {
  bearerToken,
  isLoopbackHostHeader,
  originAllowed,
  tokenEquals,
} from "../internal/security.ts";

/** Where a path falls for the guards. */
export type Area = "api" | "hooks" | "healthz" | "metrics" | "ui";

/** The area of a path, from its segments. */
export function areaOf(segments: string[]): Area {
  const first = segments[0];
  if (first === "api") return "api";
  if (first === "hooks") return "hooks";
  if (first === "healthz" && segments.length === 1) return "healthz";
  if (first === "metrics" && segments.length === 1) return "metrics";
  return "ui";
}

/** What the guards check against. */
export interface GuardOptions {
  /** The API token; absent: loopback-only. */
  apiToken: string | undefined;
  /** Extra exact origins accepted by the Origin check. */
  allowedOrigins: readonly string[];
}

/** Host, token and Origin guards shared by HTTP requests and upgrades; throws `HttpError`. */
export function createGuard({
  apiToken,
  allowedOrigins,
}: GuardOptions): (req: IncomingMessage, area: Area) => void {
  return (req, area) => {
    if (area === "hooks" || area === "healthz") return;
    if (apiToken === undefined && !isLoopbackHostHeader(req.headers.host)) {
      throw new HttpError(
        403,
        "FORBIDDEN_HOST",
        "Host header is not a loopback name.",
        "Use http://127.0.0.1:<port> or http://localhost:<port>, or set PROMENADE_API_TOKEN.",
      );
    }
    if (apiToken !== undefined && (area === "api" || area === "metrics")) {
      const presented = bearerToken(req.headers.authorization) ?? bearerFromProtocols(req);
      if (presented === null || !tokenEquals(presented, apiToken)) {
        throw new HttpError(
          401,
          "UNAUTHORIZED",
          "Missing or invalid API token.",
          'Send "Authorization: Bearer <PROMENADE_API_TOKEN>".',
          {
            "www-authenticate": 'Bearer realm="promenade"',
          },
        );
      }
    }
    const origin = req.headers.origin;
    if (
      area === "api" &&
      origin !== undefined &&
      !originAllowed(origin, req.headers.host, allowedOrigins)
    ) {
      throw new HttpError(
        403,
        "FORBIDDEN_ORIGIN",
        "Cross-origin requests are not allowed.",
        "Call the API from the server's own origin, or list the origin in PROMENADE_ALLOWED_ORIGINS.",
      );
    }
  };
}

/** The browser form of the token: only honoured on the WebSocket upgrade. */
function bearerFromProtocols(req: IncomingMessage): string | null {
  if (req.headers.upgrade === undefined) return null;
  for (const p of protocolsOf(req)) {
    if (p.startsWith(WS_BEARER_PREFIX)) {
      try {
        return Buffer.from(p.slice(WS_BEARER_PREFIX.length), "base64url").toString("utf8");
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The WebSocket subprotocols a request offers, in order. */
export function protocolsOf(req: IncomingMessage): string[] {
  const raw = req.headers["sec-websocket-protocol"];
  if (raw === undefined) return [];
  return raw
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}
