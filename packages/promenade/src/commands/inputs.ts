/**
 * `promenade inputs`: the human-input requests of a server. Without `--run`, every pending
 * request of every run, newest first (the inbox); with `--run`, all of one run's requests in any
 * status, in the order the run asked, with the answers given. A table, or `--json` (the API's
 * body, unchanged).
 */
import { JSON_OPTION, SERVER_OPTIONS, stringOption } from "../args.ts";
import type { ApiInputRequest } from "../client/api-shapes.ts";
import { ApiClient } from "../client/api.ts";
import { targetFromArgs } from "../client/target.ts";
import type { Command } from "../command.ts";
import { EXIT } from "../exit-codes.ts";
import { colorEnabled, createStyle } from "../format/color.ts";
import type { Style } from "../format/color.ts";
import { describeAnswer, describeForm } from "../format/input-form.ts";
import { styleStatus } from "../format/status.ts";
import { renderTable } from "../format/table.ts";
import { formatAge, formatDuration } from "../format/time.ts";
import type { CliIo } from "../io.ts";

/** A prompt or an answer longer than this is cut in the table (`--json` keeps it whole). */
const CELL_MAX = 72;

/** `promenade inputs`. */
export const inputsCommand: Command = {
  spec: {
    name: "inputs",
    summary: "list the human-input requests waiting for an answer",
    description:
      "Lists the human-input requests of a Promenade server: without --run, every pending request of every run, newest first; with --run, all of that run's requests (pending, resolved, expired, cancelled) in the order it asked, and their answers. Answer one with `promenade respond <run> <key> --value <answer>`.",
    options: {
      run: { type: "string", value: "RUN", description: "only this run's requests, any status" },
      ...JSON_OPTION,
      ...SERVER_OPTIONS,
    },
    positionals: [],
    examples: ["promenade inputs", "promenade inputs --run 01JDA7Q3M8X2ZC4K9T5VQW1HNB --json"],
  },
  async run(args, io) {
    const client = new ApiClient(targetFromArgs(args.values, io.env));
    const runId = stringOption(args.values["run"]);
    const json = args.values["json"] === true;
    const style = createStyle(colorEnabled(io.stdout, io.env));
    const now = Date.now();
    if (runId !== undefined) {
      const body = await client.listRunInputs(runId);
      if (json) {
        io.stdout.write(`${JSON.stringify(body)}\n`);
        return EXIT.ok;
      }
      if (body.inputs.length === 0) {
        io.stderr.write(`Run ${runId} has asked for no input.\n`);
        return EXIT.ok;
      }
      const asked = [...body.inputs].sort((a, b) => a.seq - b.seq);
      const rows = asked.map((request) => [
        style.bold(request.key),
        styleRequestStatus(request.status, style),
        describeForm(request.inputSpec),
        cell(describeAnswer(request.response)),
        formatAge(request.createdAt, now),
        cell(request.prompt),
      ]);
      io.stdout.write(renderTable(["KEY", "STATUS", "FORM", "ANSWER", "ASKED", "PROMPT"], rows));
      if (body.inputs.some((request) => request.status === "pending")) respondHint(io);
      return EXIT.ok;
    }
    const body = await client.listPendingInputs();
    if (json) {
      io.stdout.write(`${JSON.stringify(body)}\n`);
      return EXIT.ok;
    }
    if (body.inputs.length === 0) {
      io.stderr.write("No input requests are waiting.\n");
      return EXIT.ok;
    }
    const rows = body.inputs.map((request: ApiInputRequest) => [
      request.runId,
      body.runs[request.runId]?.workflowSlug ?? "",
      style.bold(request.key),
      describeForm(request.inputSpec),
      formatAge(request.createdAt, now),
      request.expiresAt === null ? "" : `in ${formatDuration(request.expiresAt - now)}`,
      cell(request.prompt),
    ]);
    io.stdout.write(
      renderTable(["RUN", "WORKFLOW", "KEY", "FORM", "ASKED", "EXPIRES", "PROMPT"], rows),
    );
    respondHint(io);
    return EXIT.ok;
  },
};

function respondHint(io: CliIo): void {
  const style = createStyle(colorEnabled(io.stderr, io.env));
  io.stderr.write(style.dim("(answer with: promenade respond <run> <key> --value <answer>)\n"));
}

/** A request's status: yellow while it waits, green once answered, dim otherwise. */
function styleRequestStatus(status: string, style: Style): string {
  if (status === "pending") return style.yellow(status);
  if (status === "resolved") return style.green(status);
  return styleStatus(status, style);
}

/** One line, at most `CELL_MAX` characters. */
function cell(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > CELL_MAX ? `${flat.slice(0, CELL_MAX - 1)}…` : flat;
}
