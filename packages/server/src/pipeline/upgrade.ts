/**
 * The WebSocket upgrade of `/api/ws`: the same draining check and guards as an HTTP request, then
 * the subprotocol and connection-count checks, then the hand-over to the channel. A refused upgrade
 * is answered with a plain HTTP error response carrying the JSON error body; a `GET /api/ws`
 * without an upgrade is a 400.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WS_MAX_CONNECTIONS, WS_PROTOCOL } from "../constants.ts";
import { HttpError, errorBody, pathSegments, pathnameOf, toHttpError } from "../internal/http.ts";
import { describe } from "../internal/error-text.ts";
import type { WsChannel } from "../ws-channel.ts";
import { protocolsOf } from "./guard.ts";
import type { RequestPipelineDeps } from "./request.ts";
import type { Handler } from "./route.ts";

/** What the upgrade needs from the server: the request pipeline's parts but the routes, and the channel. */
export interface UpgradeDeps extends Omit<RequestPipelineDeps, "routes"> {
  ws: WsChannel;
}

/** The `upgrade` listener of the HTTP server. */
export function createUpgradeHandler({
  guard,
  ws,
  metrics,
  log,
  draining,
}: UpgradeDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    try {
      const segments = pathSegments(req.url ?? "/");
      if (segments.length !== 2 || segments[0] !== "api" || segments[1] !== "ws") {
        throw new HttpError(404, "NOT_FOUND", `No such route: ${pathnameOf(req.url ?? "/")}`);
      }
      if (draining()) throw new HttpError(503, "SHUTTING_DOWN", "The server is shutting down.");
      guard(req, "api");
      const offered = protocolsOf(req);
      if (offered.length > 0 && !offered.includes(WS_PROTOCOL)) {
        throw new HttpError(
          400,
          "VALIDATION",
          "Unsupported WebSocket subprotocol.",
          `Offer "${WS_PROTOCOL}".`,
        );
      }
      if (ws.connectionCount >= WS_MAX_CONNECTIONS) {
        throw new HttpError(
          503,
          "TOO_MANY_CONNECTIONS",
          "Too many WebSocket connections.",
          "Close idle connections and retry.",
        );
      }
      metrics.observeRequest("GET", "/api/ws", 101, 0);
      ws.accept(req, socket, head);
    } catch (err) {
      const { error, internal } = toHttpError(err);
      if (internal) log(`websocket upgrade failed: ${describe(err)}`);
      metrics.observeRequest("GET", "/api/ws", error.status, 0);
      rejectUpgrade(socket, error);
    }
  };
}

/** `GET /api/ws` without an upgrade. */
export const wsNotUpgrade: Handler = () => {
  throw new HttpError(
    400,
    "VALIDATION",
    "Expected a WebSocket upgrade.",
    "Connect with a WebSocket client to /api/ws.",
  );
};

function rejectUpgrade(socket: Duplex, error: HttpError): void {
  const body = errorBody(error.code, error.message, error.hint);
  const extra = Object.entries(error.headers)
    .filter(([k]) => k !== "connection")
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${error.status} ${statusText(error.status)}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n` +
      `x-content-type-options: nosniff\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
  socket.once("finish", () => socket.destroy());
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Service Unavailable",
  };
  return texts[status] ?? "Error";
}
