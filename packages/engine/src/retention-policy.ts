/**
 * The retention policy language, shared by `PROMENADE_RETENTION`, the engine's `retention`
 * option and a workflow's deploy config (`config.retention`): how long terminal runs are kept
 * and/or how many of the newest are kept. Parsing only; the sweep is retention-sweep.ts.
 *
 * Syntax: `off` (keep everything), or one or two comma-separated limits —
 * a duration `<n>m`, `<n>h`, `<n>d` or `<n>w` (minutes, hours, days, weeks), and/or `last <n>`.
 * Each limit is a cap: a terminal run is deleted once it is older than the duration OR not among
 * the newest `n` terminal runs of its workflow. Examples: `30d`, `12h`, `last 500`,
 * `30d, last 1000`.
 */
import { EngineError } from "@promenade/workflow/errors";

/** A parsed policy; `null` fields are absent limits. Both `null`: keep everything. */
export interface RetentionPolicy {
  /** Terminal runs that ended longer ago than this (ms) are deleted. */
  maxAgeMs: number | null;
  /** Only the newest this many terminal top-level runs of a workflow are kept. */
  keepLast: number | null;
  /** The policy as written, normalized (`30d, last 1000`, or `off`). */
  text: string;
}

/** Keep everything. */
export const KEEP_EVERYTHING: RetentionPolicy = Object.freeze({
  maxAgeMs: null,
  keepLast: null,
  text: "off",
});

const UNIT_MS: Readonly<Record<string, number>> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const EXAMPLE = 'e.g. "30d", "12h", "last 500" or "30d, last 1000" ("off" keeps everything)';

/**
 * Parses a policy. `where` names the source in the error (`PROMENADE_RETENTION`,
 * `config.retention`, …). Throws `VALIDATION` naming `where`, the bad part and an example.
 */
export function parseRetentionPolicy(text: unknown, where: string): RetentionPolicy {
  if (typeof text !== "string") {
    throw new EngineError(
      "VALIDATION",
      `${where} must be a string retention policy, got ${text === null ? "null" : typeof text}.`,
      `Write a policy, ${EXAMPLE}.`,
    );
  }
  const trimmed = text.trim().toLowerCase();
  if (trimmed === "off") return KEEP_EVERYTHING;
  const bad = (why: string): EngineError =>
    new EngineError(
      "VALIDATION",
      `${where} ${JSON.stringify(text)} is not a retention policy: ${why}.`,
      `Write ${EXAMPLE}.`,
    );
  if (trimmed === "") throw bad("it is empty");
  let maxAgeMs: number | null = null;
  let keepLast: number | null = null;
  const parts = trimmed.split(",").map((part) => part.trim());
  for (const part of parts) {
    const duration = /^(\d{1,9})\s*([mhdw])$/.exec(part);
    const last = /^last\s+(\d{1,9})$/.exec(part);
    if (duration !== null) {
      if (maxAgeMs !== null) throw bad("it has two durations");
      const amount = Number(duration[1]);
      if (amount < 1) throw bad(`the duration "${part}" must be at least 1`);
      maxAgeMs = amount * (UNIT_MS[duration[2] ?? "d"] ?? 0);
    } else if (last !== null) {
      if (keepLast !== null) throw bad('it has two "last" limits');
      const count = Number(last[1]);
      if (count < 1) throw bad(`"${part}" must keep at least 1 run`);
      keepLast = count;
    } else {
      throw bad(
        part === ""
          ? "it has an empty part"
          : `"${part}" is neither a duration (30d, 12h, 90m, 2w) nor "last <n>"`,
      );
    }
  }
  const normalized = [
    ...(maxAgeMs === null ? [] : [parts.find((p) => /[mhdw]$/.test(p))?.replace(/\s+/g, "") ?? ""]),
    ...(keepLast === null ? [] : [`last ${String(keepLast)}`]),
  ].join(", ");
  return { maxAgeMs, keepLast, text: normalized };
}
