/**
 * ANSI styling, on only for a terminal: `NO_COLOR` (any value) turns it off, `FORCE_COLOR`
 * (not `0`) turns it on for pipes, `TERM=dumb` turns it off. With styling off every function is
 * the identity, so plain-line output (CI logs, pipes, `--json`) never carries escape codes.
 */
import type { CliStream } from "../io.ts";

/** The styles the CLI uses. */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  blue(text: string): string;
  cyan(text: string): string;
  magenta(text: string): string;
}

/** Whether `stream` should get colour, given the environment. */
export function colorEnabled(
  stream: Pick<CliStream, "isTTY">,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return false;
  const force = env["FORCE_COLOR"];
  if (force !== undefined && force !== "") return force !== "0";
  if (env["TERM"] === "dumb") return false;
  return stream.isTTY;
}

function wrap(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}

const identity = (text: string): string => text;

/** A `Style`: ANSI codes when `enabled`, the identity otherwise. */
export function createStyle(enabled: boolean): Style {
  if (!enabled) {
    return {
      enabled,
      bold: identity,
      dim: identity,
      red: identity,
      green: identity,
      yellow: identity,
      blue: identity,
      cyan: identity,
      magenta: identity,
    };
  }
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    cyan: wrap(36, 39),
    magenta: wrap(35, 39),
  };
}

// eslint-disable-next-line no-control-regex -- matching the ESC byte is the point
const ANSI_SGR = /\u001b\[[0-9;]*m/g;

/** `text` without ANSI escape sequences (for width computations). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_SGR, "");
}
