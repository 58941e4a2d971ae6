/**
 * `EngineError`, its brand and the closed list of wire error codes; published as
 * `@promenade/workflow/errors` through `./index.ts`. No I/O, no dependencies.
 * Invariant: the brand is a `Symbol.for` key, so an error raised by a second copy of this module
 * (a run that loaded the SDK twice) is still recognised; `instanceof` is never the check.
 */
/**
 * The canonical engine error codes, in the order of the error table in docs/contracts.md. Wire
 * format: never rename.
 */
export const ENGINE_ERROR_CODES = [
  "VALIDATION",
  "NOT_FOUND",
  "CONFLICT",
  "SECRET_MISSING",
  "SECRET_UNDECLARED",
  "MODEL_UNRESOLVED",
  "PROVIDER_ERROR",
  "BUDGET_EXCEEDED",
  "PROGRAM_ERROR",
  "CRASHED",
  "CANCELLED",
  "UNSUPPORTED",
  "INTERNAL",
] as const;

/** One of the 13 engine error codes. */
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

const codeSet: ReadonlySet<string> = new Set(ENGINE_ERROR_CODES);

/** True when `code` is one of {@link ENGINE_ERROR_CODES}. */
export function isEngineErrorCode(code: string): code is EngineErrorCode {
  return codeSet.has(code);
}

const BRAND = Symbol.for("promenade.EngineError");

/** The serialisable shape of an error on the wire (IPC, HTTP, run rows): never stack or cause. */
export interface ErrorShape {
  code: string;
  message: string;
  hint?: string;
}

/**
 * The one error class. `message` names the thing (run id, slug, field); `hint` is one line
 * pointing at the fix (config key, env var, file). Neither ever holds a secret value.
 */
export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly hint: string | undefined;

  constructor(
    code: EngineErrorCode,
    message: string,
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EngineError";
    this.code = code;
    this.hint = hint;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  /** `{ code, message, hint? }` — what crosses IPC and HTTP. */
  toJSON(): ErrorShape {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

/** Brand check (works across module copies, unlike `instanceof`). */
export function isEngineError(value: unknown): value is EngineError {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true &&
    typeof (value as { code?: unknown }).code === "string" &&
    isEngineErrorCode((value as { code: string }).code)
  );
}

/**
 * Shape an error that originated in the program process: an `EngineError` keeps its code,
 * message and hint; any other `Error` is `PROGRAM_ERROR` with its message; any other thrown
 * value is `PROGRAM_ERROR` with `String(value)`.
 */
export function toErrorShape(err: unknown): ErrorShape {
  if (isEngineError(err)) return err.toJSON();
  if (err instanceof Error) return { code: "PROGRAM_ERROR", message: err.message };
  let message: string;
  try {
    message = String(err);
  } catch {
    message = Object.prototype.toString.call(err);
  }
  return { code: "PROGRAM_ERROR", message };
}
