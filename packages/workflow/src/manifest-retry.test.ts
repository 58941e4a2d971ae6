// The retry policy is checked at deploy: every bad value is refused with a message naming the
// field and what would be accepted, so nothing surprising is left for the engine to meet.
import { describe, expect, it } from "vitest";
import { MetaValidationError, validateMeta } from "./manifest.ts";

function withRetry(retry: unknown): Record<string, unknown> {
  return { slug: "flaky", triggers: [{ kind: "manual" }], retry };
}

function issues(meta: unknown): { path: string; message: string }[] {
  try {
    validateMeta(meta);
  } catch (error) {
    if (error instanceof MetaValidationError) return [...error.issues];
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(meta)} to be rejected`);
}

describe("the retry policy in the manifest", () => {
  it("is absent unless declared and keeps every field it is given", () => {
    expect("retry" in validateMeta({ slug: "a", triggers: [{ kind: "manual" }] })).toBe(false);
    const retry = {
      attempts: 3,
      backoff: { initial_seconds: 0.5, factor: 2, max_seconds: 30 },
      retry_on: ["PROGRAM_ERROR", "PROVIDER_ERROR"],
    };
    expect(validateMeta(withRetry(retry)).retry).toEqual(retry);
    expect(validateMeta(withRetry({ attempts: 1 })).retry).toEqual({ attempts: 1 });
  });

  it("refuses attempts that are not an integer from 1 to 100, naming retry.attempts", () => {
    for (const bad of [0, -2, 1.5, 101, "3", null]) {
      const found = issues(withRetry({ attempts: bad }));
      expect(found.map((issue) => issue.path)).toEqual(["retry.attempts"]);
      expect(found[0]?.message).toMatch(/attempts must/);
    }
    expect(issues(withRetry({})).map((issue) => issue.path)).toEqual(["retry.attempts"]);
  });

  it("refuses backoff numbers that are not positive, a factor below 1 and a max below the initial wait", () => {
    const paths = (backoff: unknown) =>
      issues(withRetry({ attempts: 3, backoff })).map((issue) => issue.path);
    expect(paths({ initial_seconds: 0 })).toEqual(["retry.backoff.initial_seconds"]);
    expect(paths({ initial_seconds: -1 })).toEqual(["retry.backoff.initial_seconds"]);
    expect(paths({ initial_seconds: 1, factor: 0.5 })).toEqual(["retry.backoff.factor"]);
    expect(paths({ initial_seconds: 1, max_seconds: 0 })).toEqual(["retry.backoff.max_seconds"]);
    expect(paths({ initial_seconds: 1, max_seconds: 86_401 })).toEqual([
      "retry.backoff.max_seconds",
    ]);
    expect(paths({ factor: 2 })).toEqual(["retry.backoff.initial_seconds"]);
    expect(paths({ initial_seconds: 1, jitter: true })).toEqual(["retry.backoff"]);
    const inverted = issues(
      withRetry({ attempts: 3, backoff: { initial_seconds: 10, max_seconds: 5 } }),
    );
    expect(inverted).toEqual([
      {
        path: "retry.backoff.max_seconds",
        message: "max_seconds (5) must be at least initial_seconds (10)",
      },
    ]);
  });

  it("refuses retry_on codes that never retry, naming the code and the ones allowed", () => {
    for (const code of [
      "VALIDATION",
      "BUDGET_EXCEEDED",
      "SECRET_UNDECLARED",
      "CANCELLED",
      "NOPE",
    ]) {
      const found = issues(withRetry({ attempts: 2, retry_on: ["PROGRAM_ERROR", code] }));
      expect(found).toEqual([
        {
          path: "retry.retry_on.1",
          message: `"${code}" is not a retryable error code; use one of PROGRAM_ERROR, PROVIDER_ERROR, INTERNAL`,
        },
      ]);
    }
    expect(issues(withRetry({ attempts: 2, retry_on: [] })).map((i) => i.path)).toEqual([
      "retry.retry_on",
    ]);
    expect(
      issues(withRetry({ attempts: 2, retry_on: "PROGRAM_ERROR" })).map((i) => i.path),
    ).toEqual(["retry.retry_on"]);
  });

  it("names the field in the thrown message", () => {
    expect(() => validateMeta(withRetry({ attempts: 0 }))).toThrow(
      /retry\.attempts: attempts must/,
    );
  });
});
