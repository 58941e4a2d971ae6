// The workflows page: deployed workflows, their triggers, last run and a Run button; a row opens
// the workflow's own page.
import { api } from "./api.js";
import { badge, clear, el, main, renderGuard, showError } from "./dom.js";
import { runHref, timeEl } from "./format.js";
import { openRunDialog } from "./run-dialog.js";

function triggerView(slug, trigger, index) {
  if (trigger.kind === "cron") {
    return el(
      "span",
      { class: "trigger" },
      "cron ",
      el("code", { text: trigger.expr }),
      ` (${trigger.timezone ?? "UTC"})`,
    );
  }
  if (trigger.kind === "webhook") {
    const name = `PROMENADE_WEBHOOK_${trigger.auth === "signature" ? "SECRET" : "TOKEN"}__${slug.toUpperCase().replace(/-/g, "_")}`;
    return el(
      "span",
      { class: "trigger" },
      `webhook (${trigger.auth}) `,
      el("code", { text: `POST /hooks/${slug}/${index}` }),
      el("span", { class: "sub" }, "set ", el("code", { text: name })),
    );
  }
  return el("span", { class: "trigger", text: trigger.kind });
}

export async function renderWorkflows() {
  const stale = renderGuard();
  let data;
  try {
    data = await api("GET", "/api/workflows");
  } catch (err) {
    if (!stale()) showError(err);
    return;
  }
  if (stale()) return;
  clear(main);
  main.append(el("h1", { text: "Workflows" }));
  const skipped = Array.isArray(data.skipped) ? data.skipped : [];
  if (skipped.length > 0) main.append(skippedView(skipped));
  if (data.workflows.length === 0) {
    if (skipped.length > 0) return;
    main.append(
      el("p", {
        class: "muted",
        text: "No workflows deployed yet. Put a .ts or .mjs file in the workflows directory and restart, or POST /api/workflows.",
      }),
    );
    return;
  }
  const body = el("tbody");
  for (const wf of data.workflows) {
    const row = el(
      "tr",
      {
        class: "clickable",
        dataset: { slug: wf.slug },
        onclick: () => (location.hash = `#/workflows/${encodeURIComponent(wf.slug)}`),
      },
      el(
        "td",
        {},
        el(
          "a",
          {
            href: `#/workflows/${encodeURIComponent(wf.slug)}`,
            class: "wf-link",
            onclick: (e) => e.stopPropagation(),
          },
          el("strong", { class: "nowrap", text: wf.slug }),
        ),
        wf.title ? el("span", { class: "sub", text: wf.title }) : null,
      ),
      el("td", { text: wf.description ?? "" }),
      el(
        "td",
        {},
        wf.triggers.length === 0
          ? el("span", { class: "muted", text: "manual" })
          : wf.triggers.map((t, i) => triggerView(wf.slug, t, i)),
      ),
      el(
        "td",
        { class: "nowrap" },
        wf.lastRun
          ? el(
              "a",
              { href: runHref(wf.lastRun.id), onclick: (e) => e.stopPropagation() },
              badge(wf.lastRun.status),
              " ",
              timeEl(wf.lastRun.createdAt),
            )
          : el("span", { class: "muted", text: "never" }),
      ),
      el("td", { class: "nowrap" }, timeEl(wf.updatedAt)),
      el(
        "td",
        {},
        el("button", {
          type: "button",
          text: "Run",
          dataset: { action: "run", slug: wf.slug },
          onclick: (e) => {
            e.stopPropagation();
            openRunDialog(wf.slug, {});
          },
        }),
      ),
    );
    body.append(row);
  }
  main.append(
    el(
      "table",
      { id: "workflows" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          ["Workflow", "Description", "Triggers", "Last run", "Updated", ""].map((t) =>
            el("th", { text: t }),
          ),
        ),
      ),
      body,
    ),
  );
}

/** Files of the workflows directory that were not deployed, each with its error. */
function skippedView(skipped) {
  return el(
    "div",
    { class: "error-box skipped-files", id: "skipped-files" },
    el("strong", {
      text: `${skipped.length} workflow file${skipped.length === 1 ? " was" : "s were"} not deployed`,
    }),
    el(
      "ul",
      {},
      skipped.map((entry) =>
        el(
          "li",
          { dataset: { file: entry.file } },
          el("code", { text: entry.file }),
          ": ",
          el("span", { text: entry.error }),
        ),
      ),
    ),
  );
}
