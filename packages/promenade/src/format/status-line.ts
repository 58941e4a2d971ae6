/**
 * The live status line at the bottom of a terminal (`⠙ running · 4.2s · phase greet`): redrawn
 * in place with a spinner while events scroll above it. Only on a TTY; disabled, it writes the
 * lines and nothing else, so piped output is plain lines. Invariant: every line written through
 * `print` lands above the status line, never interleaved with it.
 */
import type { CliStream } from "../io.ts";
import { stripAnsi } from "./color.ts";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const REDRAW_MS = 120;
const CLEAR = "\r\u001b[2K";

/** A redrawn bottom line on `stream`, fed by `render()` on every redraw. */
export class StatusLine {
  readonly #stream: CliStream;
  readonly #render: () => string;
  readonly #enabled: boolean;
  #frame = 0;
  #shown = false;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(stream: CliStream, render: () => string, enabled = stream.isTTY) {
    this.#stream = stream;
    this.#render = render;
    this.#enabled = enabled;
  }

  /** Start redrawing (no-op when disabled). */
  start(): void {
    if (!this.#enabled || this.#timer !== null) return;
    this.#timer = setInterval(() => this.#draw(), REDRAW_MS);
    this.#timer.unref();
    this.#draw();
  }

  /** Write whole lines to `target` above the status line. */
  print(target: CliStream, lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.#erase();
    target.write(`${lines.join("\n")}\n`);
    if (this.#timer !== null) this.#draw();
  }

  /** Stop and erase the status line. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#erase();
  }

  #erase(): void {
    if (!this.#shown) return;
    this.#stream.write(CLEAR);
    this.#shown = false;
  }

  #draw(): void {
    const frame = FRAMES[this.#frame++ % FRAMES.length] ?? "";
    let text = `${frame} ${this.#render()}`;
    const columns = this.#stream.columns;
    if (columns !== undefined && stripAnsi(text).length >= columns) {
      text = stripAnsi(text).slice(0, Math.max(0, columns - 2));
    }
    this.#stream.write(`${CLEAR}${text}`);
    this.#shown = true;
  }
}
