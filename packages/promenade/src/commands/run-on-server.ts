/**
 * `promenade run <slug>`: start a run of a deployed workflow on a server, stream its events to
 * stderr over the WebSocket (resuming after a dropped connection), then print its output. The
 * first Ctrl-C asks the server to cancel the run and keeps streaming until it ends; a second one
 * stops waiting (the run goes on being cancelled on the server).
 */
import type { JsonValue } from "@promenade/workflow";
import type { Channel } from "@promenade/workflow";
import { ApiClient } from "../client/api.ts";
import { followRun } from "../client/event-stream.ts";
import type { ServerTarget } from "../client/target.ts";
import { EXIT } from "../exit-codes.ts";
import { createEventPrinter } from "../format/event-printer.ts";
import { printRunResult } from "../format/run-result.ts";
import type { CliIo } from "../io.ts";

/** Start `slug` on the server and follow it to the end; resolves with the exit code. */
export async function runOnServer(
  io: CliIo,
  options: {
    target: ServerTarget;
    slug: string;
    input: JsonValue | undefined;
    channels: readonly Channel[] | "all";
    json: boolean;
  },
): Promise<number> {
  const client = new ApiClient(options.target);
  const run = await client.startRun(options.slug, options.input);
  const printer = createEventPrinter({ io, out: io.stderr, json: false, label: options.slug });
  printer.notice(`started run ${run.id} of "${options.slug}" on ${options.target.baseUrl}`);
  const stop = new AbortController();
  let cancelling = false;
  const interrupt = (): void => {
    if (cancelling) {
      stop.abort();
      return;
    }
    cancelling = true;
    printer.notice(`cancelling run ${run.id} (press Ctrl-C again to stop waiting)`);
    client.cancelRun(run.id).catch((error: unknown) => {
      printer.notice(`cancel failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  };
  const removeInt = io.onSignal("SIGINT", interrupt);
  const removeTerm = io.onSignal("SIGTERM", interrupt);
  try {
    const result = await followRun({
      target: options.target,
      runId: run.id,
      channels: options.channels,
      follow: true,
      signal: stop.signal,
      onEvent: (row) => printer.event(row),
      onReconnect: (info) => printer.reconnecting(info),
    });
    printer.close();
    if (result.kind === "aborted") {
      io.stderr.write(`stopped waiting for run ${run.id}; it is being cancelled on the server\n`);
      return EXIT.cancelled;
    }
    const final = await client.getRun(run.id);
    return printRunResult(io, final, { json: options.json });
  } catch (error) {
    printer.close();
    throw error;
  } finally {
    removeInt();
    removeTerm();
  }
}
