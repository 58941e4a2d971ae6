/**
 * `promenade cancel <run>`: ask a server to cancel a run. The server answers at once; the run
 * ends `cancelled` after its grace window (`promenade logs <run> --follow` shows it). A run that
 * already ended is refused by the server (`CONFLICT`, exit 1).
 */
import { SERVER_OPTIONS } from "../args.ts";
import { ApiClient } from "../client/api.ts";
import { targetFromArgs } from "../client/target.ts";
import type { Command } from "../command.ts";

/** `promenade cancel`. */
export const cancelCommand: Command = {
  spec: {
    name: "cancel",
    summary: "cancel a run on a server",
    description:
      "Requests cancellation of a run. The program is stopped cooperatively, then killed after the grace window; the run ends cancelled. A run that already ended cannot be cancelled (exit 1).",
    options: { ...SERVER_OPTIONS },
    positionals: [{ name: "run", required: true }],
    examples: ["promenade cancel 01JDA7Q3M8X2ZC4K9T5VQW1HNB"],
  },
  async run(args, io) {
    const runId = args.positionals[0] ?? "";
    const client = new ApiClient(targetFromArgs(args.values, io.env));
    await client.cancelRun(runId);
    io.stderr.write(`cancel requested for run ${runId}\n`);
    return 0;
  },
};
