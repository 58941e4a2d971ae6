/**
 * HTTP plumbing shared by the routes: the transport error type, JSON/error responses with the
 * headers every response carries (spec 04 §0.4), bounded body reading (§0.5, §6.1) and path
 * segment decoding (§0.3). Knows nothing about engines or routes.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isEngineError } from "@promenade/workflow/errors";

/** A transport-level failure with its HTTP status and wire code (spec 04 §0.4 table). */
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
 * Read the whole body, refusing more than `limit` bytes: up front from `content-length`, else as
 * soon as the running count passes the limit (buffered chunks are dropped and the rest of the
 * upload is discarded so the 413 can still be read by the client).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > limit) {
      req.resume();
      reject(tooLarge(limit));
      return;
    }
    let chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks = [];
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    req.on("error", (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

/** Parse a JSON body; empty → `undefined`; bad JSON → 400 naming `what` plus the parser detail. */
export function parseJson(body: Buffer, what: string): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new HttpError(400, "VALIDATION", `${what} is not valid JSON: ${detail}`);
  }
}

/** A validation failure in the spec's `<what> failed validation: <path>: <msg>` form. */
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
