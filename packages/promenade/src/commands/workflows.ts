/**
 * `promenade workflows`: the workflows deployed on a server with their triggers and last run,
 * as a table or `--json` (the API's `{ workflows }` body, unchanged).
 */
import type { Trigger } from "@promenade/workflow";
import { JSON_OPTION, SERVER_OPTIONS } from "../args.ts";
import { ApiClient } from "../client/api.ts";
import { targetFromArgs } from "../client/target.ts";
import type { Command } from "../command.ts";
import { colorEnabled, createStyle } from "../format/color.ts";
import { styleStatus } from "../format/status.ts";
import { renderTable } from "../format/table.ts";
import { formatAge } from "../format/time.ts";

/** One trigger in a few words. */
export function describeTrigger(trigger: Trigger, slug: string, index: number): string {
  switch (trigger.kind) {
    case "manual":
      return "manual";
    case "cron":
      return `cron "${trigger.expr}"${trigger.timezone === undefined ? "" : ` ${trigger.timezone}`}`;
    case "webhook":
      return `webhook /hooks/${slug}/${index}`;
    case "workflow_run":
      return `after ${trigger.workflows.join(", ")} (not fired here)`;
  }
}

/** `promenade workflows`. */
export const workflowsCommand: Command = {
  spec: {
    name: "workflows",
    summary: "list the workflows deployed on a server",
    description: "Lists the workflows deployed on a Promenade server: slug, triggers, last run.",
    options: { ...JSON_OPTION, ...SERVER_OPTIONS },
    positionals: [],
    examples: ["promenade workflows", "promenade workflows --json --url http://127.0.0.1:9090"],
  },
  async run(args, io) {
    const client = new ApiClient(targetFromArgs(args.values, io.env));
    const body = await client.listWorkflows();
    if (args.values["json"] === true) {
      io.stdout.write(`${JSON.stringify(body)}\n`);
      return 0;
    }
    if (body.workflows.length === 0) {
      io.stderr.write("No workflows deployed. Deploy one with `promenade deploy <file>`.\n");
      return 0;
    }
    const style = createStyle(colorEnabled(io.stdout, io.env));
    const now = Date.now();
    const rows = body.workflows.map((workflow) => [
      style.bold(workflow.slug),
      workflow.triggers.map((t, i) => describeTrigger(t, workflow.slug, i)).join(", "),
      workflow.lastRun === null
        ? style.dim("never")
        : `${styleStatus(workflow.lastRun.status, style)} ${formatAge(workflow.lastRun.createdAt, now)}`,
      formatAge(workflow.updatedAt, now),
    ]);
    io.stdout.write(renderTable(["WORKFLOW", "TRIGGERS", "LAST RUN", "DEPLOYED"], rows));
    return 0;
  },
};
