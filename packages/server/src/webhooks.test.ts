/** Webhook body conversion and the per-workflow token and secret variable names. */
import { describe, expect, it } from "vitest";
import { bodyToInput, webhookEnvVarName } from "./webhooks.ts";

describe("webhooks", () => {
  it("derives the canonical variable name from the slug", () => {
    expect(webhookEnvVarName("TOKEN", "signed-hook")).toBe("PROMENADE_WEBHOOK_TOKEN__SIGNED_HOOK");
    expect(webhookEnvVarName("SECRET", "Mixed-Case")).toBe("PROMENADE_WEBHOOK_SECRET__MIXED_CASE");
  });

  it("converts bodies to inputs by content type", () => {
    expect(bodyToInput("application/json", Buffer.alloc(0))).toBeUndefined();
    expect(bodyToInput("application/vnd.github+json", Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(
      bodyToInput("application/x-www-form-urlencoded; charset=utf-8", Buffer.from("a=1&a=2&b=x")),
    ).toEqual({
      a: ["1", "2"],
      b: "x",
    });
    expect(bodyToInput(undefined, Buffer.from("[1,2]"))).toEqual([1, 2]);
    expect(bodyToInput("text/plain", Buffer.from("hello"))).toBe("hello");
    expect(() => bodyToInput("application/json", Buffer.from("{bad"))).toThrow(
      /webhook payload is not valid JSON/,
    );
    expect(() => bodyToInput("application/octet-stream", Buffer.from([0xff, 0xfe]))).toThrow(
      /UTF-8/,
    );
  });
});
