/**
 * The approximate rate table behind `max_usd` budgets: if a pattern matches too loosely (`o1`
 * inside another model name) or overrides stop winning, runs are stopped too early or never.
 */
import { describe, expect, it } from "vitest";
import { createPriceUsage, rateFor, usageUsdMicros } from "./rates.ts";

describe("usageUsdMicros", () => {
  it("prices the documented examples", () => {
    expect(
      usageUsdMicros("claude-sonnet-4-5", { inputTokens: 1_000_000, outputTokens: 1_000_000 }),
    ).toBe(18_000_000);
    expect(usageUsdMicros("anthropic/claude-sonnet-4-5", {})).toBe(0);
    expect(usageUsdMicros("claude-sonnet-4-5", { outputTokens: 1000 })).toBe(15_000);
  });

  it("prices gpt-4o-mini below gpt-4o and unknown models at 3/15", () => {
    const usage = { inputTokens: 1000, outputTokens: 1000 };
    expect(usageUsdMicros("gpt-4o-mini", usage)).toBeLessThan(usageUsdMicros("gpt-4o", usage));
    expect(rateFor("llama3.3")).toEqual({ inUsdPerMtok: 3, outUsdPerMtok: 15 });
    expect(rateFor("auto")).toEqual({ inUsdPerMtok: 3, outUsdPerMtok: 15 });
  });

  it("matches o1/o3 only as whole tokens and gemini tiers", () => {
    expect(rateFor("o3-mini").inUsdPerMtok).toBe(15);
    expect(rateFor("o1").outUsdPerMtok).toBe(60);
    expect(rateFor("gemini-2.5-pro").inUsdPerMtok).toBe(1.25);
    expect(rateFor("gemini-2.0-flash").inUsdPerMtok).toBe(0.15);
  });

  it("tests operator overrides first and may price a local model at zero", () => {
    const price = createPriceUsage([{ match: "^llama", in_usd_per_mtok: 0, out_usd_per_mtok: 0 }]);
    expect(price("llama3.3", { inputTokens: 5_000_000 })).toBe(0);
    expect(price("claude-opus-4", { inputTokens: 1_000_000 })).toBe(15_000_000);
  });

  it("rejects negative rates and invalid patterns with VALIDATION", () => {
    expect(() =>
      createPriceUsage([{ match: "x", in_usd_per_mtok: -1, out_usd_per_mtok: 0 }]),
    ).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() =>
      createPriceUsage([{ match: "(", in_usd_per_mtok: 1, out_usd_per_mtok: 1 }]),
    ).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });
});
