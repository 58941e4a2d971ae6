/**
 * The child runtime's redactor port and its default. The engine's run-process entry injects the
 * run's one redactor; without one the runtime uses `Redactor` from `@promenade/workflow/redact`,
 * the one implementation of the `[redacted:<label>]` rules (values shorter than 4 characters
 * ignored, latest label of a value wins, overlapping occurrences merged into one token).
 */
import { Redactor } from "@promenade/workflow/redact";

/** What the child runtime needs from a redactor; `@promenade/workflow/redact`'s `Redactor` is one. */
export interface ChildRedactor {
  /** Registers a secret value under `label` (values shorter than 4 characters are ignored). */
  add(label: string, value: string): void;
  /** `text` with every registered value replaced by `[redacted:<label>]`. */
  redact(text: string): string;
}

/** A fresh redactor with no secrets. */
export function createRedactor(): ChildRedactor {
  return new Redactor();
}
