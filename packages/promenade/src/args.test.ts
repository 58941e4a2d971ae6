/**
 * Command-line parsing: every mistake is a `UsageError` naming the problem and the fix, `--help`
 * wins over everything, and the help text lists exactly the accepted options. If this breaks,
 * a typo runs a command with the wrong meaning or exits with an unhelpful stack.
 */
import { describe, expect, it } from "vitest";
import { integerOption, parseCommandLine, renderHelp, usageLine } from "./args.ts";
import type { CommandSpec } from "./args.ts";
import { UsageError } from "./errors.ts";

const spec: CommandSpec = {
  name: "logs",
  summary: "print a run's events",
  description: "Prints events.",
  options: {
    follow: { type: "boolean", short: "f", description: "keep going" },
    channels: { type: "string", value: "LIST", description: "which channels" },
  },
  positionals: [{ name: "run", required: true }],
  examples: ["promenade logs R -f"],
};

function usage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error("expected a UsageError");
}

describe("parseCommandLine", () => {
  it("parses options, short flags and positionals", () => {
    expect(parseCommandLine(spec, ["R1", "-f", "--channels", "log"])).toEqual({
      help: false,
      values: { follow: true, channels: "log" },
      positionals: ["R1"],
    });
    expect(parseCommandLine(spec, ["--channels=log,phase", "R1"]).values["channels"]).toBe(
      "log,phase",
    );
  });

  it("returns help for -h or --help before checking anything else", () => {
    expect(parseCommandLine(spec, ["--bogus", "--help"]).help).toBe(true);
    expect(parseCommandLine(spec, ["-h"]).help).toBe(true);
  });

  it("names an unknown option and points at --help", () => {
    const error = usage(() => parseCommandLine(spec, ["R1", "--folow"]));
    expect(error.message).toBe("unknown option --folow.");
    expect(error.hint).toBe('Run "promenade logs --help" for usage.');
  });

  it("names a string option given no value, and a boolean option given one", () => {
    expect(usage(() => parseCommandLine(spec, ["R1", "--channels"])).message).toBe(
      "--channels needs a value.",
    );
    expect(usage(() => parseCommandLine(spec, ["R1", "--follow=yes"])).message).toBe(
      "--follow takes no value.",
    );
    expect(usage(() => parseCommandLine(spec, ["R1", "--channels="])).message).toBe(
      "--channels is empty.",
    );
  });

  it("names a missing or an unexpected positional with the usage line", () => {
    const missing = usage(() => parseCommandLine(spec, []));
    expect(missing.message).toBe("missing <run>.");
    expect(missing.hint).toContain("Usage: promenade logs <run> [options]");
    expect(usage(() => parseCommandLine(spec, ["a", "b"])).message).toBe(
      'unexpected argument "b".',
    );
  });

  it("accepts any number of arguments for a variadic positional", () => {
    const deploy: CommandSpec = {
      ...spec,
      name: "deploy",
      positionals: [{ name: "file", required: true, variadic: true }],
    };
    expect(parseCommandLine(deploy, ["a.ts", "b.ts", "c.ts"]).positionals).toEqual([
      "a.ts",
      "b.ts",
      "c.ts",
    ]);
    expect(usageLine(deploy)).toBe("promenade deploy <file…> [options]");
  });
});

describe("integerOption", () => {
  it("accepts whole numbers in range and rejects the rest with an example", () => {
    expect(integerOption("limit", "20", { min: 1, max: 500 })).toBe(20);
    expect(integerOption("limit", undefined, { min: 1, max: 500 })).toBeUndefined();
    for (const raw of ["0", "501", "1.5", "-3", "ten"]) {
      const error = usage(() => integerOption("limit", raw, { min: 1, max: 500 }));
      expect(error.message).toBe(`--limit must be a whole number from 1 to 500, got "${raw}".`);
      expect(error.hint).toBe("For example --limit 20.");
    }
  });
});

describe("renderHelp", () => {
  it("lists the usage, every option with its placeholder, --help and the examples", () => {
    const help = renderHelp(spec);
    expect(help).toContain("promenade logs — print a run's events");
    expect(help).toContain("Usage: promenade logs <run> [options]");
    expect(help).toMatch(/-f, --follow\s+keep going/);
    expect(help).toMatch(/--channels <LIST>\s+which channels/);
    expect(help).toMatch(/-h, --help\s+show this help/);
    expect(help).toContain("  promenade logs R -f");
  });
});
