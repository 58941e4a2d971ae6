/**
 * USD pricing of model usage, per model call: the versioned rate table shipped with the package
 * (`rates/rates.json`), an optional operator rate table (`inference.rate_table`, e.g. read from
 * `PROMENADE_RATES_FILE` by the server binary) and operator overrides (`inference.rates`), tested
 * in the order overrides → operator table → shipped table → default. Pure functions; the engine
 * hands `createPriceUsage(...)` to the supervisor as `priceUsage`, which prices every model call
 * once, writes that price into the call's ledger event and adds the same number to the run's
 * totals (the budget authority). Unknown models are never free, so `max_usd` always bites; their
 * cost is marked estimated.
 */
import { EngineError } from "@promenade/workflow/errors";
import shipped from "../rates/rates.json" with { type: "json" };
import type { TokenUsage } from "./ports.ts";

/** Where a rate came from: the shipped table, the operator, or the default for unknown models. */
export type RateSource = "built-in" | "override" | "default";

/** One rate row as written in a rate table or `inference.rates` (USD per million tokens). */
export interface RateOverride {
  /** Case-insensitive regular expression source, tested on the verbatim model string. */
  match: string;
  in_usd_per_mtok: number;
  out_usd_per_mtok: number;
  /** Input tokens served from the provider's prompt cache. Default: `in_usd_per_mtok`. */
  cache_read_usd_per_mtok?: number;
  /** Input tokens written to the provider's prompt cache. Default: `in_usd_per_mtok`. */
  cache_write_usd_per_mtok?: number;
}

/** A rate table file: a version naming this set of prices and its rows, first match wins. */
export interface RateTable {
  version: string;
  models: RateOverride[];
  /** Free text for readers of the file. */
  description?: string;
}

/** A price per million tokens of each kind, with where it came from. */
export interface Rate {
  inUsdPerMtok: number;
  outUsdPerMtok: number;
  cacheReadUsdPerMtok: number;
  cacheWriteUsdPerMtok: number;
  source: RateSource;
  /** The version of the table the row belongs to (`inference.rates` for operator overrides). */
  version: string;
}

/** A compiled rate row. */
export interface RateRow extends Rate {
  pattern: RegExp;
}

/** The price of one model call. */
export interface PricedUsage {
  /** Integer micro-USD. */
  usdMicros: number;
  rate: { source: RateSource; version: string };
  /** True when the model matched no row and was priced at the default rate. */
  estimated: boolean;
}

/** Version label of rows given as `inference.rates` (they carry no version of their own). */
export const OVERRIDES_VERSION = "inference.rates";

const RATE_KEYS = [
  "in_usd_per_mtok",
  "out_usd_per_mtok",
  "cache_read_usd_per_mtok",
  "cache_write_usd_per_mtok",
] as const;
const ROW_EXAMPLE = `Example: { "match": "llama", "in_usd_per_mtok": 0, "out_usd_per_mtok": 0 }`;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkRate(where: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new EngineError("VALIDATION", `${where} must be a non-negative number.`, ROW_EXAMPLE);
  }
}

/**
 * Checks and compiles rate rows; `where(i)` names row `i` in errors (a JSON path, a file).
 * @throws EngineError `VALIDATION` for a row that is not an object, an unknown key, a missing or
 *   invalid `match`, or a missing or negative rate.
 */
function compileRows(
  rows: readonly unknown[],
  where: (index: number) => string,
  source: RateSource,
  version: string,
): RateRow[] {
  return rows.map((entry, index) => {
    const at = where(index);
    if (!isRecord(entry)) {
      throw new EngineError("VALIDATION", `${at} must be an object.`, ROW_EXAMPLE);
    }
    for (const key of Object.keys(entry)) {
      if (key !== "match" && !(RATE_KEYS as readonly string[]).includes(key)) {
        throw new EngineError(
          "VALIDATION",
          `${at}.${key} is not a rate setting (match, ${RATE_KEYS.join(", ")}).`,
          ROW_EXAMPLE,
        );
      }
    }
    const match = entry["match"];
    if (typeof match !== "string" || match === "") {
      throw new EngineError("VALIDATION", `${at}.match must be a non-empty regex source.`);
    }
    checkRate(`${at}.in_usd_per_mtok`, entry["in_usd_per_mtok"], true);
    checkRate(`${at}.out_usd_per_mtok`, entry["out_usd_per_mtok"], true);
    checkRate(`${at}.cache_read_usd_per_mtok`, entry["cache_read_usd_per_mtok"], false);
    checkRate(`${at}.cache_write_usd_per_mtok`, entry["cache_write_usd_per_mtok"], false);
    let pattern: RegExp;
    try {
      pattern = new RegExp(match, "i");
    } catch (err) {
      throw new EngineError(
        "VALIDATION",
        `${at}.match is not a valid regular expression: ${(err as Error).message}`,
      );
    }
    const row = entry as unknown as RateOverride;
    return {
      pattern,
      inUsdPerMtok: row.in_usd_per_mtok,
      outUsdPerMtok: row.out_usd_per_mtok,
      cacheReadUsdPerMtok: row.cache_read_usd_per_mtok ?? row.in_usd_per_mtok,
      cacheWriteUsdPerMtok: row.cache_write_usd_per_mtok ?? row.in_usd_per_mtok,
      source,
      version,
    };
  });
}

/** `models[i]`, with the row's `match` when it has one (so a reader finds it in the file). */
function rowName(models: readonly unknown[], index: number): string {
  const row = models[index];
  const match = isRecord(row) ? row["match"] : undefined;
  return typeof match === "string" && match !== ""
    ? `models[${index}] (match ${JSON.stringify(match)})`
    : `models[${index}]`;
}

