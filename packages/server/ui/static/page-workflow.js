// The workflow page (`#/workflows/<slug>`): what the workflow is (title, description, manifest,
// config, source, versions), how it starts (each cron trigger with its next fire in its own time zone, each
// webhook URL with a copy button and the credential to set) and its recent runs, live; an Undeploy
// button (with a confirm) takes it out of service, keeping its runs.
import { api } from "./api.js";
import { clear, el, main, onLeave, put, renderGuard, showError } from "./dom.js";
import { copyButton } from "./copy.js";
import { relative } from "./format.js";
import { jsonView } from "./json-view.js";
import { live } from "./live.js";
import { openRunDialog } from "./run-dialog.js";
import { runRow, runsTable, tickDurations } from "./runs-table.js";

const RECENT = 10;

function webhookEnvVar(slug, auth) {
  const kind = auth === "signature" ? "SECRET" : "TOKEN";
  return `PROMENADE_WEBHOOK_${kind}__${slug.toUpperCase().replace(/-/g, "_")}`;
}

/** `Mon, 3 Mar 2025, 07:30 CET` in `timeZone`. */
function inZone(ms, timeZone) {
  try {
    return new Intl.DateTimeFormat(undefined, {
      timeZone,
      weekday: "short",
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      timeZoneName: "short",
    }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString();
  }
}

function cronView(trigger, index, schedule) {
  const next = el("span", { class: "next-fire", dataset: { trigger: String(index) } });
  const refresh = () => {
    clear(next);
    if (!schedule || schedule.nextFireAt === null) {
      next.textContent = "never fires again";
      return;
    }
    next.dataset.at = String(schedule.nextFireAt);
    put(
      next,
      el("strong", { text: inZone(schedule.nextFireAt, schedule.timezone) }),
      el("span", {
        class: "muted",
        text: ` · ${relative(schedule.nextFireAt)}`,
        title: `your time: ${new Date(schedule.nextFireAt).toLocaleString()}`,
      }),
    );
  };
  refresh();
  return {
    node: el(
      "li",
      { class: "trigger-item", dataset: { kind: "cron", index: String(index) } },
      el("span", { class: "trigger-kind", text: "cron" }),
      el(
        "div",
        {},
        el("code", { text: trigger.expr }),
        el("span", { class: "muted", text: ` in ${trigger.timezone ?? "UTC"}` }),
        el("div", { class: "sub" }, "next fire: ", next),
      ),
    ),
    refresh,
  };
}

function webhookView(slug, trigger, index) {
  const url = `${location.origin}/hooks/${encodeURIComponent(slug)}/${index}`;
  const envVar = webhookEnvVar(slug, trigger.auth);
  const how =
    trigger.auth === "signature"
      ? "signed with the secret in "
      : "with Authorization: Bearer <the token in ";
  return el(
    "li",
    { class: "trigger-item", dataset: { kind: "webhook", index: String(index) } },
    el("span", { class: "trigger-kind", text: "webhook" }),
    el(
      "div",
      { class: "webhook" },
      el(
        "div",
        { class: "copy-line" },
        el("code", { class: "webhook-url", id: `webhook-url-${index}`, text: url }),
        copyButton(() => url, { label: "Copy URL", id: `copy-webhook-${index}` }),
      ),
      el(
        "div",
        { class: "sub" },
        `POST, ${how}`,
        el("code", { text: envVar }),
        trigger.auth === "signature" ? "" : ">",
      ),
    ),
  );
}

export async function renderWorkflow(slug) {
  const stale = renderGuard();
  let wf;
  let runs;
  try {
    const path = encodeURIComponent(slug);
    [{ workflow: wf }, { runs }] = await Promise.all([
      api("GET", `/api/workflows/${path}`),
      api("GET", `/api/runs?workflow=${path}&limit=${RECENT}`),
    ]);
  } catch (err) {
    if (!stale()) showError(err);
    return;
  }
  if (stale()) return;
  clear(main);

  // Header.
  const allRuns = `#/runs?workflow=${encodeURIComponent(wf.slug)}`;
  main.append(
    el(
      "div",
      { class: "toolbar page-head" },
      el("h1", { id: "wf-title" }, el("span", { class: "muted", text: "Workflow " }), wf.slug),
      el("button", {
        type: "button",
        id: "wf-run",
        text: "Run",
        onclick: () => openRunDialog(wf.slug, {}),
      }),
      el("a", { href: allRuns, text: "All runs →" }),
      el("button", {
        type: "button",
        id: "wf-undeploy",
        class: "danger",
        text: "Undeploy",
        title: "Stop new runs of this workflow; its runs are kept",
        onclick: async (event) => {
          const ok = confirm(
            `Undeploy ${wf.slug}? New runs, crons and webhooks stop; runs already started finish, and every run stays readable. Deploy it again to bring it back.`,
          );
          if (!ok) return;
          event.currentTarget.disabled = true;
          try {
            await api("DELETE", `/api/workflows/${encodeURIComponent(wf.slug)}`);
            location.hash = "#/";
          } catch (err) {
            showError(err);
          }
        },
      }),
    ),
    wf.title || wf.description
      ? el(
          "p",
          { class: "wf-about" },
          wf.title ? el("strong", { text: wf.title }) : null,
          wf.title && wf.description ? " — " : null,
          wf.description ?? "",
        )
      : null,
  );

  // Triggers.
  const schedules = new Map((wf.schedules ?? []).map((s) => [s.trigger, s]));
  const refreshers = [];
  const triggers = el("ul", { class: "triggers", id: "wf-triggers" });
  const list = wf.triggers.length === 0 ? [{ kind: "manual" }] : wf.triggers;
  list.forEach((trigger, index) => {
    if (trigger.kind === "cron") {
      const view = cronView(trigger, index, schedules.get(index));
      refreshers.push(view.refresh);
      triggers.append(view.node);
    } else if (trigger.kind === "webhook") {
      triggers.append(webhookView(wf.slug, trigger, index));
    } else if (trigger.kind === "workflow_run") {
      triggers.append(
        el(
          "li",
          { class: "trigger-item", dataset: { kind: trigger.kind, index: String(index) } },
          el("span", { class: "trigger-kind", text: "after runs of" }),
          el("code", { text: trigger.workflows.join(", ") }),
          el("span", { class: "muted", text: " stored; this engine does not start runs from it" }),
        ),
      );
    } else {
      triggers.append(
        el(
          "li",
          { class: "trigger-item", dataset: { kind: trigger.kind, index: String(index) } },
          el("span", { class: "trigger-kind", text: trigger.kind }),
          el("span", { class: "muted", text: "started from the UI, the API or another workflow" }),
        ),
      );
    }
  });
  const tick = setInterval(() => refreshers.forEach((f) => f()), 30_000);
  onLeave(() => clearInterval(tick));

  // Recent runs, live.
  const table = runsTable("wf-runs", { showWorkflow: false });
  const body = table.tBodies[0];
  const rows = new Map();
  const empty = el("p", { class: "muted", id: "wf-no-runs", text: "No runs yet." });
  const upsert = (run) => {
    const tr = runRow(run);
    const old = rows.get(run.id);
    if (old) old.replaceWith(tr);
    else body.prepend(tr);
    rows.set(run.id, tr);
    while (rows.size > RECENT) {
      const last = body.lastElementChild;
      rows.delete(last.dataset.runId);
      last.remove();
    }
    empty.hidden = true;
  };
  for (const run of [...runs].reverse()) upsert(run);
  empty.hidden = rows.size > 0;
  onLeave(tickDurations(rows));
  live.add({
    message() {
      return { type: "subscribe_runs", sub: this.id, workflow: wf.slug };
    },
    onFrame(frame) {
      const found =
        frame.type === "runs_snapshot"
          ? frame.runs.map((r) => r.run)
          : frame.run
            ? [frame.run]
            : [];
      for (const run of found) {
        const known = rows.get(run.id)?.run;
        // The feed's copies carry no `usdEstimated`: keep the one the JSON API gave.
        upsert({ ...run, usdEstimated: run.usdEstimated ?? known?.usdEstimated ?? false });
      }
    },
  });

  // Source, read on its own route.
  const source = el("pre", { class: "source", id: "wf-source" }, el("code", { text: "Loading…" }));
  let sourceText = "";
  api("GET", `/api/workflows/${encodeURIComponent(wf.slug)}/source`)
    .then((data) => {
      sourceText = data.source;
      source.firstChild.textContent = data.source || "(empty)";
      source.dataset.loaded = "true";
    })
    .catch((err) => {
      source.firstChild.textContent = `${err.code ?? "ERROR"}: ${err.message}`;
    });

  // Versions, read on their own route: every deploy that changed the workflow, newest first.
  const versions = el(
    "ul",
    { class: "versions", id: "wf-versions" },
    el("li", { text: "Loading…" }),
  );
  api("GET", `/api/workflows/${encodeURIComponent(wf.slug)}/versions`)
    .then((data) => {
      clear(versions);
      for (const version of data.versions) {
        versions.append(
          el(
            "li",
            { class: "version-item", dataset: { number: String(version.number) } },
            el("strong", { text: `v${version.number}` }),
            version.current ? el("span", { class: "muted", text: " (current)" }) : null,
            " deployed ",
            relative(version.deployedAt),
            " · ",
            el("span", { class: "mono", title: version.hash, text: version.hash.slice(0, 12) }),
          ),
        );
      }
    })
    .catch((err) => {
      clear(versions);
      versions.append(el("li", { text: `${err.code ?? "ERROR"}: ${err.message}` }));
    });

  main.append(
    el(
      "div",
      { class: "wf-grid" },
      el(
        "section",
        { class: "panel" },
        el("h2", { text: "Triggers" }),
        triggers,
        el(
          "div",
          { class: "sub" },
          `Deployed ${relative(wf.createdAt)}, last updated ${relative(wf.updatedAt)}.`,
        ),
      ),
      el(
        "section",
        { class: "panel wf-manifest" },
        el("h2", { text: "Manifest" }),
        jsonView({ title: "manifest", value: wf.manifest, open: true, id: "wf-manifest" }),
        jsonView({ title: "config", value: wf.config, id: "wf-config" }),
      ),
    ),
    el(
      "section",
      { class: "panel" },
      el(
        "div",
        { class: "toolbar" },
        el("h2", { text: "Recent runs" }),
        el("a", { href: allRuns, text: "All runs →" }),
      ),
      table,
      empty,
    ),
    el("section", { class: "panel" }, el("h2", { text: "Versions" }), versions),
    el(
      "section",
      { class: "panel" },
      el(
        "div",
        { class: "toolbar" },
        el("h2", { text: "Source" }),
        copyButton(() => sourceText, { label: "Copy source", id: "copy-source" }),
      ),
      source,
    ),
  );
}
