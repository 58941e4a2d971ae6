/**
 * `@promenade/workflow/errors`: the one error class of every engine-side package and the closed
 * list of wire error codes (each with its HTTP status in docs/contracts.md), implemented in
 * `./engine-error.ts`. The only door in: named re-exports, nothing else.
 */
export {
  ENGINE_ERROR_CODES,
  EngineError,
  isEngineError,
  isEngineErrorCode,
  toErrorShape,
} from "./engine-error.ts";
export type { EngineErrorCode, ErrorShape } from "./engine-error.ts";
export { isRetryableErrorCode, RETRYABLE_ERROR_CODES } from "./retryable.ts";
export type { RetryableErrorCode } from "./retryable.ts";
