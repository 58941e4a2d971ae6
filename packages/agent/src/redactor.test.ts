/**
 * Secret redaction of everything the loop emits or sends: if overlapping or nested secrets are
 * merged wrongly, or a secret split across streamed chunks slips through, a secret value reaches
 * the event log or a provider.
 */
import { describe, expect, it } from "vitest";
import { Redactor } from "./redactor.ts";

describe("Redactor", () => {
  it("never redacts values shorter than 4 characters", () => {
    const r = new Redactor();
    r.add("SHORT", "ab");
    expect(r.redact("ab ab")).toBe("ab ab");
    expect(r.size).toBe(0);
  });

  it("is a no-op when empty", () => {
    expect(new Redactor().redact("anything at all")).toBe("anything at all");
  });

  it("replaces nested secrets by the longest one (spec example)", () => {
    const r = new Redactor();
    r.add("SHORT", "abc12345");
    r.add("LONG", "abc12345-extended-tail");
    expect(r.redact("x abc12345-extended-tail y abc12345 z")).toBe(
      "x [redacted:LONG] y [redacted:SHORT] z",
    );
  });

  it("does not corrupt replacement tokens when a secret equals text inside a token", () => {
    // Sequential split/join would rewrite "[redacted:A]" into "[[redacted:B]:A]".
    const r = new Redactor();
    r.add("A", "hunter22");
    r.add("B", "redacted");
    expect(r.redact("pw hunter22 and redacted")).toBe("pw [redacted:A] and [redacted:B]");
  });

  it("merges overlapping occurrences into one token with labels in start order", () => {
    const r = new Redactor();
    r.add("ONE", "abcdef");
    r.add("TWO", "defghi");
    expect(r.redact("<abcdefghi>")).toBe("<[redacted:ONE+TWO]>");
  });

  it("keeps the latest label for a value registered twice", () => {
    const r = new Redactor();
    r.add("OLD", "s3cr3t-value");
    r.add("NEW", "s3cr3t-value");
    expect(r.redact("s3cr3t-value")).toBe("[redacted:NEW]");
  });

  it("is case-sensitive and exact", () => {
    const r = new Redactor();
    r.add("K", "Secret-Key");
    expect(r.redact("secret-key Secret-Key")).toBe("secret-key [redacted:K]");
  });

  it("redacts string leaves deeply", () => {
    const r = new Redactor();
    r.add("K", "tok-123456");
    expect(r.redactDeep({ a: ["tok-123456", 3], b: { c: "x tok-123456" } })).toEqual({
      a: ["[redacted:K]", 3],
      b: { c: "x [redacted:K]" },
    });
  });
});

describe("StreamingRedactor", () => {
  function streamed(r: Redactor, chunks: string[]): { out: string; deltas: string[] } {
    const s = r.stream();
    const deltas = chunks.map((c) => s.push(c));
    deltas.push(s.flush());
    return { out: deltas.join(""), deltas };
  }

  it("catches a secret split across chunks", () => {
    const r = new Redactor();
    r.add("CANARY", "canary-9f8e7d6c");
    const { out } = streamed(r, ["the key is cana", "ry-9f8e", "7d6c, done"]);
    expect(out).toBe("the key is [redacted:CANARY], done");
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
});
