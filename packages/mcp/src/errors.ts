/**
 * The one error type of @promenade/mcp. Every failure of the JSON-RPC layer, the transports and
 * the OAuth pieces is an `McpError` with a closed `code`, a message naming the server, and an
 * optional one-line `hint` saying what to change. It knows nothing about Promenade's
 * `EngineError`: the agent and the engine translate codes at their edge.
 * Checked with a `Symbol.for` brand so two copies of this package still recognise each other.
 */

/** Closed set of failure kinds. The last four are raised by the OAuth pieces only. */
export type McpErrorCode =
  | "SPAWN_FAILED"
  | "PROCESS_EXITED"
  | "UNREACHABLE"
  | "HTTP_STATUS"
  | "UNAUTHORIZED"
  | "AUTH_REQUIRED"
  | "TIMEOUT"
  | "ABORTED"
  | "RPC_ERROR"
  | "PROTOCOL"
  | "CLOSED"
  | "INVALID_URL"
  | "UNSUPPORTED"
  | "AUTHORIZATION_FAILED"
  | "INTERNAL";

const BRAND = Symbol.for("@promenade/mcp.McpError");

/** Construction options of {@link McpError}. */
export interface McpErrorOptions {
  /** Names the server (command, host or configured label); empty for OAuth helpers without one. */
  label?: string;
  /** One line telling the caller what to change. */
  hint?: string;
  /** HTTP status, for `HTTP_STATUS`. */
  status?: number;
  /** JSON-RPC error code, for `RPC_ERROR`. */
  rpcCode?: number;
  /** Underlying error; never serialized. */
  cause?: unknown;
}

/**
 * A failure of the MCP client. Serialize with {@link toMcpErrorShape} (`{ code, message, hint? }`),
 * never the stack or cause.
 */
export class McpError extends Error {
  /** What kind of failure this is. */
  readonly code: McpErrorCode;
  /** The server the failure concerns (empty when none applies). */
  readonly label: string;
  /** What to do about it, when we know. */
  readonly hint?: string;
  /** HTTP status (code `HTTP_STATUS`). */
  readonly status?: number;
  /** JSON-RPC error code (code `RPC_ERROR`). */
  readonly rpcCode?: number;

  constructor(code: McpErrorCode, message: string, options: McpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "McpError";
    this.code = code;
    this.label = options.label ?? "";
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.status !== undefined) this.status = options.status;
    if (options.rpcCode !== undefined) this.rpcCode = options.rpcCode;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for an {@link McpError} from any copy of this package (brand check, not `instanceof`). */
export function isMcpError(value: unknown): value is McpError {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true
  );
}

/** The wire shape `{ code, message, hint? }` of an {@link McpError}. */
export function toMcpErrorShape(error: McpError): {
  code: McpErrorCode;
  message: string;
  hint?: string;
} {
  return error.hint === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, hint: error.hint };
}
