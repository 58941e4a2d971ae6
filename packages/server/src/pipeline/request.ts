/**
 * The HTTP request pipeline: draining → guards (Host, API token, Origin) → route → method →
 * handler. A thrown error becomes the JSON error response with its HTTP status (an unknown one the
 * opaque 500, logged with its stack); a client that hangs up mid-request is a client fault, neither
 * logged nor a 5xx. Every request is observed in the metrics under its route template.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  CLIENT_CLOSED_STATUS,
  ClientAbort,
  HttpError,
  pathSegments,
  pathnameOf,
  queryOf,
  sendError,
  toHttpError,
} from "../internal/http.ts";
import { describe } from "../internal/error-text.ts";
import type { Metrics } from "../internal/metrics.ts";
import { areaOf } from "./guard.ts";
import type { Area } from "./guard.ts";
import { matchRoute } from "./route.ts";
import type { Route } from "./route.ts";

/** What the pipeline needs from the server. */
export interface RequestPipelineDeps {
  routes: readonly Route[];
  guard: (req: IncomingMessage, area: Area) => void;
  metrics: Metrics;
  log: (line: string) => void;
  /** True once the server is shutting down: every request then answers 503. */
  draining: () => boolean;
}

/** The request listener of the HTTP server. */
export function createRequestHandler({
  routes,
  guard,
  metrics,
  log,
  draining,
}: RequestPipelineDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method ?? "GET";
    let routeLabel = "unmatched";
    try {
      if (draining()) {
        throw new HttpError(
          503,
          "SHUTTING_DOWN",
          "The server is shutting down.",
          "Retry against the restarted server.",
          { connection: "close" },
        );
      }
      const target = req.url ?? "/";
      const pathname = pathnameOf(target);
      const segments = pathSegments(target);
      const area = areaOf(segments);
      guard(req, area);
      const found = matchRoute(routes, segments);
      if (found === null) {
        if (area === "hooks" && segments.length === 3) {
          throw new HttpError(404, "NOT_FOUND", `No webhook trigger at ${pathname}.`);
        }
        throw new HttpError(404, "NOT_FOUND", `No such route: ${pathname}`);
      }
      routeLabel = found.route.template;
      const handler = found.route.methods[method];
      if (handler === undefined) {
        const allow = Object.keys(found.route.methods).join(", ");
        throw new HttpError(
          405,
          "METHOD_NOT_ALLOWED",
          `${method} is not allowed for ${pathname}.`,
          undefined,
          { allow },
        );
      }
      await handler({ req, res, params: found.params, query: queryOf(target), pathname });
    } catch (err) {
      if (err instanceof ClientAbort) {
        // The client hung up mid-request: a client fault, not logged, not a 5xx.
        res.destroy();
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.observeRequest(method, routeLabel, CLIENT_CLOSED_STATUS, seconds);
        return;
      }
      const { error, internal } = toHttpError(err);
      if (internal) {
        log(`internal error on ${method} ${routeLabel}: ${describe(err)}`);
      }
      if (res.headersSent) {
        res.destroy();
      } else {
        sendError(res, error);
      }
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      res.once("finish", () => metrics.observeRequest(method, routeLabel, res.statusCode, seconds));
      if (res.writableFinished) metrics.observeRequest(method, routeLabel, res.statusCode, seconds);
    }
  };
}
