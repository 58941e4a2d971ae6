/**
 * Deep redaction of JSON values: event bodies, tool inputs and tool specs are redacted leaf by
 * leaf, so the structure survives and only string content changes.
 */

/**
 * A copy of `value` with every string leaf passed through `redact`. Arrays and plain objects are
 * rebuilt; numbers, booleans and `null` are kept as they are.
 */
export function redactDeep<T>(value: T, redact: (text: string) => string): T {
  return deep(value, redact) as T;
}

function deep(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((item) => deep(item, redact));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = deep(item, redact);
    return out;
  }
  return value;
}
