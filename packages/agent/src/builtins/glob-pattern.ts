/**
 * Glob patterns for the `glob` built-in, compiled to a regular expression over `/`-separated
 * relative paths: `**` matches any number of directories, `*` and `?` stay inside one segment,
 * `{a,b}` is an alternative and `[...]` a character class.
 */
import { EngineError } from "@promenade/workflow/errors";

const SPECIAL = /[.+^$()|\\]/;

/**
 * @throws EngineError `VALIDATION` for an empty pattern or an unclosed `{` / `[`.
 */
export function globToRegExp(pattern: string): RegExp {
  if (pattern === "") throw new EngineError("VALIDATION", `"pattern" must not be empty.`);
  let out = "";
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        const atSegmentStart = i === 0 || pattern[i - 1] === "/";
        i++;
        if (atSegmentStart && pattern[i + 1] === "/") {
          i++;
          out += "(?:[^/]*/)*";
        } else {
          out += ".*";
        }
      } else {
        out += "[^/]*";
      }
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "{") {
      braces++;
      out += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      out += ")";
    } else if (c === "," && braces > 0) {
      out += "|";
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end === -1) throw new EngineError("VALIDATION", `Unclosed "[" in glob "${pattern}".`);
      const body = pattern
        .slice(i + 1, end)
        .replace(/^!/, "^")
        .replaceAll("\\", "\\\\");
      out += `[${body}]`;
      i = end;
    } else if (SPECIAL.test(c) || c === "}" || c === ",") {
      out += `\\${c}`;
    } else {
      out += c;
    }
  }
  if (braces > 0) throw new EngineError("VALIDATION", `Unclosed "{" in glob "${pattern}".`);
  return new RegExp(`^${out}$`);
}
