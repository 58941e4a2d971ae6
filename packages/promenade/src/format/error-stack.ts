/**
 * A failed run's stack under its one-line outcome: the frames of the program's own error
 * (mapped to the source file and line by the engine), indented and dimmed; nothing for errors
 * without a stack (engine refusals, budgets, crashes).
 */
import type { ApiRun } from "../client/api-shapes.ts";
import type { Style } from "./color.ts";

/** The stack's frame lines, each ending in a newline, or `""`. */
export function formatErrorStack(error: ApiRun["error"], style: Style): string {
  if (error === null || typeof error.stack !== "string" || error.stack === "") return "";
  const frames = error.stack.split("\n").filter((line) => /^\s+at /.test(line));
  return frames.map((line) => `${style.dim(`  ${line.trim()}`)}\n`).join("");
}
