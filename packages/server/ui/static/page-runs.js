// The runs page: search by run id, workflow, status chips and a creation-date range (all kept in
// the URL, filtered by the server), one page of runs at a time with newer/older paging, and live
// updates over the runs feed (new runs appear on the first page; listed rows update in place).
import { api } from "./api.js";
import { clear, el, main, onLeave, renderGuard, showError } from "./dom.js";
import { ACTIVE, STATUSES } from "./format.js";
import { live } from "./live.js";
import { runRow, runsTable, tickDurations } from "./runs-table.js";

const PAGE_SIZES = [25, 50, 100];
const RUN_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const DAY_MS = 86_400_000;
/** Cursors of the pages before the current one, per filter set (for "newer"). */
const PAGES_KEY = "promenade.runPages";

/** `YYYY-MM-DD` (local) → epoch ms of that local midnight, or null. */
function localMidnight(day) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day ?? "")) return null;
  const [y, m, d] = day.split("-").map(Number);
  const ms = new Date(y, m - 1, d).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** The run id in a pasted id or run URL, upper-cased; null when there is none. */
function runIdIn(text) {
  const match = /[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}/.exec(text.trim());
  const id = match?.[0].toUpperCase();
  return id && RUN_ID.test(id) ? id : null;
}

function filtersOf(query) {
  const size = Number(query.get("size"));
  return {
    workflow: query.get("workflow") ?? "",
    statuses: (query.get("status") ?? "").split(",").filter((s) => STATUSES.includes(s)),
    from: query.get("from") ?? "",
    to: query.get("to") ?? "",
    id: query.get("id") ?? "",
    size: PAGE_SIZES.includes(size) ? size : 50,
    before: query.get("before") ?? "",
    page: Math.max(1, Number(query.get("page")) || 1),
  };
}

function hashOf(f) {
  const q = new URLSearchParams();
  if (f.id) q.set("id", f.id);
  if (f.workflow) q.set("workflow", f.workflow);
  if (f.statuses.length) q.set("status", f.statuses.join(","));
  if (f.from) q.set("from", f.from);
  if (f.to) q.set("to", f.to);
  if (f.size !== 50) q.set("size", String(f.size));
  if (f.before) {
    q.set("before", f.before);
    q.set("page", String(f.page));
  }
  const qs = q.toString();
  return qs ? `#/runs?${qs}` : "#/runs";
}

/** The filter set without its page (the key of its page cursors). */
function filterKey(f) {
  return hashOf({ ...f, before: "", page: 1 });
}

function savedCursors(key) {
  try {
    const all = JSON.parse(sessionStorage.getItem(PAGES_KEY) ?? "{}");
    return Array.isArray(all[key]) ? all[key] : [];
  } catch {
    return [];
  }
}

function saveCursors(key, cursors) {
  try {
    sessionStorage.setItem(PAGES_KEY, JSON.stringify({ [key]: cursors }));
  } catch {
    // Storage full or disabled: "newer" then goes back to the first page.
  }
}

