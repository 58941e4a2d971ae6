/**
 * `--input` for `promenade run`: inline JSON, `@file` (a JSON file, relative to the working
 * directory) or `@-` (standard input). Malformed JSON or a missing file is a usage error naming
 * the source and the fix; absent means the run gets no input (`null`).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { JsonValue } from "@promenade/workflow";
import { UsageError } from "./errors.ts";
import type { CliIo } from "./io.ts";

/** Parse `--input`. */
export async function parseInput(
  raw: string | undefined,
  io: Pick<CliIo, "cwd" | "readStdin">,
): Promise<JsonValue | undefined> {
  if (raw === undefined) return undefined;
  let text = raw;
  let source = "--input";
  if (raw === "@-") {
    text = await io.readStdin();
    source = "--input @- (standard input)";
  } else if (raw.startsWith("@")) {
    const path = resolve(io.cwd, raw.slice(1));
    source = `--input ${raw}`;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new UsageError(
        `${source}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
        "Give the path of a JSON file after @, e.g. --input @input.json.",
      );
    }
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new UsageError(
      `${source} is not valid JSON: ${error instanceof Error ? error.message : String(error)}.`,
      `Quote it for the shell, e.g. --input '{"name":"Ada"}', or pass a file with --input @input.json.`,
    );
  }
}
