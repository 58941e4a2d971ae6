/**
 * HTTP plumbing shared by the routes: the transport error type, JSON/error responses with the
 * headers every response carries, bounded body reading (size limit, drain before a 413, client
 * hang-ups), depth-limited JSON parsing and path segment decoding. Knows nothing about engines or
 * routes.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isEngineError } from "@promenade/workflow/errors";
import { jsonTextDepthProblem, tooDeepMessage } from "@promenade/workflow/limits";
import { OVERSIZE_DRAIN_MAX_BYTES, OVERSIZE_DRAIN_MAX_MS } from "../constants.ts";

/** A transport-level failure with its HTTP status and wire code. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: string,
    message: string,
    hint?: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.hint = hint;
    this.headers = headers;
  }
}

/** Engine code → HTTP status; anything else is an internal error. */
const ENGINE_STATUS: Record<string, number> = {
  NOT_FOUND: 404,
  VALIDATION: 400,
  CONFLICT: 409,
  UNSUPPORTED: 400,
};

/** The `{ error: { code, message, hint? } }` body. */
export function errorBody(code: string, message: string, hint?: string): string {
  return JSON.stringify({
    error: hint === undefined ? { code, message } : { code, message, hint },
  });
}

/** Convert any thrown value to an `HttpError`; unknown errors become the opaque 500. */
export function toHttpError(err: unknown): { error: HttpError; internal: boolean } {
  if (err instanceof HttpError) return { error: err, internal: false };
  if (isEngineError(err)) {
    const status = ENGINE_STATUS[err.code];
    if (status !== undefined) {
      return { error: new HttpError(status, err.code, err.message, err.hint), internal: false };
    }
  }
  return {
    error: new HttpError(500, "INTERNAL", "Internal server error."),
    internal: true,
  };
}

/** Send a JSON body with the API headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Send an `HttpError` as the error body. */
export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, errorBody(error.code, error.message, error.hint), error.headers);
}

/** The 413 every oversized body gets. */
export function tooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    "PAYLOAD_TOO_LARGE",
    `Request body exceeds the ${limit}-byte limit.`,
    undefined,
    { connection: "close" },
  );
}

/**
 * The status `promenade_http_requests_total` records for a request the client closed before its
 * body was complete (nginx's "client closed request"); never sent on the wire.
 */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * The client closed or reset the connection before its request body was complete: a client
 * fault, dropped without an answer, a log line or a 5xx.
 */
export class ClientAbort extends Error {
  constructor() {
    super("The client closed the connection before the request body was complete.");
    this.name = "ClientAbort";
  }
}

/**
 * Read the whole body, refusing more than `limit` bytes with 413 (`tooLarge`). A body over the
 * limit — declared by `content-length` or found while counting — is not buffered; the rest of
 * the upload is read and discarded first (at most `OVERSIZE_DRAIN_MAX_BYTES` more, for at most
 * `OVERSIZE_DRAIN_MAX_MS`), because closing a connection the client is still writing to resets
 * it, and the reset can destroy the 413 before the client reads it. Rejects with
 * {@link ClientAbort} when the client hangs up first.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (req.destroyed) {
      reject(new ClientAbort());
      return;
    }
    let state: "reading" | "draining" | "settled" = "reading";
    let chunks: Buffer[] = [];
    let size = 0;
    let discarded = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (outcome: () => void): void => {
      if (state === "settled") return;
      state = "settled";
      clearTimeout(timer);
      outcome();
    };
    const refuse = (): void => settle(() => reject(tooLarge(limit)));
    const drain = (): void => {
      state = "draining";
      chunks = [];
      timer = setTimeout(refuse, OVERSIZE_DRAIN_MAX_MS);
    };
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      // A declared length the drain cannot cover is refused at once, as before reading.
      if (declared - limit > OVERSIZE_DRAIN_MAX_BYTES) {
        req.resume();
        refuse();
        return;
      }
      drain();
    }
    req.on("data", (chunk: Buffer) => {
      if (state === "reading") {
        size += chunk.length;
        if (size <= limit) {
          chunks.push(chunk);
          return;
        }
        drain();
        discarded = size - limit;
      } else if (state === "draining") {
        discarded += chunk.length;
      } else {
        return;
      }
      if (discarded > OVERSIZE_DRAIN_MAX_BYTES) refuse();
    });
    req.on("end", () => {
      if (state === "reading") settle(() => resolve(Buffer.concat(chunks, size)));
      else refuse();
    });
    req.on("error", () => settle(() => reject(new ClientAbort())));
    req.on("close", () => {
      if (!req.complete) settle(() => reject(new ClientAbort()));
    });
  });
}

/**
 * Parse a JSON API body; empty → `undefined`. Bad JSON → 400 naming `what` plus the parser
 * detail. Text nested past the JSON depth limit → 400 naming the limit and the path, checked on
 * the raw text before parsing. API bodies are objects wrapping the values they carry
 * (`{ "input": … }`, `{ "config": … }`), so they may nest one level more than a value.
 */
export function parseJson(body: Buffer, what: string): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString("utf8");
  const tooDeep = jsonTextDepthProblem(text, { envelopeLevels: 1 });
  if (tooDeep !== null) throw new HttpError(400, "VALIDATION", tooDeepMessage(what, tooDeep));
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new HttpError(400, "VALIDATION", `${what} is not valid JSON: ${detail}`);
  }
}

/** A validation failure in the `<what> failed validation: <path>: <msg>` form. */
export function validationFailed(what: string, issues: [string, string][]): HttpError {
  const list = issues.map(([path, msg]) => `${path}: ${msg}`).join("; ");
  return new HttpError(400, "VALIDATION", `${what} failed validation: ${list}`);
}

/** Split a raw request target into decoded, non-empty path segments (query ignored). */
export function pathSegments(target: string): string[] {
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  const out: string[] = [];
  for (const raw of path.split("/")) {
    if (raw === "") continue;
    try {
      out.push(decodeURIComponent(raw));
    } catch {
      throw new HttpError(400, "VALIDATION", "Malformed percent-encoding in URL path.");
    }
  }
  return out;
}

/** The raw pathname of a request target. */
export function pathnameOf(target: string): string {
  const q = target.indexOf("?");
  return q === -1 ? target : target.slice(0, q);
}

/** The query parameters of a request target. */
export function queryOf(target: string): URLSearchParams {
  const q = target.indexOf("?");
  return new URLSearchParams(q === -1 ? "" : target.slice(q + 1));
}
