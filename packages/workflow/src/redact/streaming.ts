/**
 * Redaction of text that arrives in chunks (model output deltas, a child's stdout). A secret may
 * be split across chunks, so the tail that could still be the start of one is held back until
 * more text (or the end) arrives. The concatenated output equals the one-shot redaction of the
 * whole text: no prefix of a secret, and no part of two overlapping secrets, is ever emitted.
 */
import { renderRanges, type RedactionRange } from "./ranges.ts";

/** What a {@link StreamingRedactor} reads from its secret set; a `Redactor` is one. */
export interface RedactionSource {
  /** Length of the longest secret; `Infinity` holds everything until {@link StreamingRedactor.flush}. */
  readonly maxLength: number;
  /** Merged, sorted ranges of every secret in `text`. */
  ranges(text: string): RedactionRange[];
  /** One-shot redaction of `text`. */
  redact(text: string): string;
}

/** Redacts one stream of text; create one per stream. */
export class StreamingRedactor {
  readonly #source: RedactionSource;
  #held = "";

  /** Binds to the live secret set of `source` (secrets added later still count). */
  constructor(source: RedactionSource) {
    this.#source = source;
  }

  /** Number of UTF-16 units held back, not yet returned. */
  get pending(): number {
    return this.#held.length;
  }

  /**
   * Appends `chunk`; returns the redacted text that is safe to emit now (maybe `""`). Keeps the
   * last `L − 1` units (L = longest secret) — more when a match straddles that point, since it
   * could still grow or merge with text not yet received — and never splits a surrogate pair.
   */
  push(chunk: string): string {
    const text = this.#held + chunk;
    const hold = this.#source.maxLength - 1;
    if (hold <= 0) {
      this.#held = "";
      return text;
    }
    let cut = text.length - hold;
    if (!(cut > 0)) {
      this.#held = text;
      return "";
    }
    const high = text.charCodeAt(cut - 1);
    if (high >= 0xd800 && high <= 0xdbff) cut -= 1;
    // Every occurrence that starts before `cut` ends within `text` (no secret is longer than
    // `hold + 1`), so only a merged range straddling `cut` can still change.
    const ranges = this.#source.ranges(text);
    for (const range of ranges) {
      if (range.start >= cut) break;
      if (range.end > cut) {
        cut = range.start;
        break;
      }
    }
    this.#held = text.slice(cut);
    return cut > 0 ? renderRanges(text, ranges, cut) : "";
  }

  /** Ends the stream (or releases what is held, e.g. after an idle pause): the redacted rest. */
  flush(): string {
    const text = this.#held;
    this.#held = "";
    return text === "" ? "" : this.#source.redact(text);
  }
}
