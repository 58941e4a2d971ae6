/**
 * Approximate USD pricing of model usage: the documented built-in rate
 * table plus optional operator overrides (`inference.rates`, tested first). Pure functions; the
 * engine hands `usageUsdMicros` (or `createPriceUsage(rates)`) to the supervisor as `priceUsage`,
 * which is the single budget authority. Unknown models are never free, so `max_usd` always bites.
 */
import { EngineError } from "@promenade/workflow/errors";
import type { TokenUsage } from "./ports.ts";

/** One operator rate override (`inference.rates[]`): `match` is a case-insensitive regex source. */
export interface RateOverride {
  match: string;
  in_usd_per_mtok: number;
  out_usd_per_mtok: number;
}

/** A compiled rate row: USD per million input / output tokens. */
export interface RateRow {
  pattern: RegExp;
  inUsdPerMtok: number;
  outUsdPerMtok: number;
}

/** The built-in table, first case-insensitive match wins. Approximate: a guardrail, not billing. */
export const BUILT_IN_RATES: readonly RateRow[] = Object.freeze([
  { pattern: /claude-opus/i, inUsdPerMtok: 15, outUsdPerMtok: 75 },
  { pattern: /claude-sonnet/i, inUsdPerMtok: 3, outUsdPerMtok: 15 },
  { pattern: /claude-haiku/i, inUsdPerMtok: 1, outUsdPerMtok: 5 },
  { pattern: /\bo[13](-|$)/i, inUsdPerMtok: 15, outUsdPerMtok: 60 },
  { pattern: /gpt-4o-mini/i, inUsdPerMtok: 0.15, outUsdPerMtok: 0.6 },
  { pattern: /gpt-4o|gpt-4\.1/i, inUsdPerMtok: 2.5, outUsdPerMtok: 10 },
  { pattern: /gemini-.*-pro/i, inUsdPerMtok: 1.25, outUsdPerMtok: 10 },
  { pattern: /gemini-.*-flash/i, inUsdPerMtok: 0.15, outUsdPerMtok: 0.6 },
]);

/** Rate for models no row matches (including local models and `auto`): never zero. */
export const DEFAULT_RATE: Readonly<{ inUsdPerMtok: number; outUsdPerMtok: number }> =
  Object.freeze({ inUsdPerMtok: 3, outUsdPerMtok: 15 });

/**
 * Compiles and validates operator overrides.
 * @throws EngineError `VALIDATION` when `match` is not a valid regex or a rate is negative.
 */
export function compileRates(overrides: readonly RateOverride[] | undefined): RateRow[] {
  if (overrides === undefined) return [];
  return overrides.map((entry, index) => {
    const where = `inference.rates[${index}]`;
    if (typeof entry.match !== "string" || entry.match === "") {
      throw new EngineError("VALIDATION", `${where}.match must be a non-empty regex source.`);
    }
    for (const key of ["in_usd_per_mtok", "out_usd_per_mtok"] as const) {
      const rate = entry[key];
      if (typeof rate !== "number" || !Number.isFinite(rate) || rate < 0) {
        throw new EngineError(
          "VALIDATION",
          `${where}.${key} must be a non-negative number.`,
          `Example: { "match": "llama", "in_usd_per_mtok": 0, "out_usd_per_mtok": 0 }`,
        );
      }
    }
    let pattern: RegExp;
    try {
      pattern = new RegExp(entry.match, "i");
    } catch (err) {
      throw new EngineError(
        "VALIDATION",
        `${where}.match is not a valid regular expression: ${(err as Error).message}`,
      );
    }
    return { pattern, inUsdPerMtok: entry.in_usd_per_mtok, outUsdPerMtok: entry.out_usd_per_mtok };
  });
}

/** The rate row for `modelRef` (verbatim model string): overrides first, then built-ins. */
export function rateFor(
  modelRef: string,
  overrides: readonly RateRow[] = [],
): { inUsdPerMtok: number; outUsdPerMtok: number } {
  for (const row of overrides) if (row.pattern.test(modelRef)) return row;
  for (const row of BUILT_IN_RATES) if (row.pattern.test(modelRef)) return row;
  return DEFAULT_RATE;
}

/**
 * Integer micro-USD for one usage report:
 * `Math.round((in/1e6 × inRate + out/1e6 × outRate) × 1e6)`, missing counts as 0.
 * Example: 1M in + 1M out on `claude-sonnet-4-5` → 18_000_000.
 */
export function usageUsdMicros(
  modelRef: string,
  usage: TokenUsage,
  overrides: readonly RateRow[] = [],
): number {
  const rate = rateFor(modelRef, overrides);
  const input = usage.inputTokens ?? 0;
  const output = usage.outputTokens ?? 0;
  return Math.round(
    ((input / 1e6) * rate.inUsdPerMtok + (output / 1e6) * rate.outUsdPerMtok) * 1e6,
  );
}

/**
 * The supervisor's `priceUsage` over operator overrides (compiled once).
 * @throws EngineError `VALIDATION` for a bad override (see {@link compileRates}).
 */
export function createPriceUsage(
  overrides?: readonly RateOverride[],
): (modelRef: string, usage: TokenUsage) => number {
  const rows = compileRates(overrides);
  return (modelRef, usage) => usageUsdMicros(modelRef, usage, rows);
}
