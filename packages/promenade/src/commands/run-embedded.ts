/**
 * `promenade run <file>`: run a workflow file once, embedded, with no server: an engine on a
 * temporary data directory (or `--data-dir`), the file compiled (TypeScript included) and
 * deployed, one run started, its events streamed to stderr as they are committed, its output
 * printed. The first Ctrl-C cancels the run (exit 130 once it has stopped); a second one exits
 * at once. The temporary directory is removed afterwards.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { EventRow, RunRow } from "@promenade/engine";
import { channelOf } from "@promenade/workflow";
import type { Channel, JsonValue } from "@promenade/workflow";
import type { ApiEventRow } from "../client/api-shapes.ts";
import { CliError, UsageError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { createEventPrinter } from "../format/event-printer.ts";
import { printRunResult } from "../format/run-result.ts";
import type { CliIo } from "../io.ts";
import { deployBody } from "./deploy.ts";

/** Run `file` once in an embedded engine; resolves with the exit code. */
export async function runEmbedded(
  io: CliIo,
  options: {
    file: string;
    shownAs: string;
    input: JsonValue | undefined;
    channels: readonly Channel[] | "all";
    json: boolean;
    dataDir: string | undefined;
  },
): Promise<number> {
  if (!existsSync(options.file) || statSync(options.file).isDirectory()) {
    throw new UsageError(
      `${options.shownAs} is not a file.`,
      "Give a workflow file (.ts, .mts, .mjs, .js), or a deployed workflow's slug to run it on a server.",
    );
  }
  const body = await deployBody(options.file).catch((error: unknown) => {
    throw asCliError(error);
  });
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "promenade-run-"));
  const printer = createEventPrinter({
    io,
    out: io.stderr,
    json: false,
    label: basename(options.file),
  });
  // Loaded on demand: the engine (SQLite, the supervisor) is heavy, and other commands skip it.
  const { Engine } = await import("@promenade/engine");
  const engine = new Engine({
    dataDir,
    processEnv: io.env,
    envLabel: "the environment of `promenade run`",
    log: (line) => printer.notice(line),
  });
  const selected = options.channels === "all" ? null : new Set<string>(options.channels);
  let runId: string | null = null;
  const early: EventRow[] = [];
  const show = (row: EventRow): void => {
    if (row.runId !== runId) return;
    const api: ApiEventRow = { runId: row.runId, cursor: row.cursor, event: row.event };
    if (selected === null || selected.has(channelOf(row.event))) printer.event(api);
  };
  const unsubscribe = engine.onEvent((row) => {
    if (runId === null) early.push(row);
    else show(row);
  });
  let removeInt = (): void => undefined;
  let removeTerm = (): void => undefined;
  try {
    let slug: string;
    try {
      slug = engine.deployWorkflow(body).slug;
    } catch (error) {
      throw asCliError(error);
    }
    const run = engine.startRun(slug, options.input === undefined ? {} : { input: options.input });
    runId = run.id;
    for (const row of early.splice(0)) show(row);
    let cancelling = false;
    const interrupt = (): void => {
      if (cancelling) {
        printer.close();
        io.stderr.write(`interrupted; run ${run.id} killed\n`);
        engine.close();
        io.exit(EXIT.cancelled);
        return;
      }
      cancelling = true;
      printer.notice(`cancelling the run (press Ctrl-C again to kill it)`);
      void engine.cancelRun(run.id);
    };
    removeInt = io.onSignal("SIGINT", interrupt);
    removeTerm = io.onSignal("SIGTERM", interrupt);
    const final = await engine.waitForRun(run.id);
    printer.close();
    return printRunResult(io, apiRun(final, slug), { json: options.json });
  } finally {
    removeInt();
    removeTerm();
    unsubscribe();
    printer.close();
    await engine.closeGracefully();
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  }
}

function apiRun(
  run: RunRow,
  slug: string,
): Parameters<typeof printRunResult>[1] & { workflowSlug: string } {
  return { ...run, workflowSlug: slug, error: run.error === null ? null : { ...run.error } };
}

function asCliError(error: unknown): CliError {
  const code = (error as { code?: unknown }).code;
  const hint = (error as { hint?: unknown }).hint;
  return new CliError(error instanceof Error ? error.message : String(error), {
    ...(typeof code === "string" ? { code } : {}),
    hint: typeof hint === "string" ? hint : undefined,
  });
}
