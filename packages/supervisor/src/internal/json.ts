/**
 * `canonicalJson`: JSON with object keys sorted recursively, the input of the default
 * idempotency key of `workflows.call` / `workflows.run`. Parent side only.
 */

/** `JSON.stringify` with object keys sorted recursively by code unit; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}
