/**
 * `promenade undeploy <slug>`: take a workflow out of service on a server. It leaves the workflow
 * list, new runs of it are refused, its crons stop and its webhooks answer not found; runs already
 * started finish, and every run stays readable (`promenade runs`, `promenade logs`). Deploying it
 * again brings it back with its history. A slug that is not deployed is the server's `NOT_FOUND`
 * (exit 1).
 */
import { JSON_OPTION, SERVER_OPTIONS } from "../args.ts";
import { ApiClient } from "../client/api.ts";
import { targetFromArgs } from "../client/target.ts";
import type { Command } from "../command.ts";
import { colorEnabled, createStyle } from "../format/color.ts";

/** `promenade undeploy`. */
export const undeployCommand: Command = {
  spec: {
    name: "undeploy",
    summary: "undeploy a workflow from a server (its runs are kept)",
    description:
      "Undeploys the workflow SLUG: it is no longer listed, new runs, crons and webhooks of it stop, and runs already started finish. Its runs, events and versions are kept and stay readable. Deploying it again re-activates it. A slug that is not deployed exits 1.",
    options: { ...JSON_OPTION, ...SERVER_OPTIONS },
    positionals: [{ name: "slug", required: true }],
    examples: ["promenade undeploy hello", "promenade undeploy nightly-digest --json"],
  },
  async run(args, io) {
    const slug = args.positionals[0] ?? "";
    const client = new ApiClient(targetFromArgs(args.values, io.env));
    const { workflow } = await client.undeploy(slug);
    if (args.values["json"] === true) {
      io.stdout.write(
        `${JSON.stringify({ undeployed: { slug: workflow.slug, id: workflow.id, undeployedAt: workflow.undeployedAt } })}\n`,
      );
    } else {
      const style = createStyle(colorEnabled(io.stderr, io.env));
      io.stderr.write(`${style.green("undeployed")} "${workflow.slug}" (its runs are kept)\n`);
    }
    return 0;
  },
};
