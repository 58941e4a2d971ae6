/**
 * A run status as a word with its colour. The word is always printed, so colour is never the
 * only signal: grey queued/pending, blue running, yellow cancelling, green completed, red
 * failed, magenta cancelled, yellow awaiting_input (waiting for a person), cyan
 * waiting_for_child (waiting for a run it called).
 */
import type { Style } from "./color.ts";

/** `status`, coloured. */
export function styleStatus(status: string, style: Style): string {
  switch (status) {
    case "queued":
    case "pending":
      return style.dim(status);
    case "running":
      return style.blue(status);
    case "cancelling":
    case "awaiting_input":
      return style.yellow(status);
    case "completed":
      return style.green(status);
    case "failed":
      return style.red(status);
    case "cancelled":
      return style.magenta(status);
    case "waiting_for_child":
      return style.cyan(status);
    default:
      return status; // "waiting" before the first event, or a status from a newer server
  }
}
