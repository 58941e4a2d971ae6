/**
 * What the status line says about a run: its status, how long it has been going and its latest
 * phase, kept up to date from the events as they stream (`running · 4.2s · phase greet`).
 */
import type { RunEvent } from "@promenade/workflow";
import type { Style } from "./color.ts";
import { styleStatus } from "./status.ts";
import { formatDuration } from "./time.ts";

/** Tracks one run from its events. */
export class RunProgress {
  readonly #label: string;
  readonly #style: Style;
  #status = "waiting";
  #phase: string | null = null;
  #startedAt: number | null = null;
  #reconnecting = false;

  /** `label` names the run (its workflow slug or id). */
  constructor(label: string, style: Style) {
    this.#label = label;
    this.#style = style;
  }

  /** Fold one event in. */
  observe(event: RunEvent): void {
    this.#reconnecting = false;
    if (event.kind === "run_status") {
      this.#status = event.status;
      if (event.status === "running" && this.#startedAt === null) this.#startedAt = event.t;
    } else if (event.kind === "phase") {
      this.#phase = event.name;
    }
  }

  /** The connection dropped; shown until the next event. */
  reconnecting(): void {
    this.#reconnecting = true;
  }

  /** The status line text at `nowMs`. */
  text(nowMs: number): string {
    const s = this.#style;
    const parts = [s.bold(this.#label), styleStatus(this.#status, s)];
    if (this.#startedAt !== null) parts.push(formatDuration(nowMs - this.#startedAt));
    if (this.#phase !== null) parts.push(`phase ${this.#phase}`);
    if (this.#reconnecting) parts.push(s.yellow("reconnecting…"));
    return parts.join(s.dim(" · "));
  }
}
