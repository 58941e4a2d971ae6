/**
 * Event → channel mapping and channel selection (spec 01 §5.7), as the server applies it to the
 * events endpoint and WebSocket subscriptions. Kept here (not imported from the SDK) so the server
 * depends only on the wire names; the names and messages are the SDK's, verbatim.
 */
import { EngineError } from "@promenade/workflow/errors";

/** The five channels, in canonical order. */
export const CHANNELS = ["lifecycle", "phase", "output", "log", "agent"] as const;
/** One channel name. */
export type Channel = (typeof CHANNELS)[number];
/** The quiet default selection. */
export const DEFAULT_CHANNELS: readonly Channel[] = ["lifecycle", "phase", "output"];

const BY_KIND: Record<string, Channel> = {
  run_status: "lifecycle",
  phase: "phase",
  output: "output",
  program_output: "log",
};

/** The channel of an event kind; `undefined` for an unknown kind. */
export function channelOf(kind: string): Channel | undefined {
  const fixed = BY_KIND[kind];
  if (fixed !== undefined) return fixed;
  if (
    kind.startsWith("turn_") ||
    kind.startsWith("text_") ||
    kind.startsWith("tool_call_") ||
    kind === "reasoning_delta"
  ) {
    return "agent";
  }
  return undefined;
}

/**
 * Resolve a selection: `verbose` wins, else `channels` (string list or array, trimmed), else the
 * default. Throws `VALIDATION` `Unknown channel "<name>".` with the valid list as hint.
 */
export function selectChannels(options: {
  channels?: string | readonly string[] | undefined;
  verbose?: boolean | undefined;
}): readonly Channel[] {
  if (options.verbose === true) return CHANNELS;
  if (options.channels === undefined) return DEFAULT_CHANNELS;
  const names =
    typeof options.channels === "string" ? options.channels.split(",") : options.channels;
  const picked = new Set<Channel>();
  for (const raw of names) {
    const name = raw.trim();
    if (!(CHANNELS as readonly string[]).includes(name)) {
      throw new EngineError(
        "VALIDATION",
        `Unknown channel "${name}".`,
        `Valid channels: ${CHANNELS.join(", ")}.`,
      );
    }
    picked.add(name as Channel);
  }
  return CHANNELS.filter((c) => picked.has(c));
}

/** True when a terminal status. */
export function isTerminalStatus(status: string): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}
