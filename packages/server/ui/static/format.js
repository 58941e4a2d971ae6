// Formatting of times, durations, costs and links, and the run-status vocabulary.
import { el } from "./dom.js";

export const ACTIVE = [
  "queued",
  "pending",
  "running",
  "awaiting_input",
  "waiting_for_child",
  "cancelling",
];
export const STATUSES = [
  "queued",
  "pending",
  "running",
  "awaiting_input",
  "waiting_for_child",
  "cancelling",
  "completed",
  "failed",
  "cancelled",
];

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

export function relative(ms) {
  if (ms === null || ms === undefined) return "—";
  const diff = Date.now() - ms;
  const s = Math.round(Math.abs(diff) / 1000);
  const suffix = diff >= 0 ? "ago" : "from now";
  if (s < 5) return "just now";
  if (s < 60) return `${s}s ${suffix}`;
  if (s < 3600) return `${Math.round(s / 60)}m ${suffix}`;
  if (s < 86400) return `${Math.round(s / 3600)}h ${suffix}`;
  return `${Math.round(s / 86400)}d ${suffix}`;
}

export function timeEl(ms) {
  return el("span", { title: ms ? new Date(ms).toLocaleString() : "", text: relative(ms) });
}

export function duration(run) {
  if (!run.startedAt) return "—";
  const end = run.endedAt ?? Date.now();
  const ms = Math.max(0, end - run.startedAt);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)}m ${Math.round((ms % 60000) / 1000)}s`;
}

/**
 * A cost in USD (`$0.0000` form below one cent). A cost that includes a part priced at the
 * default rate of an unknown model reads `≈$0.0008 est.`.
 */
export function cost(usdMicros, estimated = false) {
  const text = `$${(usdMicros / 1e6).toFixed(4)}`;
  return estimated ? `≈${text} est.` : text;
}

/** A cost as an element; an estimated one is marked and says why in its tooltip. */
export function costEl(usdMicros, estimated = false) {
  return el("span", {
    class: estimated ? "cost cost-estimated" : "cost",
    title: estimated
      ? "Includes calls to a model with no known price, priced at the default rate: an estimate."
      : undefined,
    text: cost(usdMicros, estimated),
  });
}

export function clock(t) {
  const d = new Date(t);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function runHref(id) {
  return `#/runs/${encodeURIComponent(id)}`;
}

/** A duration in ms as `850 ms`, `4.2 s` or `3m 12s`. */
export function ms(value) {
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60000) return `${(value / 1000).toFixed(1)} s`;
  return `${Math.floor(value / 60000)}m ${Math.round((value % 60000) / 1000)}s`;
}
