/**
 * The canonical key of an MCP server URL: one spelling per server, so the token
 * store, the broker's single-flight map and the RFC 8707 `resource` default all agree.
 */
import { McpError } from "../errors.ts";

/** Parses an http(s) URL or throws `INVALID_URL` naming it. */
export function parseServerUrl(serverUrl: string): URL {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new McpError("INVALID_URL", `invalid MCP server URL "${serverUrl}"`, {
      hint: "pass the absolute http(s) URL of the MCP endpoint, e.g. https://example.com/mcp",
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new McpError("INVALID_URL", `MCP server URL "${serverUrl}" is not http(s)`, {
      hint: "OAuth applies to HTTP MCP servers only",
    });
  }
  return url;
}

/** The URL's path without trailing slashes (`/` → `""`). */
export function trimmedPath(url: URL): string {
  return url.pathname.replace(/\/+$/, "");
}

/**
 * `<protocol>//<host><path>`: host lower-cased, default port dropped, other ports kept, trailing
 * slashes removed, query and fragment dropped. Throws `INVALID_URL`.
 */
export function canonicalServerUrl(serverUrl: string): string {
  const url = parseServerUrl(serverUrl);
  return `${url.protocol}//${url.host.toLowerCase()}${trimmedPath(url)}`;
}
