/**
 * Requests Node's HTTP parser refuses are client faults, not server faults: they get their proper
 * status (431 for an oversized header block, 408 for a timeout, 400 otherwise) with the usual
 * JSON error body, and a connection the client reset is dropped without a word. Knows nothing
 * about routes or engines. Invariants: an answer is never written into a response already on the
 * wire, and the socket keeps being read (for a bounded time) after the answer, so closing it
 * cannot turn the answer into a TCP reset.
 */
import { maxHeaderSize } from "node:http";
import type { Duplex } from "node:stream";
import { CLIENT_ERROR_LINGER_MS } from "../constants.ts";
import { errorBody } from "./http.ts";
import type { Metrics } from "./metrics.ts";

/** Parser failures by Node error code: status, wire code and message. */
function answerFor(code: string | undefined): { status: number; code: string; message: string } {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return {
        status: 431,
        code: "HEADERS_TOO_LARGE",
        message: `The request header block exceeds the ${String(maxHeaderSize)}-byte limit.`,
      };
    case "ERR_HTTP_REQUEST_TIMEOUT":
    case "HPE_HEADER_TIMEOUT":
      return {
        status: 408,
        code: "REQUEST_TIMEOUT",
        message: "The request was not received in time.",
      };
    default:
      return {
        status: 400,
        code: "MALFORMED_REQUEST",
        message: "The request is not valid HTTP/1.1.",
      };
  }
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/**
 * The server's `clientError` listener. A connection the client reset is destroyed silently;
 * otherwise the error is answered with `{ error: { code, message } }` and `connection: close`,
 * counted in `promenade_http_requests_total` (method `UNKNOWN`, route `unmatched`), and the
 * socket keeps discarding what the client still sends for up to {@link CLIENT_ERROR_LINGER_MS}
 * so closing it cannot reset the connection before the answer is read.
 */
export function clientErrorListener(
  metrics: Metrics,
): (err: Error & { code?: string }, socket: Duplex) => void {
  return (err, socket) => {
    // Node's own rule: never write into a response whose head is already on the wire.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })
      ._httpMessage;
    if (
      err.code === "ECONNRESET" ||
      err.code === "EPIPE" ||
      !socket.writable ||
      inFlight?.headersSent === true
    ) {
      socket.destroy();
      return;
    }
    const answer = answerFor(err.code);
    metrics.observeRequest("UNKNOWN", "unmatched", answer.status, 0);
    const body = errorBody(answer.code, answer.message);
    socket.on("error", () => socket.destroy());
    socket.on("data", () => undefined);
    const timer = setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
    socket.end(
      `HTTP/1.1 ${String(answer.status)} ${REASONS[answer.status] ?? "Error"}\r\n` +
        "content-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n" +
        `x-content-type-options: nosniff\r\ncontent-length: ${String(Buffer.byteLength(body))}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
  };
}
