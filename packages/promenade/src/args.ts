/**
 * Command-line parsing for every command: one declarative `CommandSpec` drives `node:util`
 * `parseArgs` (strict), the positional-count check and the `--help` text, so the help can never
 * drift from what is accepted. Every mistake becomes a `UsageError` naming the problem and the
 * fix (exit 2). Knows nothing about what commands do.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** One `--option`. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder shown in help for string options, e.g. `SLUG`. */
  value?: string;
  description: string;
}

/** One positional argument. */
export interface PositionalSpec {
  name: string;
  required: boolean;
  /** Takes every remaining argument (at least one when required). */
  variadic?: boolean;
}

/** Everything the parser and the help text need about a command. */
export interface CommandSpec {
  /** `runs`, `logs`, … */
  name: string;
  /** One line for `promenade --help`. */
  summary: string;
  /** A short paragraph for `promenade <name> --help`. */
  description: string;
  options: Readonly<Record<string, OptionSpec>>;
  positionals: readonly PositionalSpec[];
  examples?: readonly string[];
}

/** A parsed command line. */
export interface ParsedArgs {
  /** `true` when `-h`/`--help` was given: print the help and exit 0, nothing else is checked. */
  help: boolean;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** `--url` and `--token`, shared by every command that talks to a server. */
export const SERVER_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  url: {
    type: "string",
    value: "URL",
    description: "server address (default: $PROMENADE_URL, else http://127.0.0.1:8080)",
  },
  token: {
    type: "string",
    value: "TOKEN",
    description: "API token (default: $PROMENADE_API_TOKEN)",
  },
};

/** `--json`, for commands that list or return data. */
export const JSON_OPTION: Readonly<Record<string, OptionSpec>> = {
  json: { type: "boolean", description: "print machine-readable JSON on stdout" },
};

const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", description: "show this help" };

/** `promenade logs <run> [options]`. */
export function usageLine(spec: CommandSpec): string {
  const parts = [`promenade ${spec.name}`];
  for (const p of spec.positionals) {
    const name = p.variadic === true ? `${p.name}…` : p.name;
    parts.push(p.required ? `<${name}>` : `[${name}]`);
  }
  if (Object.keys(spec.options).length > 0) parts.push("[options]");
  return parts.join(" ");
}

function helpHint(spec: CommandSpec): string {
  return `Run "promenade ${spec.name} --help" for usage.`;
}

/**
 * Parse `argv` (the arguments after the command name) against `spec`.
 * @throws UsageError for an unknown option, a missing option value, a wrong argument count.
 */
export function parseCommandLine(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const end = argv.indexOf("--");
  const flags = end === -1 ? argv : argv.slice(0, end);
  if (flags.includes("--help") || flags.includes("-h")) {
    return { help: true, values: {}, positionals: [] };
  }
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    options[name] =
      option.short === undefined
        ? { type: option.type }
        : { type: option.type, short: option.short };
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    const result = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    parsed = { values: result.values, positionals: result.positionals };
  } catch (error) {
    throw toUsageError(spec, error);
  }
  checkPositionals(spec, parsed.positionals);
  for (const [name, option] of Object.entries(spec.options)) {
    const value = parsed.values[name];
    if (option.type === "string" && value === "") {
      throw new UsageError(`--${name} is empty.`, `Give it a ${option.value ?? "value"}.`);
    }
  }
  return { help: false, values: { ...parsed.values }, positionals: parsed.positionals };
}

function toUsageError(spec: CommandSpec, error: unknown): UsageError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    return new UsageError(`unknown option ${quoted}.`, helpHint(spec));
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
    const option = spec.options[name.replace(/^-+/, "")];
    if (option?.type === "boolean") {
      return new UsageError(`${name} takes no value.`, `Write ${name} alone. ${helpHint(spec)}`);
    }
    return new UsageError(
      `${name} needs a value.`,
      `Write ${name} ${option?.value ?? "VALUE"}. ${helpHint(spec)}`,
    );
  }
  return new UsageError(message, helpHint(spec));
}

function checkPositionals(spec: CommandSpec, positionals: readonly string[]): void {
  const variadic = spec.positionals.some((p) => p.variadic === true);
  const required = spec.positionals.filter((p) => p.required);
  if (positionals.length < required.length) {
    const missing = required[positionals.length];
    throw new UsageError(
      `missing <${missing?.name ?? "argument"}>.`,
      `Usage: ${usageLine(spec)}. ${helpHint(spec)}`,
    );
  }
  if (!variadic && positionals.length > spec.positionals.length) {
    throw new UsageError(
      `unexpected argument "${positionals[spec.positionals.length] ?? ""}".`,
      `Usage: ${usageLine(spec)}. ${helpHint(spec)}`,
    );
  }
}

/** The `promenade <name> --help` text. */
export function renderHelp(spec: CommandSpec): string {
  const lines = [`promenade ${spec.name} — ${spec.summary}`, "", `Usage: ${usageLine(spec)}`, ""];
  lines.push(...wrap(spec.description, 96), "");
  const rows: [string, string][] = [];
  for (const [name, option] of [...Object.entries(spec.options), ["help", HELP_OPTION] as const]) {
    const short = option.short === undefined ? "    " : `-${option.short}, `;
    const value = option.type === "string" ? ` <${option.value ?? "value"}>` : "";
    rows.push([`${short}--${name}${value}`, option.description]);
  }
  const width = Math.max(...rows.map(([left]) => left.length));
  lines.push("Options:");
  for (const [left, right] of rows) lines.push(`  ${left.padEnd(width)}  ${right}`);
  if (spec.examples !== undefined && spec.examples.length > 0) {
    lines.push("", "Examples:");
    for (const example of spec.examples) lines.push(`  ${example}`);
  }
  return `${lines.join("\n")}\n`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/\s+/).filter((w) => w !== "")) {
      if (line !== "" && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else {
        line = line === "" ? word : `${line} ${word}`;
      }
    }
    out.push(line);
  }
  return out;
}

/**
 * Read an integer option.
 * @throws UsageError when `raw` is not a whole number in `[min, max]`.
 */
export function integerOption(
  name: string,
  raw: string | boolean | undefined,
  range: { min: number; max: number },
): number | undefined {
  if (raw === undefined || typeof raw === "boolean") return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < range.min || Number(raw) > range.max) {
    throw new UsageError(
      `--${name} must be a whole number from ${range.min} to ${range.max}, got "${raw}".`,
      `For example --${name} ${Math.max(range.min, Math.min(20, range.max))}.`,
    );
  }
  return Number(raw);
}

/** A string option's value (`undefined` when absent). */
export function stringOption(raw: string | boolean | undefined): string | undefined {
  return typeof raw === "string" ? raw : undefined;
}
