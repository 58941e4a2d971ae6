/**
 * The `name` and `stack` a run process reports with a program's error, as they may reach the
 * run row: strings only, bounded (a stack of at most `MAX_STACK_CHARS` characters, a name of at
 * most `MAX_NAME_CHARS`), redacted once more on the parent side.
 */
import type { WireError } from "../protocol.ts";

/** Longest stored stack, in characters (the head is kept: the throwing frame comes first). */
export const MAX_STACK_CHARS = 8000;
const MAX_NAME_CHARS = 200;

/** `{ name?, stack? }` of a reported error, ready to be stored. */
export function programErrorDetails(
  error: WireError,
  redact: (text: string) => string,
): { name?: string; stack?: string } {
  const out: { name?: string; stack?: string } = {};
  if (typeof error.name === "string" && error.name !== "") {
    out.name = redact(error.name.slice(0, MAX_NAME_CHARS));
  }
  if (typeof error.stack === "string" && error.stack !== "") {
    out.stack = redact(error.stack.slice(0, MAX_STACK_CHARS));
  }
  return out;
}
