/**
 * The redaction algorithm: find every occurrence of every known secret in a text, merge them into
 * ranges, and render each range as one `[redacted:<labels>]` token. One pass over the original
 * text, so a replacement token is never re-scanned. Overlapping occurrences merge into one range
 * whose labels join with `+` (secrets `abcdef` ONE and `defghi` TWO turn `<abcdefghi>` into
 * `<[redacted:ONE+TWO]>`); an occurrence inside a longer one adds nothing.
 */

/** Values shorter than this many UTF-16 units are never treated as secrets. */
export const MIN_SECRET_LENGTH = 4;

/** One merged span of secret text: `[start, end)` in UTF-16 units, and its labels in order. */
export interface RedactionRange {
  start: number;
  end: number;
  labels: string[];
}

/** The `[redacted:<labels>]` token that replaces one range (the wire format readers rely on). */
export function redactionToken(labels: readonly string[]): string {
  return `[redacted:${labels.join("+")}]`;
}

/**
 * Merged, sorted match ranges of every `value → label` entry in `text`. Every occurrence counts,
 * overlapping ones of the same value included.
 */
export function findRanges(
  text: string,
  secrets: Iterable<readonly [value: string, label: string]>,
): RedactionRange[] {
  const found: { start: number; end: number; label: string }[] = [];
  for (const [value, label] of secrets) {
    for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
      found.push({ start: at, end: at + value.length, label });
    }
  }
  if (found.length === 0) return [];
  // Sorted by start, longer first: an occurrence whose end is within the running end is then
  // contained in what is already covered (dropped); anything else that starts before the running
  // end overlaps it (merged).
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const ranges: RedactionRange[] = [];
  let current: RedactionRange | undefined;
  for (const hit of found) {
    if (current !== undefined && hit.end <= current.end) continue;
    if (current !== undefined && hit.start < current.end) {
      current.end = hit.end;
      if (!current.labels.includes(hit.label)) current.labels.push(hit.label);
      continue;
    }
    current = { start: hit.start, end: hit.end, labels: [hit.label] };
    ranges.push(current);
  }
  return ranges;
}

/**
 * `text.slice(0, upTo)` with every range that starts before `upTo` replaced by its token. Callers
 * pass an `upTo` that no range straddles.
 */
export function renderRanges(
  text: string,
  ranges: readonly RedactionRange[],
  upTo: number = text.length,
): string {
  if (ranges.length === 0) return upTo === text.length ? text : text.slice(0, upTo);
  let out = "";
  let at = 0;
  for (const range of ranges) {
    if (range.start >= upTo) break;
    out += text.slice(at, range.start) + redactionToken(range.labels);
    at = range.end;
  }
  return out + text.slice(at, upTo);
}
