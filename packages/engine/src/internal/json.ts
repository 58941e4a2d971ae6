/**
 * Plain-JSON checks for values that cross into the store (run input, deploy config).
 * Owns nothing but the predicate: a JSON value is null, a boolean, a finite number, a string,
 * an array of JSON values without holes, or a plain object (prototype Object or null) of them.
 * Invariant: cycles are rejected instead of overflowing the stack.
 */

/** Why `value` is not plain JSON (a path like `input.items[2]` plus the reason), or `null`. */
export function jsonProblem(value: unknown, path: string): string | null {
  return walk(value, path, new Set());
}

function walk(value: unknown, path: string, seen: Set<object>): string | null {
  if (value === null) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(value) ? null : `${path} is a non-finite number`;
    case "object":
      break;
    default:
      return `${path} is a ${typeof value}, which is not JSON`;
  }
  const object = value;
  if (seen.has(object)) return `${path} is a circular reference`;
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      for (let index = 0; index < object.length; index += 1) {
        if (!(index in object)) return `${path}[${index}] is an array hole`;
        const problem = walk((object as unknown[])[index], `${path}[${index}]`, seen);
        if (problem !== null) return problem;
      }
      return null;
    }
    const proto: unknown = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      return `${path} is a class instance, not a plain object`;
    }
    for (const [key, item] of Object.entries(object)) {
      const problem = walk(item, `${path}.${key}`, seen);
      if (problem !== null) return problem;
    }
    return null;
  } finally {
    seen.delete(object);
  }
}

/** True for a plain object (not null, not an array, prototype Object or null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
