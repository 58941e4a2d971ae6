/**
 * Run events → terminal lines: `HH:MM:SS.mmm  <label>  <text>`, one line per status change,
 * phase, output, program line, agent turn, text block and tool call. Stateful only where the
 * wire splits one thing into many events: program output is re-joined into whole lines per
 * stream, agent text and reasoning deltas into one block, tool calls keep their name. Knows
 * nothing about where lines go (the caller writes them) or how events arrive.
 */
import type { RunEvent } from "@promenade/workflow";
import type { Style } from "./color.ts";
import { styleStatus } from "./status.ts";
import { formatClock } from "./time.ts";

const LABEL_WIDTH = 7;
/** An output value longer than this on one line is printed indented over several lines. */
const INLINE_JSON_MAX = 100;

/** One event to render (the shape of an API event row). */
export interface RenderableEvent {
  cursor: number;
  event: RunEvent;
}

/** Renders events; call `flush()` at the end to get any partial program line. */
export class EventRenderer {
  readonly #style: Style;
  readonly #partial = new Map<"stdout" | "stderr", { text: string; t: number }>();
  readonly #agentNames = new Map<string, string>();
  readonly #text = new Map<string, { text: string; agent: string }>();
  readonly #reasoning = new Map<string, { text: string; t: number }>();
  readonly #tools = new Map<string, { name: string; agent: string }>();

  constructor(style: Style) {
    this.#style = style;
  }

