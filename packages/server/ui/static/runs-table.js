// The runs table shared by the runs page and the workflow page: one row per run (status, workflow,
// id, trigger, created, duration, tokens, cost, restarts), rows keyed by run id for live updates.
import { badge, el } from "./dom.js";
import { ACTIVE, costEl, duration, runHref, timeEl } from "./format.js";

const COLUMNS = [
  "Status",
  "Workflow",
  "Run",
  "Trigger",
  "Created",
  "Duration",
  "Tokens in/out",
  "Cost",
  "",
];

/**
 * A `<table>` with its header; rows go in `table.tBodies[0]`. `showWorkflow: false` hides the
 * workflow column (a page about one workflow).
 */
export function runsTable(id, { showWorkflow = true } = {}) {
  return el(
    "table",
    { id, class: showWorkflow ? "runs-table" : "runs-table no-workflow" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        COLUMNS.map((t) => el("th", { text: t })),
      ),
    ),
    el("tbody"),
  );
}

/** One run's row; `tr.run` keeps the run for live updates. */
export function runRow(run) {
  const slug = run.workflowSlug ?? "";
  const tr = el(
    "tr",
    { dataset: { runId: run.id, status: run.status } },
    el("td", { "data-label": "Status" }, badge(run.status)),
    el(
      "td",
      { "data-label": "Workflow" },
      el("a", {
        href: slug ? `#/workflows/${encodeURIComponent(slug)}` : "#/",
        text: run.workflowSlug ?? run.workflowId,
      }),
    ),
    el(
      "td",
      { "data-label": "Run" },
      el("a", { class: "mono run-id", href: runHref(run.id), text: run.id }),
    ),
    el("td", { "data-label": "Trigger", text: run.triggerKind }),
    el("td", { "data-label": "Created" }, timeEl(run.createdAt)),
    el("td", { "data-label": "Duration", class: "duration", text: duration(run) }),
    el("td", { "data-label": "Tokens", text: `${run.tokensIn} / ${run.tokensOut}` }),
    el(
      "td",
      { "data-label": "Cost", class: "cost-cell" },
      costEl(run.usdMicros, run.usdEstimated === true),
    ),
    el("td", {
      class: "muted",
      text: run.restarts > 0 ? `${run.restarts} restart(s)` : "",
    }),
  );
  tr.run = run;
  return tr;
}

/** Ticks the duration of active runs every second; returns the stop function. */
export function tickDurations(rows) {
  const tick = setInterval(() => {
    for (const tr of rows.values()) {
      if (ACTIVE.includes(tr.run.status))
        tr.querySelector(".duration").textContent = duration(tr.run);
    }
  }, 1000);
  return () => clearInterval(tick);
}
