/**
 * The route table's shapes: a handler and the context it receives, a route (its template, its
 * segment pattern and a handler per method), and matching a request path to its route.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Serves one method of one route; a thrown error becomes the JSON error response. */
export type Handler = (ctx: Ctx) => Promise<void> | void;

/** What a handler receives: the request, the response and the path as matched. */
export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  /** The route's parameter segments, percent-decoded, in path order. */
  params: string[];
  query: URLSearchParams;
  pathname: string;
}

/** One route of the table. */
export interface Route {
  /** The path as the metrics label it (`/api/runs/:id`). */
  template: string;
  /** Segment pattern: literal strings or `null` for a parameter. */
  pattern: (string | null)[];
  methods: Record<string, Handler>;
}

/** The first route whose pattern matches `segments`, with its parameters; null when none does. */
export function matchRoute(
  routes: readonly Route[],
  segments: string[],
): { route: Route; params: string[] } | null {
  for (const route of routes) {
    if (route.pattern.length !== segments.length) continue;
    const params: string[] = [];
    let ok = true;
    for (let i = 0; i < segments.length; i++) {
      const p = route.pattern[i];
      const s = segments[i] ?? "";
      if (p === null) params.push(s);
      else if (p !== s) {
        ok = false;
        break;
      }
    }
    if (ok) return { route, params };
  }
  return null;
}
