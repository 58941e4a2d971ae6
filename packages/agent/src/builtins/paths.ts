/**
 * Path confinement for the built-in file tools: every path a model gives is resolved against the
 * leaf's working directory and must stay inside it — lexically (`..`, absolute paths elsewhere)
 * and through symlinks (the realpath of the deepest existing ancestor must be inside the
 * directory's own realpath). A path that escapes is a tool error back to the model.
 */
import { realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { EngineError } from "@promenade/workflow/errors";

/** Realpath of `path`, or of its deepest existing ancestor joined with the rest. */
export function realpathDeep(path: string): string {
  let current = path;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(current);
      return rest.length === 0 ? real : join(real, ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      rest.push(current.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
      current = parent;
    }
  }
}

/** True when `candidate` is `root` or below it (both absolute, normalised). */
export function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * The absolute path of `given` inside `root`.
 * @throws EngineError `VALIDATION` for a missing or non-string path, or one that leaves `root`
 *   (message contains `outside the working directory`).
 */
export function insidePath(root: string, given: unknown, field = "path"): string {
  if (typeof given !== "string" || given === "") {
    throw new EngineError("VALIDATION", `"${field}" must be a non-empty string.`);
  }
  if (given.includes("\0")) {
    throw new EngineError("VALIDATION", `"${field}" must not contain NUL characters.`);
  }
  const target = resolve(root, given);
  const outside = (): EngineError =>
    new EngineError(
      "VALIDATION",
      `Path "${given}" is outside the working directory; use a path relative to it.`,
    );
  if (!isInside(root, target)) throw outside();
  if (!isInside(realpathDeep(root), realpathDeep(target))) throw outside();
  return target;
}

/** `path` relative to `root`, with `/` separators (`.` for the root itself). */
export function displayPath(root: string, path: string): string {
  const rel = relative(root, path);
  return rel === "" ? "." : rel.split(sep).join("/");
}
