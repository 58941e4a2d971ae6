/**
 * Streamed redaction: a secret split across chunks, or two overlapping secrets arriving in
 * pieces, must not leave any part of a secret in what is emitted, and the concatenated output
 * must equal the one-shot redaction of the whole text.
 */
import { describe, expect, it } from "vitest";
import { Redactor } from "./redactor.ts";
import { StreamingRedactor } from "./streaming.ts";

function streamed(r: Redactor, chunks: string[]): { out: string; deltas: string[] } {
  const s = r.stream();
  const deltas = chunks.map((c) => s.push(c));
  deltas.push(s.flush());
  return { out: deltas.join(""), deltas };
}

describe("StreamingRedactor", () => {
  it("catches a secret split across chunks", () => {
    const r = new Redactor();
    r.add("CANARY", "canary-9f8e7d6c");
    const { out } = streamed(r, ["the key is cana", "ry-9f8e", "7d6c, done"]);
    expect(out).toBe("the key is [redacted:CANARY], done");
  });

  it("redacts overlapping secrets split at every position like the whole text", () => {
    const r = new Redactor();
    r.add("ONE", "abcdef");
    r.add("TWO", "defghi");
    const text = "<abcdefghi>";
    for (let cut = 0; cut <= text.length; cut++) {
      expect(streamed(r, [text.slice(0, cut), text.slice(cut)]).out).toBe("<[redacted:ONE+TWO]>");
    }
    expect(streamed(r, [...text]).out).toBe("<[redacted:ONE+TWO]>");
  });

  it("produces the same output as whole-text redaction for nested secrets at chunk edges", () => {
    const r = new Redactor();
    r.add("SHORT", "abc12345");
    r.add("LONG", "abc12345-extended-tail");
    const text = "x abc12345-extended-tail y abc12345 z";
    for (let cut = 1; cut < text.length; cut++) {
      expect(streamed(r, [text.slice(0, cut), text.slice(cut)]).out).toBe(r.redact(text));
    }
  });

  it("passes chunks straight through when no secrets are known", () => {
    const { deltas } = streamed(new Redactor(), ["a", "b"]);
    expect(deltas).toEqual(["a", "b", ""]);
  });

  it("emits what cannot start a secret at once and holds at most the longest secret minus one", () => {
    const r = new Redactor();
    r.add("K", "secret");
    const s = r.stream();
    expect(s.push("hello world")).toBe("hello ");
    expect(s.pending).toBe(5);
    expect(s.flush()).toBe("world");
    expect(s.pending).toBe(0);
  });

  it("counts a secret registered after the stream started", () => {
    const r = new Redactor();
    const s = r.stream();
    expect(s.push("before ")).toBe("before ");
    r.add("LATE", "late-secret");
    expect(s.push("a late-sec") + s.push("ret after") + s.flush()).toBe("a [redacted:LATE] after");
  });

  it("never splits a surrogate pair at the hold-back point", () => {
    const r = new Redactor();
    r.add("K", "abcd");
    const s = r.stream();
    const out = s.push("x😀yz");
    expect(out).toBe("x");
    expect(out + s.flush()).toBe("x😀yz");
  });

  it("holds everything until flush when the longest secret is unknown", () => {
    const s = new StreamingRedactor({
      maxLength: Number.POSITIVE_INFINITY,
      ranges: () => [],
      redact: (text) => text.replaceAll("secret", "[redacted:S]"),
    });
    expect(s.push("a sec")).toBe("");
    expect(s.push("ret b")).toBe("");
    expect(s.flush()).toBe("a [redacted:S] b");
  });
});
