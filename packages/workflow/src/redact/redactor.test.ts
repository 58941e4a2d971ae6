/**
 * One-shot secret redaction: if overlapping or nested secrets are merged wrongly, or a token is
 * re-scanned, a secret (or a part of one) reaches the event log, a log line or a provider.
 */
import { describe, expect, it } from "vitest";
import { Redactor } from "./redactor.ts";
import { redactDeep } from "./deep.ts";

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

  it("replaces a secret that contains another by the longer one, and the shorter alone elsewhere", () => {
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

  it("merges overlapping secrets into one token with labels in start order, leaving no tail", () => {
    const r = new Redactor();
    r.add("ONE", "abcdef");
    r.add("TWO", "defghi");
    expect(r.redact("<abcdefghi>")).toBe("<[redacted:ONE+TWO]>");
    expect(r.redact("<defghiabcdef>")).toBe("<[redacted:TWO][redacted:ONE]>");
  });

  it("merges overlapping occurrences of one secret with itself", () => {
    const r = new Redactor();
    r.add("AA", "abab");
    expect(r.redact("xababab")).toBe("x[redacted:AA]");
  });

  it("keeps the latest label for a value registered twice", () => {
    const r = new Redactor();
    r.add("OLD", "s3cr3t-value");
    const before = r.version;
    r.add("NEW", "s3cr3t-value");
    expect(r.redact("s3cr3t-value")).toBe("[redacted:NEW]");
    expect(r.version).toBe(before + 1);
    r.add("NEW", "s3cr3t-value");
    expect(r.version).toBe(before + 1);
  });

  it("is case-sensitive and exact", () => {
    const r = new Redactor();
    r.add("K", "Secret-Key");
    expect(r.redact("secret-key Secret-Key")).toBe("secret-key [redacted:K]");
  });

  it("reports its size and longest value", () => {
    const r = new Redactor();
    expect(r.maxLength).toBe(0);
    r.add("A", "four");
    r.add("B", "eleven-long");
    expect([r.size, r.maxLength]).toEqual([2, 11]);
  });

  it("redacts string leaves deeply and keeps the structure", () => {
    const r = new Redactor();
    r.add("K", "tok-123456");
    expect(r.redactDeep({ a: ["tok-123456", 3, null, true], b: { c: "x tok-123456" } })).toEqual({
      a: ["[redacted:K]", 3, null, true],
      b: { c: "x [redacted:K]" },
    });
  });

  it("returns the very value from redactDeep when no secret is known", () => {
    const body = { a: ["x"] };
    expect(new Redactor().redactDeep(body)).toBe(body);
  });
});

describe("redactDeep", () => {
  it("applies any redaction function to every string of a copy, object keys included", () => {
    const value = { kind: "x", list: ["a", { b: "c" }], n: 1 };
    const out = redactDeep(value, (text) => text.toUpperCase());
    expect(out).toEqual({ KIND: "X", LIST: ["A", { B: "C" }], N: 1 });
    expect(value.list[0]).toBe("a");
  });

  it("redacts a secret used as an object key", () => {
    const r = new Redactor();
    r.add("K", "tok-123456");
    expect(r.redactDeep({ "tok-123456": ["x"], list: [{ "a tok-123456": 1 }] })).toEqual({
      "[redacted:K]": ["x"],
      list: [{ "a [redacted:K]": 1 }],
    });
  });

  it("returns the very parts in which nothing changed", () => {
    const r = new Redactor();
    r.add("K", "tok-123456");
    const clean = { a: ["x", { b: "y" }], n: 1 };
    expect(r.redactDeep(clean)).toBe(clean);
    const mixed = { hit: "tok-123456", keep: { b: ["y"] } };
    const out = r.redactDeep(mixed);
    expect(out).toEqual({ hit: "[redacted:K]", keep: { b: ["y"] } });
    expect(out.keep).toBe(mixed.keep);
  });
});
