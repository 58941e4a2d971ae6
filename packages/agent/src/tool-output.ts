/**
 * Live output of a running tool call (the `bash` built-in's stdout and stderr) as
 * `tool_output_delta` events on the agent channel. Every stream is redacted through the run's one
 * redactor (`@promenade/workflow/redact`), streamed so a secret split across chunks is still
 * caught; all of a call's deltas are emitted before its result or error. Knows nothing about
 * what the tool does.
 */
import type { StreamingRedactor } from "@promenade/workflow/redact";
import type { LoopRedactor } from "./loop-redactor.ts";
import type { AgentEventBody } from "./ports.ts";
import type { ToolCallContext } from "./tools.ts";

/** How long a held tail waits for more output before it is released (redacted as it is). */
export const TOOL_OUTPUT_HOLD_MS = 100;

/**
 * A tool call's live output: each stream goes through its own streaming redactor (a secret split
 * across chunks is still caught) and becomes `tool_output_delta` events. A tail held back because
 * it could start a secret is released with the next chunk, after {@link TOOL_OUTPUT_HOLD_MS} of
 * quiet, or at `end`, so every delta precedes the call's result or error. Output after `end` is
 * dropped.
 */
export function liveOutput(
  toolCallId: string,
  redactor: LoopRedactor,
  emit: (body: AgentEventBody) => void,
): { context: ToolCallContext; end(): void } {
  const streams = new Map<"stdout" | "stderr", HeldStream>();
  let ended = false;
  const send = (stream: "stdout" | "stderr", text: string): void => {
    if (text !== "") emit({ kind: "tool_output_delta", toolCallId, stream, text });
  };
  const release = (stream: "stdout" | "stderr", held: HeldStream): void => {
    if (held.timer !== undefined) clearTimeout(held.timer);
    held.timer = undefined;
    send(stream, held.redacting.flush());
  };
  return {
    context: {
      toolCallId,
      output(stream, text) {
        if (ended || typeof text !== "string" || text === "") return;
        let held = streams.get(stream);
        if (held === undefined) {
          held = { redacting: redactor.stream(), timer: undefined };
          streams.set(stream, held);
        }
        if (held.timer !== undefined) clearTimeout(held.timer);
        held.timer = undefined;
        send(stream, held.redacting.push(text));
        if (held.redacting.pending > 0) {
          const waiting = held;
          held.timer = setTimeout(() => release(stream, waiting), TOOL_OUTPUT_HOLD_MS);
        }
      },
    },
    end() {
      if (ended) return;
      ended = true;
      for (const [stream, held] of streams) release(stream, held);
    },
  };
}

interface HeldStream {
  redacting: StreamingRedactor;
  timer: NodeJS.Timeout | undefined;
}
