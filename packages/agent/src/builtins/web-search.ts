/**
 * The `web_search` built-in and the one search-backend contract it speaks. The operator points
 * the engine at a search endpoint; the engine process queries it (`searchBackend`, so the
 * endpoint and any key in it never reach a run process) and the run's tool only asks its host.
 * Contract: `GET <url>?q=<query>&limit=<n>` answers 200 with JSON
 * `{ "results": [{ "title": string, "url": string, "snippet"?: string }] }`; anything else is a
 * tool error. Without a configured backend the tool is not advertised.
 */
import { EngineError } from "@promenade/workflow/errors";
import type { FetchLike } from "../ports.ts";
import type { AgentTool } from "../tools.ts";
import { optInt, str } from "./args.ts";

/** Default and largest number of results. */
export const WEB_SEARCH_DEFAULT_LIMIT = 5;
export const WEB_SEARCH_MAX_LIMIT = 20;
const TIMEOUT_MS = 30_000;

/** One search result. */
export interface WebSearchResult {
  title: string;
  url: string;
  snippet?: string;
}

/** Runs one search: the host's `webSearch`. */
export type WebSearch = (query: string, limit: number) => Promise<unknown>;

/**
 * The engine-side search over the backend at `endpoint` (an http(s) URL; its own query
 * parameters are kept, `q` and `limit` are set).
 * @throws EngineError `VALIDATION` at construction for an endpoint that is not an http(s) URL.
 */
export function searchBackend(
  endpoint: string,
  fetchImpl: FetchLike = globalThis.fetch,
): (query: string, limit: number) => Promise<WebSearchResult[]> {
  let base: URL;
  try {
    base = new URL(endpoint);
  } catch {
    throw new EngineError("VALIDATION", "The web search URL is not a valid URL.");
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new EngineError("VALIDATION", "The web search URL must be an http or https URL.");
  }
  return async (query, limit) => {
    const url = new URL(base);
    url.searchParams.set("q", query);
    url.searchParams.set("limit", String(limit));
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new EngineError(
        "PROVIDER_ERROR",
        `The web search backend could not be reached: ${(err as Error).message}`,
      );
    }
    if (!response.ok) {
      throw new EngineError(
        "PROVIDER_ERROR",
        `The web search backend answered HTTP ${response.status}.`,
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new EngineError("PROVIDER_ERROR", "The web search backend did not answer JSON.");
    }
    return parseResults(body).slice(0, limit);
  };
}

/** `{ results: [{ title, url, snippet? }] }` → the results; anything else `PROVIDER_ERROR`. */
export function parseResults(body: unknown): WebSearchResult[] {
  const results = (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) {
    throw new EngineError(
      "PROVIDER_ERROR",
      'The web search backend answered without a "results" array.',
    );
  }
  return results.flatMap((entry: unknown) => {
    const item = entry as { title?: unknown; url?: unknown; snippet?: unknown } | null;
    if (typeof item?.title !== "string" || typeof item.url !== "string") return [];
    const result: WebSearchResult = { title: item.title, url: item.url };
    if (typeof item.snippet === "string" && item.snippet !== "") result.snippet = item.snippet;
    return [result];
  });
}

/** The `web_search` tool over the host's search. */
export function webSearchTool(search: WebSearch): AgentTool {
  return {
    spec: {
      name: "web_search",
      description:
        "Search the web. Returns up to `limit` results (default " +
        `${WEB_SEARCH_DEFAULT_LIMIT}, max ${WEB_SEARCH_MAX_LIMIT}), each a title, URL and snippet; ` +
        "fetch a page with webfetch to read it.",
      inputSchema: {
        type: "object",
        required: ["query"],
        properties: {
          query: { type: "string" },
          limit: { type: "integer", minimum: 1, maximum: WEB_SEARCH_MAX_LIMIT },
        },
      },
    },
    async execute(input) {
      const query = str(input, "query").trim();
      if (query === "") throw new EngineError("VALIDATION", `"query" is empty.`);
      const limit = Math.min(
        Math.max(optInt(input, "limit") ?? WEB_SEARCH_DEFAULT_LIMIT, 1),
        WEB_SEARCH_MAX_LIMIT,
      );
      // The answer crossed a process boundary: checked again here.
      const results = parseResults({ results: await search(query, limit) });
      if (results.length === 0) return `No results for ${JSON.stringify(query)}.`;
      return results
        .map((result, i) => {
          const lines = [`${i + 1}. ${result.title}`, `   ${result.url}`];
          if (result.snippet !== undefined) lines.push(`   ${result.snippet}`);
          return lines.join("\n");
        })
        .join("\n");
    },
  };
}
