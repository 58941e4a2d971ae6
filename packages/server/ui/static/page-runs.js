// The runs page: filters, paging and live status updates over the runs feed.
import { api } from "./api.js";
import { badge, clear, el, main, onLeave, showError } from "./dom.js";
import { ACTIVE, STATUSES, costEl, duration, runHref, timeEl } from "./format.js";
import { live } from "./live.js";

export async function renderRuns(query) {
  const workflow = query.get("workflow") ?? "";
  const statusFilter = (query.get("status") ?? "").split(",").filter(Boolean);
  let workflows;
  try {
    workflows = (await api("GET", "/api/workflows")).workflows;
  } catch (err) {
    showError(err);
    return;
  }
  clear(main);
  const wfSelect = el(
    "select",
    { id: "filter-workflow" },
    el("option", { value: "", text: "all workflows" }),
    workflows.map((w) =>
      el("option", { value: w.slug, text: w.slug, selected: w.slug === workflow }),
    ),
  );
  const statusSelect = el(
    "select",
    {
      id: "filter-status",
      multiple: true,
      size: STATUSES.length,
      title: "Ctrl/Cmd-click to pick several; none = all statuses",
    },
    STATUSES.map((s) => el("option", { value: s, text: s, selected: statusFilter.includes(s) })),
  );
  const apply = () => {
    const q = new URLSearchParams();
    if (wfSelect.value) q.set("workflow", wfSelect.value);
    const picked = [...statusSelect.selectedOptions].map((o) => o.value);
    if (picked.length) q.set("status", picked.join(","));
    const qs = q.toString();
    location.hash = qs ? `#/runs?${qs}` : "#/runs";
  };
  wfSelect.addEventListener("change", apply);
  statusSelect.addEventListener("change", apply);
  main.append(
    el("h1", { text: "Runs" }),
    el(
      "div",
      { class: "toolbar filters" },
      el("label", {}, "Workflow ", wfSelect),
      el("label", {}, "Status ", statusSelect),
    ),
  );
  const body = el("tbody");
  const table = el(
    "table",
    { id: "runs" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        [
          "Status",
          "Workflow",
          "Run",
          "Trigger",
          "Created",
          "Duration",
          "Tokens in/out",
          "Cost",
          "",
        ].map((t) => el("th", { text: t })),
      ),
    ),
    body,
  );
  const more = el("button", {
    type: "button",
    class: "secondary",
    text: "Load more",
    hidden: true,
  });
  main.append(table, el("p", {}, more));
  const rows = new Map();
  const cursors = new Map();
  const matches = (run) =>
    (!workflow || run.workflowSlug === workflow) &&
    (statusFilter.length === 0 || statusFilter.includes(run.status));

  const rowFor = (run) => {
    const tr = el(
      "tr",
      { dataset: { runId: run.id, status: run.status } },
      el("td", {}, badge(run.status)),
      el(
        "td",
        {},
        el("a", {
          href: `#/runs?workflow=${encodeURIComponent(run.workflowSlug ?? "")}`,
          text: run.workflowSlug ?? run.workflowId,
        }),
      ),
      el("td", {}, el("a", { class: "mono", href: runHref(run.id), text: run.id })),
      el("td", { text: run.triggerKind }),
      el("td", {}, timeEl(run.createdAt)),
      el("td", { class: "duration", text: duration(run) }),
      el("td", { text: `${run.tokensIn} / ${run.tokensOut}` }),
      el("td", { class: "cost-cell" }, costEl(run.usdMicros, run.usdEstimated === true)),
      el("td", { class: "muted", text: run.restarts > 0 ? `${run.restarts} restart(s)` : "" }),
    );
    tr.run = run;
    return tr;
  };
  const upsert = (run, prepend) => {
    const old = rows.get(run.id);
    if (!matches(run)) {
      if (old && statusFilter.length > 0) {
        old.remove();
        rows.delete(run.id);
      }
      return;
    }
    const tr = rowFor(run);
    if (old) old.replaceWith(tr);
    else if (prepend) body.prepend(tr);
    else body.append(tr);
    rows.set(run.id, tr);
  };

  // The feed's copies of a run carry no `usdEstimated` (the JSON API adds it): keep the last
  // known one, and read the run once more when its cost may have changed.
  const fromFeed = (run) => {
    if (run.usdEstimated !== undefined) return run;
    const known = rows.get(run.id)?.run;
    const merged = { ...run, usdEstimated: known?.usdEstimated ?? false };
    if (run.usdMicros > 0 && (known === undefined || known.usdMicros !== run.usdMicros)) {
      api("GET", `/api/runs/${encodeURIComponent(run.id)}`)
        .then((data) => {
          const current = rows.get(run.id)?.run;
          if (current && current.usdMicros === data.run.usdMicros) upsert(data.run, false);
        })
        .catch(() => {});
    }
    return merged;
  };

  let next = null;
  const load = async () => {
    const q = new URLSearchParams({ limit: "50" });
    if (workflow) q.set("workflow", workflow);
    if (statusFilter.length) q.set("status", statusFilter.join(","));
    if (next) q.set("before", next);
    try {
      const data = await api("GET", `/api/runs?${q}`);
      for (const run of data.runs) upsert(run, false);
      next = data.nextCursor;
      more.hidden = next === null;
    } catch (err) {
      showError(err);
    }
  };
  more.addEventListener("click", load);
  await load();

  const tick = setInterval(() => {
    for (const tr of rows.values()) {
      if (ACTIVE.includes(tr.run.status))
        tr.querySelector(".duration").textContent = duration(tr.run);
    }
  }, 1000);
  onLeave(() => clearInterval(tick));

  live.add({
    message() {
      return workflow
        ? { type: "subscribe_runs", sub: this.id, workflow }
        : { type: "subscribe_runs", sub: this.id };
    },
    onFrame: async (frame) => {
      if (frame.type === "runs_snapshot") {
        for (const { run, cursor } of frame.runs) {
          cursors.set(run.id, cursor);
          upsert(fromFeed(run), !rows.has(run.id));
        }
        if (frame.resync) {
          const activeIds = new Set(frame.runs.map((r) => r.run.id));
          for (const tr of [...rows.values()]) {
            if (ACTIVE.includes(tr.run.status) && !activeIds.has(tr.run.id)) {
              const data = await api("GET", `/api/runs/${encodeURIComponent(tr.run.id)}`).catch(
                () => null,
              );
              if (data) upsert(data.run, false);
            }
          }
        }
      } else if (frame.type === "run") {
        if ((cursors.get(frame.runId) ?? 0) >= frame.cursor) return;
        cursors.set(frame.runId, frame.cursor);
        upsert(fromFeed(frame.run), !rows.has(frame.runId));
      }
    },
  });
}
