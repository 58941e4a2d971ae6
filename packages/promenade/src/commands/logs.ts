/**
 * `promenade logs <run>`: a run's events over the server's WebSocket channel — the stored log,
 * then (with `--follow`) live events until the run ends. A dropped connection is resumed from
 * the last cursor, so no event is lost or printed twice. With `--follow` the exit code is the
 * run's outcome: 0 completed, 1 failed, 130 cancelled.
 */
import { integerOption, JSON_OPTION, SERVER_OPTIONS, stringOption } from "../args.ts";
import { parseChannels } from "../channels-option.ts";
import { ApiClient } from "../client/api.ts";
import { followRun } from "../client/event-stream.ts";
import { targetFromArgs } from "../client/target.ts";
import type { Command } from "../command.ts";
import type { CliIo } from "../io.ts";
import { exitCodeFor } from "../exit-codes.ts";
import { colorEnabled, createStyle } from "../format/color.ts";
import { formatErrorStack } from "../format/error-stack.ts";
import { createEventPrinter } from "../format/event-printer.ts";

/** `promenade logs`. */
export const logsCommand: Command = {
  spec: {
    name: "logs",
    summary: "print a run's events; --follow tails it until it ends",
    description:
      "Prints a run's events (status, phases, output, program output, agent turns) from the server. With --follow, keeps streaming until the run ends and exits 0 (completed), 1 (failed) or 130 (cancelled). A dropped connection is resumed without losing or repeating an event.",
    options: {
      follow: { type: "boolean", short: "f", description: "stream live events until the run ends" },
      channels: {
        type: "string",
        value: "LIST",
        description: "channels to show: lifecycle,phase,output,log,agent (default all)",
      },
      after: { type: "string", value: "CURSOR", description: "only events after this cursor" },
      ...JSON_OPTION,
      ...SERVER_OPTIONS,
    },
    positionals: [{ name: "run", required: true }],
    examples: [
      "promenade logs 01JDA7Q3M8X2ZC4K9T5VQW1HNB --follow",
      "promenade logs 01JDA7Q3M8X2ZC4K9T5VQW1HNB --channels log --json",
    ],
  },
  async run(args, io) {
    const runId = args.positionals[0] ?? "";
    const channels = parseChannels(stringOption(args.values["channels"]));
    const after = integerOption("after", args.values["after"], {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const follow = args.values["follow"] === true;
    const target = targetFromArgs(args.values, io.env);
    const printer = createEventPrinter({
      io,
      out: io.stdout,
      json: args.values["json"] === true,
      label: runId,
    });
    const stop = new AbortController();
    const removeInt = io.onSignal("SIGINT", () => stop.abort());
    const removeTerm = io.onSignal("SIGTERM", () => stop.abort());
    try {
      const result = await followRun({
        target,
        runId,
        ...(after === undefined ? {} : { after }),
        channels,
        follow,
        signal: stop.signal,
        onEvent: (row) => printer.event(row),
        onReconnect: (info) => printer.reconnecting(info),
      });
      printer.close();
      const mayHaveFailed =
        result.kind === "caught_up" || (result.kind === "ended" && result.status === "failed");
      if (mayHaveFailed && args.values["json"] !== true) await printStack(target, runId, io);
      if (result.kind === "aborted") return 130;
      if (follow && result.kind === "ended") return exitCodeFor(result.status);
      return 0;
    } catch (error) {
      printer.close();
      throw error;
    } finally {
      removeInt();
      removeTerm();
    }
  },
};

/** A failed run's stack after its events (the events carry the error's code and message only). */
async function printStack(
  target: ReturnType<typeof targetFromArgs>,
  runId: string,
  io: CliIo,
): Promise<void> {
  const run = await new ApiClient(target).getRun(runId).catch(() => null);
  if (run?.status !== "failed") return;
  io.stdout.write(formatErrorStack(run.error, createStyle(colorEnabled(io.stdout, io.env))));
}
