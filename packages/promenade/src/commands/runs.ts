/**
 * `promenade runs`: list a server's runs, newest first, as a table or `--json` (the API's
 * `{ runs, nextCursor }` body, unchanged).
 */
import { READABLE_RUN_STATUSES } from "@promenade/workflow/records";
import { integerOption, JSON_OPTION, SERVER_OPTIONS, stringOption } from "../args.ts";
import { ApiClient } from "../client/api.ts";
import { targetFromArgs } from "../client/target.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../errors.ts";
import { colorEnabled, createStyle } from "../format/color.ts";
import { styleStatus } from "../format/status.ts";
import { renderTable } from "../format/table.ts";
import { formatAge, formatDuration } from "../format/time.ts";

/** `promenade runs`. */
export const runsCommand: Command = {
  spec: {
    name: "runs",
    summary: "list runs on a server, newest first",
    description:
      "Lists the runs of a Promenade server (every workflow, or one), newest first. Filter by status with a comma-separated list.",
    options: {
      workflow: { type: "string", value: "SLUG", description: "only runs of this workflow" },
      status: {
        type: "string",
        value: "STATUS",
        description: `only these statuses, comma-separated (${READABLE_RUN_STATUSES.join(", ")})`,
      },
      limit: { type: "string", value: "N", description: "at most N runs (default 20, max 500)" },
      ...JSON_OPTION,
      ...SERVER_OPTIONS,
    },
    positionals: [],
    examples: ["promenade runs --status running,queued", "promenade runs --workflow hello --json"],
  },
  async run(args, io) {
    const status = stringOption(args.values["status"]);
    if (status !== undefined) {
      const valid: ReadonlySet<string> = new Set(READABLE_RUN_STATUSES);
      for (const item of status.split(",").map((s) => s.trim())) {
        if (!valid.has(item)) {
          throw new UsageError(
            `unknown status "${item}".`,
            `Valid statuses: ${READABLE_RUN_STATUSES.join(", ")} (comma-separated).`,
          );
        }
      }
    }
    const limit = integerOption("limit", args.values["limit"], { min: 1, max: 500 }) ?? 20;
    const client = new ApiClient(targetFromArgs(args.values, io.env));
    const page = await client.listRuns({
      workflow: stringOption(args.values["workflow"]),
      status,
      limit,
    });
    if (args.values["json"] === true) {
      io.stdout.write(`${JSON.stringify(page)}\n`);
      return 0;
    }
    if (page.runs.length === 0) {
      io.stderr.write("No runs.\n");
      return 0;
    }
    const style = createStyle(colorEnabled(io.stdout, io.env));
    const now = Date.now();
    const rows = page.runs.map((run) => [
      run.id,
      run.workflowSlug ?? run.workflowId,
      styleStatus(run.status, style),
      run.triggerKind,
      formatAge(run.createdAt, now),
      run.startedAt === null ? "" : formatDuration((run.endedAt ?? now) - run.startedAt),
    ]);
    io.stdout.write(
      renderTable(["RUN", "WORKFLOW", "STATUS", "TRIGGER", "CREATED", "DURATION"], rows),
    );
    if (page.nextCursor !== null) {
      io.stderr.write(style.dim(`(more runs: raise --limit, up to 500)\n`));
    }
    return 0;
  },
};
