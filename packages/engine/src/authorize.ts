/**
 * `engine.authorizeMcpServer`: the one interactive OAuth step, run in the engine process over
 * `@promenade/mcp/oauth`, with tokens stored in `<dataDir>/mcp_tokens.json` (mode 0600). Translates
 * `McpError` codes into engine codes (the table in `mcp-errors.ts`), keeping message and hint. The
 * engine never opens a browser.
 */
import { authorizeServer, FileTokenStore, isMcpError } from "@promenade/mcp/oauth";
import { EngineError } from "@promenade/workflow/errors";
import { toEngineError } from "./mcp-errors.ts";

/** Options of `engine.authorizeMcpServer(url, options)`. */
export interface AuthorizeMcpServerOptions {
  /** Receives the authorization URL to open in a browser (the engine never opens one). */
  onAuthorizationUrl(url: string): void;
  /** How long to wait for the browser callback, in ms. Default `300000` (5 minutes). */
  timeoutMs?: number;
}

/**
 * Run the interactive grant for `serverUrl`, storing tokens at `tokenStorePath`. `signal`
 * aborts the wait (engine close).
 */
export async function authorizeMcp(
  serverUrl: string,
  options: AuthorizeMcpServerOptions,
  tokenStorePath: string,
  signal: AbortSignal,
): Promise<void> {
  if (typeof serverUrl !== "string" || serverUrl.length === 0) {
    throw new EngineError("VALIDATION", "authorizeMcpServer expects the MCP server URL.");
  }
  if (
    typeof options !== "object" ||
    options === null ||
    typeof options.onAuthorizationUrl !== "function"
  ) {
    throw new EngineError(
      "VALIDATION",
      "authorizeMcpServer expects { onAuthorizationUrl(url), timeoutMs? }.",
    );
  }
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)) {
    throw new EngineError(
      "VALIDATION",
      "authorizeMcpServer: timeoutMs must be a positive integer.",
    );
  }
  try {
    await authorizeServer(serverUrl, {
      store: new FileTokenStore(tokenStorePath),
      onAuthorizationUrl: (url) => options.onAuthorizationUrl(url),
      signal,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  } catch (error) {
    throw toEngineError(error, isMcpError);
  }
}
