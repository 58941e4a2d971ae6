/**
 * The error codes a workflow's retry policy may retry: failures of the program or of what it
 * called that another attempt can cure. Every other code is a deliberate or configuration outcome
 * (`VALIDATION`, `BUDGET_EXCEEDED`, `SECRET_UNDECLARED`, `CANCELLED`, …) and never retries.
 */
export const RETRYABLE_ERROR_CODES = ["PROGRAM_ERROR", "PROVIDER_ERROR", "INTERNAL"] as const;

/** One of {@link RETRYABLE_ERROR_CODES}. */
export type RetryableErrorCode = (typeof RETRYABLE_ERROR_CODES)[number];

const retryable: ReadonlySet<string> = new Set(RETRYABLE_ERROR_CODES);

/** True when `code` is one a retry policy may retry. */
export function isRetryableErrorCode(code: string): code is RetryableErrorCode {
  return retryable.has(code);
}
