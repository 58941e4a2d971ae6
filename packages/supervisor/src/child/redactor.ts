/**
 * The fallback secret redactor of the child runtime, used when the engine's run-process entry
 * injects none (spec 03 §5.1, §5.3 algorithm): values shorter than 4 characters are ignored, the
 * latest label of a value wins, one pass replaces every occurrence by `[redacted:<label>]`,
 * contained occurrences are dropped and overlapping ones merged (labels joined by `+`).
 */

/** What the child runtime needs from a redactor; `@promenade/agent`'s `Redactor` satisfies it. */
export interface ChildRedactor {
  /** Registers a secret value under `label` (values shorter than 4 characters are ignored). */
  add(label: string, value: string): void;
  /** `text` with every registered value replaced by `[redacted:<label>]`. */
  redact(text: string): string;
}

/** A small, dependency-free redactor. */
export function createRedactor(): ChildRedactor {
  const labels = new Map<string, string>();
  return {
    add(label, value) {
      if (typeof value !== "string" || value.length < 4) return;
      labels.set(value, label);
    },
    redact(text) {
      if (labels.size === 0 || text === "") return text;
      const hits: { start: number; end: number; label: string }[] = [];
      for (const [value, label] of labels) {
        for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
          hits.push({ start: at, end: at + value.length, label });
        }
      }
      if (hits.length === 0) return text;
      hits.sort((a, b) => a.start - b.start || b.end - a.end);
      const ranges: { start: number; end: number; labels: string[] }[] = [];
      for (const hit of hits) {
        const last = ranges[ranges.length - 1];
        if (last !== undefined && hit.start < last.end) {
          if (hit.end > last.end) {
            last.end = hit.end;
            if (!last.labels.includes(hit.label)) last.labels.push(hit.label);
          }
          continue;
        }
        ranges.push({ start: hit.start, end: hit.end, labels: [hit.label] });
      }
      let out = "";
      let cursor = 0;
      for (const range of ranges) {
        out += `${text.slice(cursor, range.start)}[redacted:${range.labels.join("+")}]`;
        cursor = range.end;
      }
      return out + text.slice(cursor);
    },
  };
}