export async function renderRuns(query) {
  // The address this render answers; when the router begins another render, or the address has
  // already changed (its hashchange not yet dispatched), while this one waits for the API, the
  // newer render owns the page and this one draws nothing more.
  const hash = location.hash;
  const stale = renderGuard();
  const overtaken = () => stale() || location.hash !== hash;
  const f = filtersOf(query);
  const since = localMidnight(f.from);
  const untilDay = localMidnight(f.to);
  // The "to" day is included: runs created before the next local midnight.
  const until = untilDay === null ? null : untilDay + DAY_MS;
  let workflows;
  try {
    workflows = (await api("GET", "/api/workflows")).workflows;
  } catch (err) {
    if (!overtaken()) showError(err);
    return;
  }
  if (overtaken()) return;
  clear(main);
  const go = (patch) => (location.hash = hashOf({ ...f, before: "", page: 1, ...patch }));

  // Search by run id.
  const search = el("input", {
    type: "search",
    id: "run-search",
    placeholder: "Run id (paste an id or a run link)",
    value: f.id,
    autocomplete: "off",
    spellcheck: "false",
  });
  const searchForm = el(
    "form",
    { class: "run-search", id: "run-search-form" },
    search,
    el("button", { type: "submit", text: "Find" }),
  );
  const searchNote = el("span", { class: "muted", id: "run-search-note" });
  searchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = search.value.trim();
    if (text === "") return go({ id: "" });
    const id = runIdIn(text);
    if (id === null) {
      searchNote.textContent =
        "A run id has 26 letters and digits (e.g. 01JDA7Q3M8X2ZC4K9T5VQW1HNB).";
      return;
    }
    go({ id });
  });

  // Workflow, statuses, dates, page size.
  const wfSelect = el(
    "select",
    { id: "filter-workflow" },
    el("option", { value: "", text: "all workflows" }),
    workflows.map((w) =>
      el("option", { value: w.slug, text: w.slug, selected: w.slug === f.workflow }),
    ),
  );
  wfSelect.addEventListener("change", () => go({ workflow: wfSelect.value }));
  const chips = el(
    "div",
    { class: "chips", id: "status-chips", role: "group", "aria-label": "Statuses" },
    STATUSES.map((s) => {
      const on = f.statuses.includes(s);
      return el(
        "button",
        {
          type: "button",
          class: `chip ${s}${on ? " on" : ""}`,
          "aria-pressed": on ? "true" : "false",
          dataset: { status: s },
          onclick: () =>
            go({ statuses: on ? f.statuses.filter((x) => x !== s) : [...f.statuses, s] }),
        },
        el("span", { class: `dot ${s}` }),
        s.replace("_", " "),
      );
    }),
    f.statuses.length
      ? el("button", {
          type: "button",
          class: "chip clear",
          id: "status-clear",
          text: "any status",
          onclick: () => go({ statuses: [] }),
        })
      : null,
  );
  const fromInput = el("input", { type: "date", id: "filter-from", value: f.from });
  const toInput = el("input", { type: "date", id: "filter-to", value: f.to });
  fromInput.addEventListener("change", () => go({ from: fromInput.value }));
  toInput.addEventListener("change", () => go({ to: toInput.value }));
  const sizeSelect = el(
    "select",
    { id: "page-size" },
    PAGE_SIZES.map((n) => el("option", { value: String(n), text: `${n}`, selected: n === f.size })),
  );
  sizeSelect.addEventListener("change", () => go({ size: Number(sizeSelect.value) }));
  const filtered = f.workflow || f.statuses.length || f.from || f.to;
  main.append(
    el("div", { class: "toolbar page-head" }, el("h1", { text: "Runs" }), searchForm, searchNote),
    el(
      "div",
      { class: "filters-bar" },
      el("label", {}, "Workflow ", wfSelect),
      el(
        "label",
        { class: "dates" },
        "Created ",
        fromInput,
        el("span", { class: "muted", text: "to" }),
        toInput,
      ),
      filtered
        ? el("button", {
            type: "button",
            class: "secondary",
            id: "filters-clear",
            text: "Clear filters",
            onclick: () => (location.hash = hashOf({ ...filtersOf(new URLSearchParams()) })),
          })
        : null,
    ),
    chips,
  );

  const table = runsTable("runs");
  // Which address this list answers: a list still loading for an older address is never taken
  // for the current one.
  table.dataset.hash = hash;
  const body = table.tBodies[0];
  const empty = el("p", { class: "muted", id: "runs-empty", hidden: true });
  const newer = el("button", { type: "button", class: "secondary", id: "page-newer" }, "← Newer");
  const older = el("button", { type: "button", class: "secondary", id: "page-older" }, "Older →");
  const pageLabel = el("span", { class: "muted", id: "page-label" });
  const pager = el(
    "div",
    { class: "pager" },
    newer,
    pageLabel,
    older,
    el("label", { class: "muted" }, "per page ", sizeSelect),
  );
  main.append(table, empty, pager);
  const rows = new Map();
  const cursors = new Map();

  // One run by id.
  if (f.id) {
    pager.hidden = true;
    const data = await api("GET", `/api/runs/${encodeURIComponent(f.id)}`).catch((err) => {
      if (err.status === 404) return null;
      if (!overtaken()) showError(err);
      return undefined;
    });
    if (data === undefined || overtaken()) return;
    if (data === null) {
      empty.textContent = `No run with id ${f.id}.`;
      empty.hidden = false;
    } else {
      const tr = runRow(data.run);
      rows.set(data.run.id, tr);
      body.append(tr);
    }
    table.dataset.loaded = "true";
    main.append(el("p", {}, el("a", { href: "#/runs", text: "← All runs" })));
    return;
  }

  // One page of the filtered list.
  const key = filterKey(f);
  let stack = f.before ? savedCursors(key) : [];
  const q = new URLSearchParams({ limit: String(f.size) });
  if (f.workflow) q.set("workflow", f.workflow);
  if (f.statuses.length) q.set("status", f.statuses.join(","));
  if (since !== null) q.set("since", String(since));
  if (until !== null) q.set("until", String(until));
  if (f.before) q.set("before", f.before);
  let data;
  try {
    data = await api("GET", `/api/runs?${q}`);
  } catch (err) {
    if (!overtaken()) showError(err);
    return;
  }
  if (overtaken()) return;
  let next = data.nextCursor;
  for (const run of data.runs) {
    const tr = runRow(run);
    rows.set(run.id, tr);
    body.append(tr);
  }
  const renderPager = () => {
    const first = (f.page - 1) * f.size + 1;
    pageLabel.textContent =
      rows.size === 0 ? `page ${f.page}` : `page ${f.page} · ${first}–${first + rows.size - 1}`;
    newer.disabled = !f.before;
    older.disabled = next === null;
    if (rows.size === 0) {
      empty.textContent = filtered ? "No runs match these filters." : "No runs yet.";
      empty.hidden = false;
    } else empty.hidden = true;
  };
  renderPager();
  table.dataset.loaded = "true";
  older.addEventListener("click", () => {
    if (next === null) return;
    saveCursors(key, [...stack, f.before]);
    location.hash = hashOf({ ...f, before: next, page: f.page + 1 });
  });
  newer.addEventListener("click", () => {
    const previous = stack.at(-1);
    stack = stack.slice(0, -1);
    saveCursors(key, stack);
    // Without the saved cursors (a reloaded tab) newer goes back to the first page.
    location.hash =
      previous && f.page > 2
        ? hashOf({ ...f, before: previous, page: f.page - 1 })
        : hashOf({ ...f, before: "", page: 1 });
  });
  onLeave(tickDurations(rows));

  // Live: rows update in place; new matching runs join the first page.
  const matches = (run) =>
    (!f.workflow || run.workflowSlug === f.workflow) &&
    (f.statuses.length === 0 || f.statuses.includes(run.status)) &&
    (since === null || run.createdAt >= since) &&
    (until === null || run.createdAt < until);
  // The feed's copies of a run carry no `usdEstimated` (the JSON API adds it): keep the last
  // known one, and read the run once more when its cost may have changed.
  const fromFeed = (run) => {
    if (run.usdEstimated !== undefined) return run;
    const known = rows.get(run.id)?.run;
    const merged = { ...run, usdEstimated: known?.usdEstimated ?? false };
    if (run.usdMicros > 0 && (known === undefined || known.usdMicros !== run.usdMicros)) {
      api("GET", `/api/runs/${encodeURIComponent(run.id)}`)
        .then((fresh) => {
          const current = rows.get(run.id)?.run;
          if (current && current.usdMicros === fresh.run.usdMicros) upsert(fresh.run);
        })
        .catch(() => {});
    }
    return merged;
  };
  const upsert = (run) => {
    const old = rows.get(run.id);
    if (!matches(run)) {
      // A listed run that left the status filter leaves the page.
      if (old && f.statuses.length > 0) {
        old.remove();
        rows.delete(run.id);
        renderPager();
      }
      return;
    }
    const tr = runRow(run);
    if (old) {
      old.replaceWith(tr);
      rows.set(run.id, tr);
      return;
    }
    if (f.before) return; // only the first page grows
    body.prepend(tr);
    rows.set(run.id, tr);
    while (rows.size > f.size) {
      const last = body.lastElementChild;
      rows.delete(last.dataset.runId);
      last.remove();
      next = body.lastElementChild?.dataset.runId ?? next;
    }
    renderPager();
  };
  live.add({
    message() {
      return f.workflow
        ? { type: "subscribe_runs", sub: this.id, workflow: f.workflow }
        : { type: "subscribe_runs", sub: this.id };
    },
    onFrame: async (frame) => {
      if (frame.type === "runs_snapshot") {
        for (const { run, cursor } of frame.runs) {
          cursors.set(run.id, cursor);
          upsert(fromFeed(run));
        }
        if (frame.resync) {
          const activeIds = new Set(frame.runs.map((r) => r.run.id));
          for (const tr of [...rows.values()]) {
            if (!ACTIVE.includes(tr.run.status) || activeIds.has(tr.run.id)) continue;
            const fresh = await api("GET", `/api/runs/${encodeURIComponent(tr.run.id)}`).catch(
              () => null,
            );
            if (fresh) upsert(fresh.run);
          }
        }
      } else if (frame.type === "run") {
        if ((cursors.get(frame.runId) ?? 0) >= frame.cursor) return;
        cursors.set(frame.runId, frame.cursor);
        upsert(fromFeed(frame.run));
      }
    },
  });
}
