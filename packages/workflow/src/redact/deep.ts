/**
 * Deep redaction of JSON values: event bodies, stored values, tool inputs and tool specs are
 * redacted leaf by leaf — object keys included, since a secret used as a key would reach the
 * event log as well as one used as a value — so the structure survives and only string content
 * changes.
 */

/**
 * `value` with every string in it (object keys included) passed through `redact`. Arrays and
 * plain objects that change are rebuilt; a part in which nothing changes is returned as it is
 * (the very object), so a clean value costs no copy. Numbers, booleans and `null` are kept.
 */
export function redactDeep<T>(value: T, redact: (text: string) => string): T {
  return deep(value, redact) as T;
}

function deep(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = deep(item, redact);
      if (out === undefined && next !== item) out = value.slice(0, i);
      if (out !== undefined) out.push(next);
    }
    return out ?? value;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    let changed = false;
    const next = entries.map(([key, item]): [string, unknown] => {
      const k = redact(key);
      const v = deep(item, redact);
      if (k !== key || v !== item) changed = true;
      return [k, v];
    });
    return changed ? Object.fromEntries(next) : value;
  }
  return value;
}
