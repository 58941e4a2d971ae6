/**
 * Small HTTP helpers shared by the OAuth pieces: one place that turns network failures,
 * non-2xx answers and non-JSON bodies into `McpError`s. Callers decide what a body may reveal
 * (token endpoint errors never echo their body).
 */
import { McpError } from "../errors.ts";
import type { FetchLike } from "../ports.ts";

/** Outcome of {@link fetchJson}: the status and the parsed body (undefined if not JSON). */
export interface JsonResponse {
  status: number;
  ok: boolean;
  body: unknown;
  headers: Headers;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}

/** Fetches and parses a JSON body; throws `UNREACHABLE` on network failure only. */
export async function fetchJson(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
  what: string,
): Promise<JsonResponse> {
  let response: Response;
  try {
    response = await fetchImpl(url, { ...init, redirect: "manual" });
  } catch (error) {
    throw new McpError("UNREACHABLE", `${what} at ${url} is unreachable: ${describe(error)}`, {
      hint: "check the URL and your network; OAuth servers are contacted directly, with no retries",
      cause: error,
    });
  }
  let body: unknown;
  try {
    const text = await response.text();
    body = text === "" ? undefined : (JSON.parse(text) as unknown);
  } catch {
    body = undefined;
  }
  return { status: response.status, ok: response.ok, body, headers: response.headers };
}

/** True for a plain JSON object. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
