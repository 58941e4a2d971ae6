/**
 * Where a streamed run's events go: rendered lines (with the live status line on a terminal)
 * or, with `--json`, one `{ runId, cursor, event }` object per line. Shared by `logs`, `run
 * <slug>` and `run <file>`, so a run looks the same whichever way it is watched. Notices
 * (reconnecting, cancelling) always go to stderr.
 */
import type { ApiEventRow } from "../client/api-shapes.ts";
import type { CliIo, CliStream } from "../io.ts";
import { colorEnabled, createStyle } from "./color.ts";
import { EventRenderer } from "./event-renderer.ts";
import { RunProgress } from "./run-progress.ts";
import { StatusLine } from "./status-line.ts";

/** Prints one run's events. */
export interface EventPrinter {
  event(row: ApiEventRow): void;
  /** A dimmed line on stderr (never on stdout, so `--json` output stays parseable). */
  notice(line: string): void;
  /** The connection dropped and will be retried. */
  reconnecting(info: { delayMs: number; reason: string }): void;
  /** Flush held-back lines and erase the status line. */
  close(): void;
}

/** Options of {@link createEventPrinter}. */
export interface EventPrinterOptions {
  io: CliIo;
  /** Where event lines go (stdout for `logs`, stderr for `run`, whose stdout is the output). */
  out: CliStream;
  /** One JSON object per event instead of rendered lines. */
  json: boolean;
  /** Names the run on the status line. */
  label: string;
  /** Clock for the status line. Default `Date.now`. */
  now?: () => number;
}

/** Build a printer; the status line runs only when stderr is a terminal and `json` is off. */
export function createEventPrinter(options: EventPrinterOptions): EventPrinter {
  const { io, out, json } = options;
  const now = options.now ?? Date.now;
  const style = createStyle(colorEnabled(out, io.env));
  const errStyle = createStyle(colorEnabled(io.stderr, io.env));
  const renderer = new EventRenderer(style);
  const progress = new RunProgress(options.label, errStyle);
  const statusLine = new StatusLine(
    io.stderr,
    () => progress.text(now()),
    io.stderr.isTTY && !json,
  );
  statusLine.start();
  return {
    event(row) {
      progress.observe(row.event);
      if (json) {
        out.write(
          `${JSON.stringify({ runId: row.runId, cursor: row.cursor, event: row.event })}\n`,
        );
        return;
      }
      statusLine.print(out, renderer.render(row));
    },
    notice(line) {
      statusLine.print(io.stderr, [errStyle.dim(line)]);
    },
    reconnecting(info) {
      progress.reconnecting();
      statusLine.print(io.stderr, [
        errStyle.yellow(`connection lost (${info.reason}); reconnecting in ${info.delayMs} ms`),
      ]);
    },
    close() {
      if (!json) statusLine.print(out, renderer.flush());
      statusLine.stop();
    },
  };
}
