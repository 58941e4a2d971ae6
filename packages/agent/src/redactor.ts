/**
 * Secret redaction (spec 03 §5): one `Redactor` per run process holds every known secret value
 * and replaces occurrences by `[redacted:<label>]` in a single pass. Overlapping occurrences merge
 * into one token (labels joined by `+`); occurrences inside a longer one are dropped; replacement
 * tokens are never re-scanned. `StreamingRedactor` holds back the tail of streamed text so a
 * secret split across provider chunks is still caught. Knows nothing about providers or events.
 */

const MIN_SECRET_LENGTH = 4;

interface Range {
  start: number;
  end: number;
  labels: string[];
}

/**
 * The known-secret set of one run process. Values shorter than 4 UTF-16 units are ignored;
 * matching is exact and case-sensitive; registering a value again keeps the latest label.
 */
export class Redactor {
  readonly #labels = new Map<string, string>();
  #version = 0;
  #maxLength = 0;

  /** Registers `value` under `label` (e.g. a secret name, `api-key:<provider>`). */
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

  /** Increments on every change to the secret set. */
  get version(): number {
    return this.#version;
  }

  /** `text` with every known value replaced (spec 03 §5.3). An empty redactor is a no-op. */
  redact(text: string): string {
    if (this.#labels.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
    return render(text, this.ranges(text), text.length);
  }

  /** Deep copy of `value` with every string leaf redacted (objects and arrays rebuilt). */
  redactDeep<T>(value: T): T {
    if (this.#labels.size === 0) return value;
    return deep(value, (s) => this.redact(s)) as T;
  }

  /** A fresh streaming redactor over this secret set (spec 03 §1.12 hold-back). */
  stream(): StreamingRedactor {
    return new StreamingRedactor(this);
  }

  /** Merged, sorted match ranges of every known value in `text`. */
  ranges(text: string): Range[] {
    const found: { start: number; end: number; label: string }[] = [];
    for (const [value, label] of this.#labels) {
      let at = text.indexOf(value);
      while (at !== -1) {
        found.push({ start: at, end: at + value.length, label });
        at = text.indexOf(value, at + 1);
      }
    }
    if (found.length === 0) return [];
    // Sorted by start, longer first: an occurrence whose end is within the running end is then
    // contained in one single earlier occurrence (dropped), anything else that starts before the
    // running end overlaps it (merged).
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    const ranges: Range[] = [];
    let current: Range | undefined;
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
}

/** Renders `text.slice(0, upTo)` with `ranges` (all ending at or before `upTo`) replaced. */
function render(text: string, ranges: readonly Range[], upTo: number): string {
  if (ranges.length === 0) return upTo === text.length ? text : text.slice(0, upTo);
  let out = "";
  let at = 0;
  for (const range of ranges) {
    if (range.start >= upTo) break;
    out += text.slice(at, range.start) + `[redacted:${range.labels.join("+")}]`;
    at = range.end;
  }
  return out + text.slice(at, upTo);
}

function deep(value: unknown, scrub: (s: string) => string): unknown {
  if (typeof value === "string") return scrub(value);
  if (Array.isArray(value)) return value.map((item) => deep(item, scrub));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = deep(item, scrub);
    return out;
  }
  return value;
}

/** The members of {@link Redactor} the loop relies on beyond the port. */
export interface LoopRedactor {
  add(label: string, value: string): void;
  redact(text: string): string;
  redactDeep<T>(value: T): T;
  stream(): StreamingRedactor;
  readonly version: number;
}

/**
 * The loop's view of a host redactor: a {@link Redactor} as is; any other `{ add, redact }` is
 * wrapped so that deep redaction delegates, every view re-redacts (its secret set may change
 * unseen) and streamed text is held until the response ends (the longest secret is unknown).
 */
export function toLoopRedactor(port: {
  add(label: string, value: string): void;
  redact(text: string): string;
}): LoopRedactor {
  if (port instanceof Redactor) return port;
  const candidate = port as Partial<LoopRedactor>;
  if (
    typeof candidate.redactDeep === "function" &&
    typeof candidate.stream === "function" &&
    typeof candidate.version === "number"
  ) {
    return candidate as LoopRedactor;
  }
  let version = 0;
  const redact = (text: string): string => port.redact(text);
  return {
    add: (label, value) => port.add(label, value),
    redact,
    redactDeep: <T>(value: T): T => deep(value, redact) as T,
    stream: () =>
      new StreamingRedactor({ maxLength: Number.POSITIVE_INFINITY, ranges: () => [], redact }),
    get version() {
      return ++version;
    },
  };
}

/** What a {@link StreamingRedactor} reads from its secret set. */
interface StreamSource {
  readonly maxLength: number;
  ranges(text: string): Range[];
  redact(text: string): string;
}

/**
 * Redacts text that arrives in chunks. `push` returns the part that is safe to publish now and
 * keeps the last `L − 1` characters (L = longest secret) — or more, when a match straddles that
 * point — until the next chunk; `flush` returns the rest. The concatenated output equals
 * `redact(whole text)`.
 */
export class StreamingRedactor {
  readonly #redactor: StreamSource;
  #held = "";

  /** Binds to the live secret set of `redactor` (secrets added later still count). */
  constructor(redactor: StreamSource) {
    this.#redactor = redactor;
  }

  /** Appends `chunk`; returns the redacted text that can be emitted now (maybe `""`). */
  push(chunk: string): string {
    const text = this.#held + chunk;
    const hold = this.#redactor.maxLength - 1;
    if (hold <= 0) {
      this.#held = "";
      return text;
    }
    let cut = text.length - hold;
    if (!(cut > 0)) {
      this.#held = text;
      return "";
    }
    const ranges = this.#redactor.ranges(text);
    // A match straddling the cut could still grow (or merge) with text not yet received.
    for (const range of ranges) {
      if (range.start < cut && range.end > cut) {
        cut = range.start;
        break;
      }
    }
    this.#held = text.slice(cut);
    return render(text, ranges, cut);
  }

  /** Ends the stream: the redacted remainder. */
  flush(): string {
    const text = this.#held;
    this.#held = "";
    return this.#redactor.redact(text);
  }
}
