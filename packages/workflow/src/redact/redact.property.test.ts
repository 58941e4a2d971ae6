/**
 * Property: whatever the secrets (random, at least 4 characters, overlapping each other, one
 * inside another), wherever the text is split into chunks, no character sequence of length 4 or
 * more of any secret survives one-shot, streamed or deep redaction; and streaming yields exactly
 * the one-shot result. Secrets use the letters w–z only, filler text never does, so every such
 * letter in the input belongs to a secret occurrence.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Redactor } from "./redactor.ts";

const SECRET_UNITS = ["w", "x", "y", "z"] as const;
const FILLER_UNITS = [" ", ".", "-", "\n", "0", "7", "é", "😀", "[", "]"] as const;
const LABELS = "ABCDEFGHIJ";

const secretText = (minLength: number) =>
  fc.string({ unit: fc.constantFrom(...SECRET_UNITS), minLength, maxLength: 10 });

/** Base secrets plus secrets derived from them: a suffix of one plus a tail, or a part of one. */
const secretsArb = fc
  .record({
    bases: fc.array(secretText(4), { minLength: 1, maxLength: 3 }),
    derived: fc.array(
      fc.record({
        from: fc.nat(),
        at: fc.nat(),
        tail: secretText(0),
        inside: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
  })
  .map(({ bases, derived }) => {
    const secrets = [...bases];
    for (const d of derived) {
      const base = secrets[d.from % secrets.length]!;
      if (d.inside) {
        const start = d.at % (base.length - 3);
        secrets.push(base.slice(start, Math.min(base.length, start + 4 + d.tail.length)));
      } else {
        const overlap = 1 + (d.at % base.length);
        secrets.push((base.slice(base.length - overlap) + d.tail).padEnd(4, "w"));
      }
    }
    return secrets;
  });

type Piece =
  | { kind: "filler"; text: string }
  | { kind: "secret"; index: number }
  | { kind: "overlap"; first: number; second: number; overlap: number };

const pieceArb: fc.Arbitrary<Piece> = fc.oneof(
  fc
    .string({ unit: fc.constantFrom(...FILLER_UNITS), maxLength: 6 })
    .map((text) => ({ kind: "filler" as const, text })),
  fc.nat().map((index) => ({ kind: "secret" as const, index })),
  fc
    .record({ first: fc.nat(), second: fc.nat(), overlap: fc.nat({ max: 10 }) })
    .map((p) => ({ kind: "overlap" as const, ...p })),
);

/** `first` then `second`, sharing the longest common edge of at most `overlap` characters. */
function overlapped(first: string, second: string, overlap: number): string {
  for (let k = Math.min(overlap, first.length, second.length); k > 0; k--) {
    if (first.endsWith(second.slice(0, k))) return first + second.slice(k);
  }
  return first + second;
}

function textOf(pieces: readonly Piece[], secrets: readonly string[]): string {
  const pick = (index: number): string => secrets[index % secrets.length]!;
  return pieces
    .map((p) => {
      if (p.kind === "filler") return p.text;
      if (p.kind === "secret") return pick(p.index);
      return overlapped(pick(p.first), pick(p.second), p.overlap);
    })
    .join("");
}

function chunksOf(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let at = 0;
  for (const point of points) {
    chunks.push(text.slice(at, point));
    at = point;
  }
  chunks.push(text.slice(at));
  return chunks;
}

/** The first sequence of 4 characters of a secret found in `output`, or null. */
function leak(output: string, secrets: readonly string[]): string | null {
  for (const secret of secrets) {
    for (let i = 0; i + 4 <= secret.length; i++) {
      const part = secret.slice(i, i + 4);
      if (output.includes(part)) return part;
    }
  }
  return null;
}

function redactorOf(secrets: readonly string[]): Redactor {
  const r = new Redactor();
  secrets.forEach((secret, i) => r.add(LABELS[i]!, secret));
  return r;
}

const caseArb = fc.record({
  secrets: secretsArb,
  pieces: fc.array(pieceArb, { maxLength: 12 }),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
});

describe("redaction properties", () => {
  it("leaves no 4-character sequence of any secret in one-shot and deep redaction", () => {
    fc.assert(
      fc.property(caseArb, ({ secrets, pieces }) => {
        const text = textOf(pieces, secrets);
        const r = redactorOf(secrets);
        expect(leak(r.redact(text), secrets)).toBeNull();
        expect(
          leak(JSON.stringify(r.redactDeep({ a: [text], b: { c: text } })), secrets),
        ).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it("leaves no 4-character sequence of any secret in streamed chunks, and matches one-shot", () => {
    fc.assert(
      fc.property(caseArb, ({ secrets, pieces, cuts }) => {
        const text = textOf(pieces, secrets);
        const r = redactorOf(secrets);
        const stream = r.stream();
        const out = chunksOf(text, cuts).map((chunk) => stream.push(chunk));
        out.push(stream.flush());
        const joined = out.join("");
        expect(leak(joined, secrets)).toBeNull();
        expect(joined).toBe(r.redact(text));
      }),
      { numRuns: 500 },
    );
  });

  it("streams any text exactly like one-shot redaction, secrets or not", () => {
    const anyText = fc.string({
      unit: fc.constantFrom(...SECRET_UNITS, ...FILLER_UNITS),
      maxLength: 60,
    });
    fc.assert(
      fc.property(
        secretsArb,
        anyText,
        fc.array(fc.nat(), { maxLength: 8 }),
        (secrets, text, cuts) => {
          const r = redactorOf(secrets);
          const stream = r.stream();
          const out = chunksOf(text, cuts).map((chunk) => stream.push(chunk));
          out.push(stream.flush());
          expect(out.join("")).toBe(r.redact(text));
        },
      ),
      { numRuns: 500 },
    );
  });
});
