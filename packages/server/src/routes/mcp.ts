/**
 * The MCP authorization routes: `POST /api/mcp/authorizations` (body `{ url }`: start the OAuth
 * authorization of an MCP server; 202 with the authorization to poll) and
 * `GET /api/mcp/authorizations/:id` (its state). A server without `authorizeMcpServer` answers
 * 400 `UNSUPPORTED` to a start and 404 to every read.
 */
import { MAX_BODY_BYTES } from "../constants.ts";
import { HttpError, parseJson, readBody, sendJson, validationFailed } from "../internal/http.ts";
import { McpAuthorizations } from "../mcp-authorizations.ts";
import type { Handler } from "../pipeline/route.ts";
import type { AuthorizeMcpServer } from "../ports.ts";

/** The handlers of the MCP authorization routes over `authorizeMcpServer`, when given. */
export function mcpRoutes(
  authorizeMcpServer: AuthorizeMcpServer | undefined,
  log: (line: string) => void,
): { start: Handler; get: Handler } {
  const mcp =
    authorizeMcpServer === undefined ? null : new McpAuthorizations(authorizeMcpServer, log);

  const start: Handler = async ({ req, res }) => {
    if (mcp === null) {
      throw new HttpError(
        400,
        "UNSUPPORTED",
        "MCP authorization is not available on this server.",
        "Embedders pass authorizeMcpServer in the server options; promenade-server always does.",
      );
    }
    const body = parseJson(await readBody(req, MAX_BODY_BYTES), "authorization body");
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw validationFailed("authorization body", [["(root)", "expected an object with a url"]]);
    }
    const extra = Object.keys(body).filter((k) => k !== "url");
    if (extra.length > 0)
      throw validationFailed(
        "authorization body",
        extra.map((k) => [k, "unrecognized key"]),
      );
    const url = (body as { url?: unknown }).url;
    let parsed: URL | null = null;
    try {
      parsed = typeof url === "string" ? new URL(url) : null;
    } catch {
      parsed = null;
    }
    if (parsed === null || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
      throw validationFailed("authorization body", [
        ["url", "expected an http(s) URL of an MCP server"],
      ]);
    }
    const item = await mcp.start(parsed.toString());
    sendJson(res, 202, { authorization: item }, { location: `/api/mcp/authorizations/${item.id}` });
  };

  const get: Handler = ({ res, params }) => {
    const item = mcp?.get(params[0] ?? "") ?? null;
    if (item === null)
      throw new HttpError(404, "NOT_FOUND", `Unknown authorization: ${params[0] ?? ""}`);
    sendJson(res, 200, { authorization: item });
  };

  return { start, get };
}
