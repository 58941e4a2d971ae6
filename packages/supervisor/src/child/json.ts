/**
 * `toJsonValue`: JSON with the SDK's semantics — serialized like `JSON.stringify` (`toJSON`
 * honoured, `undefined` members dropped) but refusing what JSON cannot represent and what nests
 * past the JSON depth limit. Child side only, and kept out of the parent's bundle so
 * `dist/child.js` loads no shared chunk.
 */
import { EngineError } from "@promenade/workflow/errors";
import { valueDepthError } from "../internal/child-limits.ts";

/**
 * Returns a plain JSON copy of `value`. Throws `VALIDATION` naming `what` for functions, symbols,
 * bigints, non-finite numbers and cycles, and for a value nested past the JSON depth limit
 * (naming the limit and the path). A top-level `undefined` becomes `null`.
 */
export function toJsonValue(value: unknown, what: string): unknown {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "function" || typeof v === "symbol") {
        throw new TypeError(`a ${typeof v} is not JSON`);
      }
      if (typeof v === "number" && !Number.isFinite(v)) {
        throw new TypeError(`${String(v)} is not JSON`);
      }
      return v;
    });
  } catch (err) {
    // A value nested thousands of levels overflows the serializer's stack: name the limit.
    const tooDeep = err instanceof RangeError ? valueDepthError(value, what) : null;
    throw (
      tooDeep ??
      new EngineError(
        "VALIDATION",
        `${what} must be JSON-serializable: ${err instanceof Error ? err.message : String(err)}.`,
        "Pass plain objects, arrays, strings, finite numbers, booleans and null.",
      )
    );
  }
  if (text === undefined) return null;
  const copy = JSON.parse(text) as unknown;
  const tooDeep = valueDepthError(copy, what);
  if (tooDeep !== null) throw tooDeep;
  return copy;
}
