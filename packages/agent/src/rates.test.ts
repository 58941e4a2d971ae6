/**
 * The versioned rate table behind every model call's price and the `max_usd` budgets: if a pattern
 * matches too loosely (`o1` inside another model name), overrides stop winning, cache tokens are
 * priced at the full input rate twice, or an unknown model is not marked estimated, runs are
 * stopped too early or never and the run page shows a guess as if it were a price.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  BUILT_IN_RATES,
  DEFAULT_RATE,
  RATES_VERSION,
  createPriceUsage,
  parseRateTable,
  priceUsage,
  rateFor,
  usageUsdMicros,
} from "./rates.ts";

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
    expect(rateFor("llama3.3")).toMatchObject({ inUsdPerMtok: 3, outUsdPerMtok: 15 });
    expect(rateFor("auto")).toBe(DEFAULT_RATE);
  });

  it("matches o1/o3 only as whole tokens and gemini tiers", () => {
    expect(rateFor("o3-mini").inUsdPerMtok).toBe(15);
    expect(rateFor("o1").outUsdPerMtok).toBe(60);
    expect(rateFor("gemini-2.5-pro").inUsdPerMtok).toBe(1.25);
    expect(rateFor("gemini-2.0-flash").inUsdPerMtok).toBe(0.15);
    expect(rateFor("proto1-model").source).toBe("default");
  });

  it("prices cache reads and writes at their own rates, out of the input count", () => {
    // claude-sonnet: 3 in, 15 out, 0.3 cache read, 3.75 cache write per Mtok.
    const usage = {
      inputTokens: 1_000_000,
      cacheReadTokens: 600_000,
      cacheCreationTokens: 100_000,
      outputTokens: 10_000,
      reasoningTokens: 4_000,
    };
    expect(usageUsdMicros("claude-sonnet-4-5", usage)).toBe(
      300_000 * 3 + 600_000 * 0.3 + 100_000 * 3.75 + 10_000 * 15,
    );
    // More cached than reported input never goes negative.
    expect(usageUsdMicros("claude-sonnet-4-5", { inputTokens: 5, cacheReadTokens: 10 })).toBe(3);
  });

  it("tests operator overrides first and may price a local model at zero", () => {
    const price = createPriceUsage([{ match: "^llama", in_usd_per_mtok: 0, out_usd_per_mtok: 0 }]);
    expect(price("llama3.3", { inputTokens: 5_000_000 })).toEqual({
      usdMicros: 0,
      rate: { source: "override", version: "inference.rates" },
      estimated: false,
    });
    expect(price("claude-opus-4", { inputTokens: 1_000_000 })).toEqual({
      usdMicros: 15_000_000,
      rate: { source: "built-in", version: RATES_VERSION },
      estimated: false,
    });
  });

  it("marks a price from the default rate estimated, with the shipped version", () => {
    expect(priceUsage("my-local-llm", { inputTokens: 1000, outputTokens: 100 })).toEqual({
      usdMicros: 3000 + 1500,
      rate: { source: "default", version: RATES_VERSION },
      estimated: true,
    });
  });

  it("rejects negative rates, unknown keys and invalid patterns with VALIDATION", () => {
    for (const bad of [
      { match: "x", in_usd_per_mtok: -1, out_usd_per_mtok: 0 },
      { match: "(", in_usd_per_mtok: 1, out_usd_per_mtok: 1 },
      { match: "x", in_usd_per_mtok: 1, out_usd_per_mtok: 1, cache_read_usd_per_mtok: "1" },
      { match: "x", in_usd_per_mtok: 1, out_usd_per_mtok: 1, per_request: 1 },
    ]) {
      expect(() => createPriceUsage([bad as never])).toThrow(
        expect.objectContaining({ code: "VALIDATION" }),
      );
    }
  });
});

describe("rate tables", () => {
  it("ships rates/rates.json: a version, a default and a row per model family, all valid", () => {
    const file = JSON.parse(
      readFileSync(new URL("../rates/rates.json", import.meta.url), "utf8"),
    ) as { version: string; models: unknown[]; default: unknown };
    expect(file.version).toBe(RATES_VERSION);
    expect(BUILT_IN_RATES).toHaveLength(file.models.length);
    for (const row of BUILT_IN_RATES) {
      expect(row).toMatchObject({ source: "built-in", version: RATES_VERSION });
      expect(row.cacheReadUsdPerMtok).toBeLessThanOrEqual(row.inUsdPerMtok);
    }
    expect(DEFAULT_RATE).toMatchObject({ source: "default", inUsdPerMtok: 3, outUsdPerMtok: 15 });
  });

  it("tests an operator table after inference.rates and before the shipped rows", () => {
    const table = parseRateTable(
      {
        version: "acme-2025-07",
        models: [
          { match: "claude-sonnet", in_usd_per_mtok: 2, out_usd_per_mtok: 10 },
          { match: "llama", in_usd_per_mtok: 0.1, out_usd_per_mtok: 0.1 },
        ],
      },
      "rates.json",
    );
    const price = createPriceUsage(
      [{ match: "llama-70b", in_usd_per_mtok: 1, out_usd_per_mtok: 1 }],
      table,
    );
    expect(price("claude-sonnet-4", { inputTokens: 1_000_000 })).toMatchObject({
      usdMicros: 2_000_000,
      rate: { source: "override", version: "acme-2025-07" },
    });
    expect(price("llama-70b", { inputTokens: 1_000_000 }).rate.version).toBe("inference.rates");
    expect(price("llama-8b", { inputTokens: 1_000_000 }).usdMicros).toBe(100_000);
    // Cache rates default to the input rate when a row leaves them out.
    expect(
      price("llama-8b", { inputTokens: 1_000_000, cacheReadTokens: 1_000_000 }).usdMicros,
    ).toBe(100_000);
  });

  it("names the table and the bad row in every error", () => {
    const cases: [unknown, RegExp][] = [
      [[], /^\/etc\/rates\.json must be a JSON object/],
      [{ models: [] }, /^\/etc\/rates\.json: "version" must be a non-empty string/],
      [{ version: "1", models: {} }, /"models" must be an array/],
      [{ version: "1", models: [], extra: 1 }, /"extra" is not a rate table key/],
      [
        { version: "1", models: [{ match: "a", in_usd_per_mtok: 1, out_usd_per_mtok: 1 }, 7] },
        /^\/etc\/rates\.json: models\[1\] must be an object/,
      ],
      [
        { version: "1", models: [{ match: "a", in_usd_per_mtok: 1 }] },
        /^\/etc\/rates\.json: models\[0\] \(match "a"\)\.out_usd_per_mtok must be a non-negative number/,
      ],
      [
        { version: "1", models: [{ match: "[", in_usd_per_mtok: 1, out_usd_per_mtok: 1 }] },
        /models\[0\] \(match "\["\)\.match is not a valid regular expression/,
      ],
    ];
    for (const [value, message] of cases) {
      expect(() => parseRateTable(value, "/etc/rates.json")).toThrow(message);
    }
  });
});
