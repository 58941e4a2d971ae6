/**
 * The known-secret set of one run process (or one supervised run): every value registered under a
 * label, redacted from any text in one pass. Matching is exact and case-sensitive; values shorter
 * than {@link MIN_SECRET_LENGTH} are ignored; registering a value again keeps the latest label.
 */
import { redactDeep } from "./deep.ts";
import { findRanges, MIN_SECRET_LENGTH, renderRanges, type RedactionRange } from "./ranges.ts";
import { StreamingRedactor } from "./streaming.ts";

/** Replaces known secret values by `[redacted:<label>]` tokens. */
export class Redactor {
  readonly #labels = new Map<string, string>();
  #version = 0;
  #maxLength = 0;

  /** Registers `value` under `label` (a secret name, `api-key:<provider>`, `mcp:<server>`…). */
  add(label: string, value: string): void {
    if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH) return;
    if (this.#labels.get(value) === label) return;
    this.#labels.set(value, label);
    if (value.length > this.#maxLength) this.#maxLength = value.length;
    this.#version++;
  }

  /** Number of registered values. */
  get size(): number {
    return this.#labels.size;
  }

  /** Length of the longest registered value (0 when empty). */
  get maxLength(): number {
    return this.#maxLength;
  }

  /** Increments on every change to the secret set (callers cache redacted copies by it). */
  get version(): number {
    return this.#version;
  }

  /** `text` with every known value replaced. An empty redactor returns `text` as is. */
  redact(text: string): string {
    if (this.#labels.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
    const ranges = findRanges(text, this.#labels);
    return ranges.length === 0 ? text : renderRanges(text, ranges);
  }

  /** A copy of `value` with every string leaf redacted; `value` itself when no secret is known. */
  redactDeep<T>(value: T): T {
    if (this.#labels.size === 0) return value;
    return redactDeep(value, (text) => this.redact(text));
  }

  /** Merged, sorted ranges of every known value in `text`. */
  ranges(text: string): RedactionRange[] {
    if (this.#labels.size === 0) return [];
    return findRanges(text, this.#labels);
  }

  /** A fresh streaming redactor bound to this live secret set (later additions count). */
  stream(): StreamingRedactor {
    return new StreamingRedactor(this);
  }
}
