/**
 * Query parameters of the list routes: a non-negative integer, and an instant given as epoch
 * milliseconds or an ISO 8601 date or date-time. A malformed value is a 400 `VALIDATION` naming the
 * parameter; an absent one is `undefined`.
 */
import { HttpError } from "../internal/http.ts";

const DIGITS = /^\d+$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A non-negative integer parameter. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!DIGITS.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new HttpError(
      400,
      "VALIDATION",
      `Query parameter "${name}" must be a non-negative integer (got "${raw}").`,
    );
  }
  return Number(raw);
}

/**
 * An instant: epoch ms, or an ISO 8601 date (UTC midnight) or date-time with its offset (a
 * date-time without one would depend on the server's zone).
 */
export function instantParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const ms = DIGITS.test(raw) ? Number(raw) : ISO_INSTANT.test(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new HttpError(
      400,
      "VALIDATION",
      `Query parameter "${name}" must be an instant: epoch milliseconds or an ISO 8601 date-time (got "${raw}").`,
      "Examples: 1735689600000, 2025-01-01, 2025-01-01T09:30:00Z.",
    );
  }
  return ms;
}
