/**
 * Plain-JSON checks for values that cross into the store (run input, deploy config).
 * Owns nothing but the predicate: a JSON value is null, a boolean, a finite number, a string,
 * an array of JSON values without holes, or a plain object (prototype Object or null) of them,
 * nested at most `MAX_JSON_DEPTH` levels (`@promenade/workflow/limits`).
 * Invariant: the walk is iterative with a stack bounded by the depth limit, so neither a cycle nor
 * a value nested 400,000 levels deep can overflow the call stack.
 */
import { formatJsonPath, MAX_JSON_DEPTH } from "@promenade/workflow/limits";

interface Frame {
  node: object;
  /** Own enumerable keys of a plain object; `null` for an array. */
  keys: string[] | null;
  length: number;
  /** The child being visited is `next - 1`. */
  next: number;
}

/**
 * Why `value` is not plain JSON within the depth limit (a path like `input.items[2]` plus the
 * reason), or `null`.
 */
export function jsonProblem(value: unknown, path: string): string | null {
  const stack: Frame[] = [];
  const ancestors = new Set<object>();
  const segments = (): (string | number)[] =>
    stack.map((frame) =>
      frame.keys === null ? frame.next - 1 : (frame.keys[frame.next - 1] ?? ""),
    );
  const here = (): string => formatJsonPath(path, segments());

  let node: unknown = value;
  for (;;) {
    if (typeof node === "object" && node !== null) {
      if (ancestors.has(node)) return `${here()} is a circular reference`;
      if (stack.length >= MAX_JSON_DEPTH) {
        // The wording of `tooDeepMessage`, as a fragment the caller ends.
        return `${path} nests deeper than the ${String(MAX_JSON_DEPTH)}-level JSON depth limit at ${here()}`;
      }
      if (Array.isArray(node)) {
        stack.push({ node, keys: null, length: node.length, next: 0 });
      } else {
        const proto: unknown = Object.getPrototypeOf(node);
        if (proto !== Object.prototype && proto !== null) {
          return `${here()} is a class instance, not a plain object`;
        }
        const keys = Object.keys(node);
        stack.push({ node, keys, length: keys.length, next: 0 });
      }
      ancestors.add(node);
    } else {
      const problem = scalarProblem(node);
      if (problem !== null) return `${here()} ${problem}`;
    }
    // Advance to the next unvisited child, popping finished containers.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) return null;
      if (top.next < top.length) {
        const index = top.next;
        top.next += 1;
        if (top.keys === null) {
          if (!(index in top.node)) return `${here()} is an array hole`;
          node = (top.node as unknown[])[index];
        } else {
          node = (top.node as Record<string, unknown>)[top.keys[index] as string];
        }
        break;
      }
      stack.pop();
      ancestors.delete(top.node);
    }
  }
}

/** `null` for a JSON scalar, else why it is not one. */
function scalarProblem(value: unknown): string | null {
  if (value === null) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(value) ? null : "is a non-finite number";
    default:
      return `is a ${typeof value}, which is not JSON`;
  }
}

/** True for a plain object (not null, not an array, prototype Object or null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