  /** The lines for one event (often none: deltas accumulate until their block ends). */
  render(row: RenderableEvent): string[] {
    const event = row.event;
    const out: string[] = [];
    if (event.kind !== "program_output") out.push(...this.#flushProgram());
    if (event.kind !== "reasoning_delta") out.push(...this.#flushReasoning(event.turnId));
    const t = event.t;
    const s = this.#style;
    switch (event.kind) {
      case "run_status": {
        const error =
          event.error === undefined
            ? ""
            : ` — ${s.red(`${event.error.code}: ${event.error.message}`)}`;
        out.push(
          this.#line(t, "status", s.bold("status"), `${styleStatus(event.status, s)}${error}`),
        );
        break;
      }
      case "phase":
        out.push(this.#line(t, "phase", s.cyan("phase"), s.bold(event.name)));
        break;
      case "output":
        out.push(...this.#block(t, "output", s.green("output"), formatJson(event.value)));
        break;
      case "program_output":
        out.push(...this.#program(event.stream, event.text, t));
        break;
      case "turn_started": {
        const name = event.agentName ?? event.agentId;
        this.#agentNames.set(event.turnId, name);
        out.push(this.#line(t, "agent", s.magenta("agent"), `${s.bold(name)} turn started`));
        break;
      }
      case "turn_ended": {
        const name = event.agentName ?? this.#agentNames.get(event.turnId) ?? event.agentId;
        const usage =
          event.usage === undefined
            ? ""
            : `, ${event.usage.inputTokens ?? 0} in / ${event.usage.outputTokens ?? 0} out tokens`;
        const error =
          event.error === undefined
            ? ""
            : ` — ${s.red(`${event.error.code}: ${event.error.message}`)}`;
        out.push(
          this.#line(
            t,
            "agent",
            s.magenta("agent"),
            `${s.bold(name)} turn ended (${event.reason}${usage})${error}`,
          ),
        );
        break;
      }
      case "text_start":
        this.#text.set(event.blockId, { text: "", agent: this.#agentOf(event.turnId) });
        break;
      case "text_delta": {
        const block = this.#text.get(event.blockId) ?? {
          text: "",
          agent: this.#agentOf(event.turnId),
        };
        block.text += event.text;
        this.#text.set(event.blockId, block);
        break;
      }
      case "text_end": {
        const block = this.#text.get(event.blockId);
        this.#text.delete(event.blockId);
        if (block !== undefined && block.text.trim() !== "") {
          out.push(
            ...this.#block(
              t,
              "text",
              s.magenta("text"),
              `${s.dim(`[${block.agent}]`)} ${block.text.trim()}`,
            ),
          );
        }
        break;
      }
      case "reasoning_delta": {
        const entry = this.#reasoning.get(event.turnId) ?? { text: "", t };
        entry.text += event.text;
        this.#reasoning.set(event.turnId, entry);
        break;
      }
      case "tool_call_start":
        this.#tools.set(event.toolCallId, {
          name: event.toolName,
          agent: this.#agentOf(event.turnId),
        });
        break;
      case "tool_call_input_complete": {
        const tool = this.#tools.get(event.toolCallId);
        const input = truncate(JSON.stringify(event.input), 120);
        out.push(
          this.#line(t, "tool", s.blue("tool"), `${s.bold(tool?.name ?? "tool")}(${input})`),
        );
        break;
      }
      case "tool_call_result": {
        const tool = this.#tools.get(event.toolCallId);
        const summary = event.result.humanSummary ?? event.result.kind ?? "ok";
        out.push(
          this.#line(
            t,
            "tool",
            s.blue("tool"),
            `${s.bold(tool?.name ?? "tool")} → ${truncate(summary, 200)}`,
          ),
        );
        break;
      }
      case "tool_call_error": {
        const tool = this.#tools.get(event.toolCallId);
        out.push(
          this.#line(
            t,
            "tool",
            s.blue("tool"),
            `${s.bold(tool?.name ?? "tool")} ${s.red(`✗ ${event.error.code}: ${event.error.message}`)}`,
          ),
        );
        break;
      }
      case "human_input_requested":
        out.push(
          this.#line(
            t,
            "input",
            s.yellow("input"),
            `${s.bold(event.key)} waiting: ${truncate(event.prompt, 200)} ${s.dim(`(promenade respond ${event.runId} ${shellWord(event.key)} --value …)`)}`,
          ),
        );
        break;
      case "human_input_resolved":
        out.push(this.#line(t, "input", s.yellow("input"), `${s.bold(event.key)} answered`));
        break;
      case "tool_call_input_delta":
      case "tool_call_executing":
        break;
    }
    return out;
  }

  /** Lines still held back (a program line without its newline, pending reasoning). */
  flush(): string[] {
    return [...this.#flushProgram(), ...this.#flushReasoning(null)];
  }

  #agentOf(turnId: string): string {
    return this.#agentNames.get(turnId) ?? "agent";
  }

  #prefix(t: number, label: string, styledLabel: string): string {
    return `${this.#style.dim(formatClock(t))} ${styledLabel}${" ".repeat(Math.max(1, LABEL_WIDTH - label.length + 1))}`;
  }

  #line(t: number, label: string, styledLabel: string, text: string): string {
    return `${this.#prefix(t, label, styledLabel)}${text}`;
  }

  /** A multi-line text: the first line carries the prefix, the rest are indented under it. */
  #block(t: number, label: string, styledLabel: string, text: string): string[] {
    const indent = " ".repeat(formatClock(t).length + 1 + LABEL_WIDTH + 1);
    return text
      .split("\n")
      .map((line, i) => (i === 0 ? this.#line(t, label, styledLabel, line) : `${indent}${line}`));
  }

  #program(stream: "stdout" | "stderr", text: string, t: number): string[] {
    const held = this.#partial.get(stream);
    const joined = (held?.text ?? "") + text;
    const lines = joined.split("\n");
    const rest = lines.pop() ?? "";
    if (rest === "") this.#partial.delete(stream);
    else this.#partial.set(stream, { text: rest, t: held?.t ?? t });
    return lines.map((line) => this.#programLine(stream, line, held?.t ?? t));
  }

  #programLine(stream: "stdout" | "stderr", line: string, t: number): string {
    const s = this.#style;
    return stream === "stderr"
      ? this.#line(t, "stderr", s.yellow("stderr"), s.yellow(line))
      : this.#line(t, "stdout", s.dim("stdout"), line);
  }

  #flushProgram(): string[] {
    const out: string[] = [];
    for (const [stream, held] of this.#partial)
      out.push(this.#programLine(stream, held.text, held.t));
    this.#partial.clear();
    return out;
  }

  #flushReasoning(turnId: string | null): string[] {
    const out: string[] = [];
    for (const [id, entry] of this.#reasoning) {
      if (turnId !== null && id !== turnId) continue;
      this.#reasoning.delete(id);
      if (entry.text.trim() === "") continue;
      const s = this.#style;
      out.push(...this.#block(entry.t, "think", s.dim("think"), s.dim(entry.text.trim())));
    }
    return out;
  }
}

/** A JSON value on one line when short, else indented by two. */
export function formatJson(value: unknown): string {
  const inline = JSON.stringify(value) ?? "null";
  if (inline.length <= INLINE_JSON_MAX) return inline;
  return JSON.stringify(value, null, 2);
}

/** `word` as one shell word: as is when plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
