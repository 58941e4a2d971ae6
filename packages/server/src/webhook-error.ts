/**
 * The error every webhook refusal throws: an `HttpError` tagged with its
 * `promenade_webhook_requests_total` outcome, so the route counts it without re-deciding.
 */
import { HttpError } from "./internal/http.ts";

/** Outcome label of `promenade_webhook_requests_total`. */
export type WebhookOutcome =
  | "accepted"
  | "not_found"
  | "unauthorized"
  | "unconfigured"
  | "invalid_body"
  | "too_large"
  | "replayed";

/** An `HttpError` tagged with its metrics outcome. */
export class WebhookError extends HttpError {
  readonly outcome: WebhookOutcome;
  constructor(
    outcome: WebhookOutcome,
    status: number,
    code: string,
    message: string,
    hint?: string,
  ) {
    super(status, code, message, hint);
    this.outcome = outcome;
  }
}
