/**
 * `--channels` for commands that stream events: a comma-separated list of channel names, or
 * `all`. The CLI's default is every channel (the renderer keeps agent streams compact), unlike
 * the API's quieter default.
 */
import { CHANNELS } from "@promenade/workflow";
import type { Channel } from "@promenade/workflow";
import { UsageError } from "./errors.ts";

/** Parse `--channels`; `undefined` means every channel. */
export function parseChannels(raw: string | undefined): readonly Channel[] | "all" {
  if (raw === undefined || raw.trim() === "all") return "all";
  const names = raw
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const valid: ReadonlySet<string> = new Set(CHANNELS);
  for (const name of names) {
    if (!valid.has(name)) {
      throw new UsageError(
        `unknown channel "${name}".`,
        `Valid channels: ${CHANNELS.join(", ")} (comma-separated), or all.`,
      );
    }
  }
  if (names.length === 0) {
    throw new UsageError(
      "--channels is empty.",
      `Name channels from ${CHANNELS.join(", ")}, or all.`,
    );
  }
  return [...new Set(names)] as Channel[];
}
