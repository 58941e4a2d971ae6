/**
 * Write-side JSON checks: a value goes into a JSON column only if it is a plain JSON tree
 * (no functions, symbols, bigints, class instances, cycles, non-finite numbers or array holes)
 * and its text fits the size limit. Failures are `VALIDATION` errors naming the argument.
 */
import { EngineError } from "@promenade/workflow/errors";

/** The first reason `value` is not a plain JSON tree, as `"<path>: <problem>"`, or `null`. */
export function jsonProblem(value: unknown): string | null {
  const seen = new Set<object>();
  const visit = (node: unknown, path: string): string | null => {
    switch (typeof node) {
      case "string":
      case "boolean":
        return null;
      case "number":
        return Number.isFinite(node) ? null : `${path}: ${String(node)} is not a finite number`;
      case "object": {
        if (node === null) return null;
        if (seen.has(node)) return `${path}: circular reference`;
        seen.add(node);
        let problem: string | null = null;
        if (Array.isArray(node)) {
          for (let index = 0; index < node.length && problem === null; index++) {
            // A hole or undefined element would silently become null in the stored text.
            problem =
              Object.hasOwn(node, index) && node[index] !== undefined
                ? visit(node[index], `${path}[${String(index)}]`)
                : `${path}[${String(index)}]: undefined is not JSON`;
          }
        } else {
          const proto = Object.getPrototypeOf(node) as unknown;
          if (proto !== Object.prototype && proto !== null) {
            const name = (node as { constructor?: { name?: string } }).constructor?.name;
            problem = `${path}: ${name ?? "class instance"} is not a plain JSON object`;
          } else {
            for (const [key, child] of Object.entries(node)) {
              // An undefined property is dropped by JSON, as it would be on any JSON wire.
              if (child === undefined) continue;
              problem = visit(child, `${path}.${key}`);
              if (problem !== null) break;
            }
          }
        }
        seen.delete(node);
        return problem;
      }
      default:
        return `${path}: ${typeof node} is not JSON`;
    }
  };
  return visit(value, "$");
}

/**
 * Serializes `value` for a JSON column. Throws `VALIDATION` naming `what` when it is not a plain
 * JSON tree or its text exceeds `maxBytes` (UTF-8).
 */
export function toJsonText(value: unknown, what: string, maxBytes: number): string {
  const problem = jsonProblem(value);
  if (problem !== null) {
    throw new EngineError(
      "VALIDATION",
      `${what} is not JSON (${problem}).`,
      "Pass plain JSON: objects, arrays, strings, finite numbers, booleans and null.",
    );
  }
  const text = JSON.stringify(value);
  checkSize(text, what, maxBytes);
  return text;
}

/** Throws `VALIDATION` when the UTF-8 size of `text` exceeds `maxBytes`. */
export function checkSize(text: string, what: string, maxBytes: number): void {
  // Fast path: UTF-8 never takes more than 3 bytes per UTF-16 unit.
  if (text.length * 3 <= maxBytes) return;
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) {
    throw new EngineError(
      "VALIDATION",
      `${what} is ${String(bytes)} bytes of JSON, over the ${String(maxBytes)}-byte limit.`,
      "Store large payloads as artifacts and pass a reference, or raise maxValueBytes in openStore().",
    );
  }
}
