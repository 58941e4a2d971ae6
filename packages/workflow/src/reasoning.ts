/**
 * `normalizeReasoning`: the one shape of `agent({ reasoning })`. A string is the effort; an
 * object keeps `effort`, `maxTokens` and `exclude`; an effort, when given, wins over `maxTokens`.
 * Anything else is a `VALIDATION` error naming the field.
 */
import { EngineError } from "./errors/index.ts";

/** How hard a model should think. */
export const REASONING_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh"] as const;
/** One of {@link REASONING_EFFORTS}. */
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** `agent({ reasoning })` as written by a program. */
export type ReasoningOption =
  ReasoningEffort | { effort?: ReasoningEffort; maxTokens?: number; exclude?: boolean };

/** The normalized reasoning request. */
export interface Reasoning {
  effort?: ReasoningEffort;
  maxTokens?: number;
  exclude?: boolean;
}

function isEffort(value: unknown): value is ReasoningEffort {
  return typeof value === "string" && (REASONING_EFFORTS as readonly string[]).includes(value);
}

function invalid(detail: string): EngineError {
  return new EngineError(
    "VALIDATION",
    `Invalid \`reasoning\`: ${detail}.`,
    `Use one of ${REASONING_EFFORTS.join(", ")}, or { effort?, maxTokens?, exclude? }.`,
  );
}

/** The normalized form of `reasoning`, or `undefined` when none was given. */
export function normalizeReasoning(reasoning: unknown): Reasoning | undefined {
  if (reasoning === undefined || reasoning === null) return undefined;
  if (typeof reasoning === "string") {
    if (!isEffort(reasoning)) throw invalid(`unknown effort ${JSON.stringify(reasoning)}`);
    return { effort: reasoning };
  }
  if (typeof reasoning !== "object" || Array.isArray(reasoning)) {
    throw invalid("expected a string or an object");
  }
  const { effort, maxTokens, exclude, ...rest } = reasoning as Record<string, unknown>;
  const unknownKeys = Object.keys(rest);
  if (unknownKeys.length > 0) throw invalid(`unknown field ${JSON.stringify(unknownKeys[0])}`);
  const out: Reasoning = {};
  if (effort !== undefined) {
    if (!isEffort(effort)) throw invalid(`unknown effort ${JSON.stringify(effort)}`);
    out.effort = effort;
  }
  if (maxTokens !== undefined) {
    if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1) {
      throw invalid("maxTokens must be a positive integer");
    }
    if (out.effort === undefined) out.maxTokens = maxTokens;
  }
  if (exclude !== undefined) {
    if (typeof exclude !== "boolean") throw invalid("exclude must be a boolean");
    out.exclude = exclude;
  }
  return out;
}
