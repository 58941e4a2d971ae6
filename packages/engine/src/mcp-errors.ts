/**
 * `McpError` → `EngineError` (the table below), for the two places the engine calls
 * `@promenade/mcp/oauth`: `authorizeMcpServer` and the `mcp_token` host method. Message and hint
 * are kept unchanged; anything that is not an `McpError` passes through. Type-only import of the
 * MCP package (callers pass its `isMcpError`), so the run process never loads it through here.
 */
import type { McpErrorCode, isMcpError } from "@promenade/mcp/oauth";
import { EngineError } from "@promenade/workflow/errors";
import type { EngineErrorCode } from "@promenade/workflow/errors";

const ENGINE_CODE: Partial<Record<McpErrorCode, EngineErrorCode>> = {
  INVALID_URL: "VALIDATION",
  UNSUPPORTED: "UNSUPPORTED",
  ABORTED: "CANCELLED",
  INTERNAL: "INTERNAL",
};

/** The engine error for an MCP OAuth failure; every unlisted code is `PROVIDER_ERROR`. */
export function toEngineError(error: unknown, isMcp: typeof isMcpError): unknown {
  if (!isMcp(error)) return error;
  return new EngineError(ENGINE_CODE[error.code] ?? "PROVIDER_ERROR", error.message, error.hint, {
    cause: error,
  });
}