/**
 * Checks a rate table (`{ version, models: [...] }`, as in `rates/rates.json`); `where` names it
 * in errors (a file path, a config key), together with the bad row.
 * @throws EngineError `VALIDATION` naming `where` and the offending field or row.
 */
export function parseRateTable(value: unknown, where: string): RateTable {
  if (!isRecord(value)) {
    throw new EngineError(
      "VALIDATION",
      `${where} must be a JSON object { "version": "...", "models": [...] }.`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!["version", "models", "description"].includes(key)) {
      throw new EngineError(
        "VALIDATION",
        `${where}: "${key}" is not a rate table key (version, models, description).`,
      );
    }
  }
  const version = value["version"];
  if (typeof version !== "string" || version.trim() === "") {
    throw new EngineError(
      "VALIDATION",
      `${where}: "version" must be a non-empty string naming this set of prices.`,
      'Example: "version": "2025-06-01"',
    );
  }
  const models = value["models"];
  if (!Array.isArray(models)) {
    throw new EngineError("VALIDATION", `${where}: "models" must be an array of rate rows.`);
  }
  compileRows(models, (i) => `${where}: ${rowName(models, i)}`, "override", version);
  const table: RateTable = { version, models: models as RateOverride[] };
  if (typeof value["description"] === "string") table.description = value["description"];
  return table;
}

const SHIPPED: { version: string; default: RateOverride; models: unknown[] } = shipped as never;

/** The version of the rate table shipped with this package. */
export const RATES_VERSION: string = SHIPPED.version;

/** The shipped table, first case-insensitive match wins. Approximate list prices. */
export const BUILT_IN_RATES: readonly RateRow[] = Object.freeze(
  compileRows(SHIPPED.models, (i) => `rates.json models[${i}]`, "built-in", RATES_VERSION),
);

/** Rate for models no row matches (including local models and `auto`): never zero. */
export const DEFAULT_RATE: Readonly<Rate> = Object.freeze({
  inUsdPerMtok: SHIPPED.default.in_usd_per_mtok,
  outUsdPerMtok: SHIPPED.default.out_usd_per_mtok,
  cacheReadUsdPerMtok: SHIPPED.default.cache_read_usd_per_mtok ?? SHIPPED.default.in_usd_per_mtok,
  cacheWriteUsdPerMtok: SHIPPED.default.cache_write_usd_per_mtok ?? SHIPPED.default.in_usd_per_mtok,
  source: "default",
  version: RATES_VERSION,
});

/**
 * Compiles operator rows: `inference.rates` first, then the rows of an operator rate table.
 * @throws EngineError `VALIDATION` for a bad row (naming `inference.rates[i]` or the table).
 */
export function compileRates(
  overrides: readonly RateOverride[] | undefined,
  table?: RateTable,
): RateRow[] {
  const rows = compileRows(
    overrides ?? [],
    (i) => `inference.rates[${i}]`,
    "override",
    OVERRIDES_VERSION,
  );
  if (table !== undefined) {
    const checked = parseRateTable(table, "inference.rate_table");
    rows.push(
      ...compileRows(
        checked.models,
        (i) => `inference.rate_table.models[${i}]`,
        "override",
        checked.version,
      ),
    );
  }
  return rows;
}

/** The rate for `modelRef` (verbatim model string): operator rows first, then the shipped table. */
export function rateFor(modelRef: string, overrides: readonly RateRow[] = []): Rate {
  for (const row of overrides) if (row.pattern.test(modelRef)) return row;
  for (const row of BUILT_IN_RATES) if (row.pattern.test(modelRef)) return row;
  return DEFAULT_RATE;
}

function count(value: number | undefined): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Integer micro-USD of one call's usage at `rate`. `inputTokens` counts every prompt token,
 * cache reads and writes included (as the adapters report it); those are priced at the cache
 * rates and the rest at the input rate. `outputTokens` includes reasoning tokens. A token at
 * $1 per million tokens costs exactly 1 micro-USD.
 * Example: 1M in + 1M out on `claude-sonnet-4-5` → 18_000_000.
 */
export function costAt(rate: Rate, usage: TokenUsage): number {
  const cacheRead = count(usage.cacheReadTokens);
  const cacheWrite = count(usage.cacheCreationTokens);
  const uncached = Math.max(0, count(usage.inputTokens) - cacheRead - cacheWrite);
  return Math.round(
    uncached * rate.inUsdPerMtok +
      cacheRead * rate.cacheReadUsdPerMtok +
      cacheWrite * rate.cacheWriteUsdPerMtok +
      count(usage.outputTokens) * rate.outUsdPerMtok,
  );
}

/** Integer micro-USD of one usage report (operator rows first, then the shipped table). */
export function usageUsdMicros(
  modelRef: string,
  usage: TokenUsage,
  overrides: readonly RateRow[] = [],
): number {
  return costAt(rateFor(modelRef, overrides), usage);
}

/** The price of one call of `modelRef`, with the rate's source and version. */
export function priceUsage(
  modelRef: string,
  usage: TokenUsage,
  overrides: readonly RateRow[] = [],
): PricedUsage {
  const rate = rateFor(modelRef, overrides);
  return {
    usdMicros: costAt(rate, usage),
    rate: { source: rate.source, version: rate.version },
    estimated: rate.source === "default",
  };
}

/**
 * The supervisor's `priceUsage` over operator overrides and an operator table (compiled once).
 * @throws EngineError `VALIDATION` for a bad row (see {@link compileRates}).
 */
export function createPriceUsage(
  overrides?: readonly RateOverride[],
  table?: RateTable,
): (modelRef: string, usage: TokenUsage) => PricedUsage {
  const rows = compileRates(overrides, table);
  return (modelRef, usage) => priceUsage(modelRef, usage, rows);
}
