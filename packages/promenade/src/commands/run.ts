/**
 * `promenade run <file | slug>`: a path (anything with a `.` or a `/`; slugs have neither) runs
 * embedded with no server; a slug runs on a server. Both stream the run's events to stderr,
 * print the output on stdout and exit 0 completed, 1 failed, 130 cancelled.
 */
import { relative, resolve } from "node:path";
import { JSON_OPTION, SERVER_OPTIONS, stringOption } from "../args.ts";
import { parseChannels } from "../channels-option.ts";
import { targetFromArgs } from "../client/target.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../errors.ts";
import { parseInput } from "../input-option.ts";
import { runEmbedded } from "./run-embedded.ts";
import { runOnServer } from "./run-on-server.ts";

const SLUG = /^[A-Za-z0-9-]{1,100}$/;

/** True when `target` names a file rather than a workflow slug. */
export function isFileTarget(target: string): boolean {
  return target.includes(".") || target.includes("/") || target.includes("\\");
}

/** `promenade run`. */
export const runCommand: Command = {
  spec: {
    name: "run",
    summary: "run a workflow file locally, or a deployed workflow on a server",
    description:
      "With a file (hello.ts), compiles it and runs it once in an embedded engine: no server, a temporary data directory. With a slug (hello), starts a run on a server. Either way the run's events stream to stderr and its output is printed on stdout; the exit code is 0 (completed), 1 (failed) or 130 (cancelled). Ctrl-C cancels the run.",
    options: {
      input: {
        type: "string",
        value: "JSON|@FILE",
        description: "the run's input: inline JSON, @file.json, or @- for stdin",
      },
      channels: {
        type: "string",
        value: "LIST",
        description: "events to show: lifecycle,phase,output,log,agent (default all)",
      },
      "data-dir": {
        type: "string",
        value: "DIR",
        description: "keep the embedded engine's data here (file runs; default: a temp dir)",
      },
      ...JSON_OPTION,
      ...SERVER_OPTIONS,
    },
    positionals: [{ name: "file|slug", required: true }],
    examples: [
      'promenade run workflows/hello.ts --input \'{"name":"Ada"}\'',
      "promenade run hello --url http://127.0.0.1:8080",
    ],
  },
  async run(args, io) {
    const target = args.positionals[0] ?? "";
    const channels = parseChannels(stringOption(args.values["channels"]));
    const json = args.values["json"] === true;
    const dataDir = stringOption(args.values["data-dir"]);
    if (isFileTarget(target)) {
      for (const flag of ["url", "token"]) {
        if (args.values[flag] !== undefined) {
          throw new UsageError(
            `--${flag} applies to running a deployed workflow by slug, not a file.`,
            `Deploy the file first (promenade deploy ${target}), then run its slug with --${flag}.`,
          );
        }
      }
      const input = await parseInput(stringOption(args.values["input"]), io);
      const file = resolve(io.cwd, target);
      return runEmbedded(io, {
        file,
        shownAs: relative(io.cwd, file) || file,
        input,
        channels,
        json,
        dataDir: dataDir === undefined ? undefined : resolve(io.cwd, dataDir),
      });
    }
    if (!SLUG.test(target)) {
      throw new UsageError(
        `"${target}" is neither a workflow file nor a slug.`,
        "Give a file path (hello.ts) or a slug of letters, digits and dashes (hello).",
      );
    }
    if (dataDir !== undefined) {
      throw new UsageError(
        "--data-dir applies to running a file, not a deployed workflow.",
        "Drop --data-dir, or give a file path.",
      );
    }
    const input = await parseInput(stringOption(args.values["input"]), io);
    return runOnServer(io, {
      target: targetFromArgs(args.values, io.env),
      slug: target,
      input,
      channels,
      json,
    });
  },
};
