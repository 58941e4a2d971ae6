// Promenade run-log UI (spec 04 §4): plain ES module, no build step. Every value from the API is
// inserted with textContent or attribute setters, never as markup, and every URL segment is
// built with encodeURIComponent, so nothing a workflow prints can inject HTML or script.

const TOKEN_KEY = "promenade.apiToken";
const PROTOCOL = "promenade.events.v1";
const ACTIVE = ["queued", "pending", "running", "cancelling"];
const STATUSES = ["queued", "pending", "running", "cancelling", "completed", "failed", "cancelled"];
const CHANNELS = ["lifecycle", "phase", "output", "log", "agent"];
const MAX_ENTRIES = 10000;
const OUTPUT_PREVIEW_BYTES = 65536;

const main = document.getElementById("main");
const connBadge = document.getElementById("conn");

// ---------- small DOM helpers ------------------------------------------------------------------

/** Create an element; `attrs` are properties/attributes, children are nodes or text. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** `node.append` that skips null/undefined/false (DOM append would print them as text). */
function put(node, ...children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child);
  }
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function badge(status) {
  return el("span", { class: `badge ${status}`, dataset: { status }, text: status });
}

function pretty(value) {
  return JSON.stringify(value, null, 2);
}

function relative(ms) {
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

function timeEl(ms) {
  return el("span", { title: ms ? new Date(ms).toLocaleString() : "", text: relative(ms) });
}

function duration(run) {
  if (!run.startedAt) return "—";
  const end = run.endedAt ?? Date.now();
  const ms = Math.max(0, end - run.startedAt);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)}m ${Math.round((ms % 60000) / 1000)}s`;
}

function cost(usdMicros) {
  return `$${(usdMicros / 1e6).toFixed(4)}`;
}

function clock(t) {
  const d = new Date(t);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function runHref(id) {
  return `#/runs/${encodeURIComponent(id)}`;
}

// ---------- API and auth ----------------------------------------------------------------------

function token() {
  return localStorage.getItem(TOKEN_KEY);
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.hint = body?.error?.hint;
  }
}

async function api(method, path, body) {
  const headers = {};
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (res.status === 401) {
    askForToken();
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

function askForToken() {
  const dialog = document.getElementById("token-dialog");
  if (!dialog.open) dialog.showModal();
}

document.getElementById("token-form").addEventListener("submit", () => {
  const value = document.getElementById("token-input").value.trim();
  if (value) localStorage.setItem(TOKEN_KEY, value);
  refreshTokenControl();
  live.restart();
  route();
});

const forget = document.getElementById("forget-token");
forget.addEventListener("click", () => {
  localStorage.removeItem(TOKEN_KEY);
  refreshTokenControl();
  live.restart();
  route();
});

function refreshTokenControl() {
  forget.hidden = !token();
}

// ---------- the WebSocket connection ------------------------------------------------------------

function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** What the connection badge means, as its tooltip. */
const CONN_TITLES = {
  idle: "No live updates on this page",
  connected: "Live updates connected",
  "reconnecting…": "Connection lost; reconnecting",
};

/** One shared socket; subscriptions survive reconnects (resubscribed from their last cursor). */
const live = {
  ws: null,
  subs: new Map(),
  backoffMs: 1000,
  timer: null,
  nextId: 1,
  state: "idle",

  setState(state) {
    this.state = state;
    connBadge.textContent = state;
    connBadge.title = CONN_TITLES[state] ?? "Live connection";
    connBadge.className = `conn ${state.replace("…", "")}`;
    for (const sub of this.subs.values()) sub.onState?.(state);
  },

  connect() {
    if (this.ws) return;
    const protocols = [PROTOCOL];
    const t = token();
    if (t) protocols.push(`promenade.bearer.${base64url(t)}`);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/api/ws`, protocols);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.backoffMs = 1000;
      this.setState("connected");
      for (const sub of this.subs.values()) this.sendSubscribe(sub);
    });
    ws.addEventListener("message", (e) => this.onFrame(JSON.parse(e.data)));
    ws.addEventListener("close", () => {
      this.ws = null;
      if (this.subs.size === 0) {
        this.setState("idle");
        return;
      }
      this.setState("reconnecting…");
      const delay = Math.min(30000, this.backoffMs) * (0.75 + Math.random() * 0.5);
      this.backoffMs = Math.min(30000, this.backoffMs * 2);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, delay);
    });
  },

  restart() {
    if (this.ws) this.ws.close();
  },

  sendSubscribe(sub) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(sub.message()));
  },

  /** Register a subscription: `message()` builds the (re)subscribe message, `onFrame` gets frames. */
  add(sub) {
    sub.id = `s${this.nextId++}`;
    this.subs.set(sub.id, sub);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.sendSubscribe(sub);
    else this.connect();
    return sub.id;
  },

  remove(id) {
    if (!this.subs.delete(id)) return;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "unsubscribe", sub: id }));
    }
  },

  removeAll() {
    for (const id of [...this.subs.keys()]) this.remove(id);
  },

  onFrame(frame) {
    if (frame.type === "hello" || frame.type === "pong") return;
    const sub = this.subs.get(frame.sub);
    if (!sub) return;
    if (frame.type === "end") this.subs.delete(frame.sub);
    sub.onFrame(frame);
  },
};

// ---------- router ------------------------------------------------------------------------------

let teardown = () => {};

function route() {
  teardown();
  teardown = () => {};
  live.removeAll();
  const hash = location.hash || "#/";
  const [path, queryString] = hash.slice(1).split("?");
  const query = new URLSearchParams(queryString ?? "");
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.remove("active");
  const runMatch = /^\/runs\/([^/]+)$/.exec(path);
  let page;
  if (runMatch) {
    page = "runs";
    renderRunDetail(decodeURIComponent(runMatch[1]));
  } else if (path === "/runs") {
    page = "runs";
    renderRuns(query);
  } else if (path === "/mcp") {
    page = "mcp";
    renderMcp();
  } else {
    page = "workflows";
    renderWorkflows();
  }
  document.querySelector(`[data-nav="${page}"]`)?.classList.add("active");
}

function showError(err) {
  clear(main);
  put(
    main,
    el(
      "div",
      { class: "error-box" },
      `${err.code ?? "ERROR"}: ${err.message}`,
      err.hint ? el("div", { class: "muted", text: err.hint }) : null,
    ),
  );
}

// ---------- workflows page ----------------------------------------------------------------------

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

async function renderWorkflows() {
  let data;
  try {
    data = await api("GET", "/api/workflows");
  } catch (err) {
    showError(err);
    return;
  }
  clear(main);
  main.append(el("h1", { text: "Workflows" }));
  if (data.workflows.length === 0) {
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
        onclick: () => (location.hash = `#/runs?workflow=${encodeURIComponent(wf.slug)}`),
      },
      el(
        "td",
        {},
        el("strong", { class: "nowrap", text: wf.slug }),
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

// ---------- start dialog ------------------------------------------------------------------------

const runDialog = document.getElementById("run-dialog");
let runDialogSlug = null;

function openRunDialog(slug, input) {
  runDialogSlug = slug;
  document.getElementById("run-dialog-slug").textContent = slug;
  document.getElementById("run-input").value = pretty(input ?? {});
  document.getElementById("run-error").textContent = "";
  runDialog.showModal();
}

document.getElementById("run-cancel").addEventListener("click", () => runDialog.close());
document.getElementById("run-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const errorLine = document.getElementById("run-error");
  let input;
  try {
    input = JSON.parse(document.getElementById("run-input").value);
  } catch (err) {
    errorLine.textContent = `Input is not valid JSON: ${err.message}`;
    return;
  }
  try {
    const data = await api("POST", `/api/workflows/${encodeURIComponent(runDialogSlug)}/runs`, {
      input,
    });
    runDialog.close();
    location.hash = runHref(data.run.id);
  } catch (err) {
    errorLine.textContent = `${err.code ?? "ERROR"}: ${err.message}`;
  }
});

// ---------- runs page ---------------------------------------------------------------------------

async function renderRuns(query) {
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
      el("td", { text: cost(run.usdMicros) }),
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
  teardown = () => clearInterval(tick);

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
          upsert(run, !rows.has(run.id));
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
        upsert(frame.run, !rows.has(frame.runId));
      }
    },
  });
}

// ---------- run detail --------------------------------------------------------------------------

async function renderRunDetail(runId) {
  let run;
  let artifacts = [];
  try {
    run = (await api("GET", `/api/runs/${encodeURIComponent(runId)}`)).run;
    artifacts = (await api("GET", `/api/runs/${encodeURIComponent(runId)}/artifacts`)).artifacts;
  } catch (err) {
    showError(err);
    return;
  }
  clear(main);
  const header = el("div", { class: "panel", id: "run-header" });
  const phases = el("div", { class: "phases", id: "phases" });
  const cancelButton = el("button", {
    type: "button",
    class: "danger",
    id: "cancel-run",
    text: "Cancel",
  });
  const againButton = el("button", {
    type: "button",
    class: "secondary",
    id: "run-again",
    text: "Run again",
  });
  const stateLabel = el("span", { id: "log-state", class: "muted", text: "replaying" });
  const logBox = el("div", { class: "event-log", id: "log" });
  const jump = el("button", {
    type: "button",
    class: "secondary jump",
    text: "Jump to latest ↓",
    hidden: true,
  });
  const channelBoxes = CHANNELS.map((c) =>
    el("input", { type: "checkbox", value: c, checked: true, dataset: { channel: c } }),
  );
  const phaseNames = [];

  const renderHeader = () => {
    clear(header);
    const dl = el(
      "dl",
      { class: "kv" },
      el("dt", { text: "Run" }),
      el("dd", { class: "mono", text: run.id }),
      el("dt", { text: "Workflow" }),
      el(
        "dd",
        {},
        el("a", {
          href: `#/runs?workflow=${encodeURIComponent(run.workflowSlug ?? "")}`,
          text: run.workflowSlug ?? run.workflowId,
        }),
      ),
      el("dt", { text: "Status" }),
      el("dd", { id: "run-status" }, badge(run.status)),
      el("dt", { text: "Trigger" }),
      el("dd", { text: run.triggerKind }),
      el("dt", { text: "Created / started / ended" }),
      el("dd", {}, timeEl(run.createdAt), " / ", timeEl(run.startedAt), " / ", timeEl(run.endedAt)),
      el("dt", { text: "Duration" }),
      el("dd", { class: "duration", text: duration(run) }),
      el("dt", { text: "Tokens in / out" }),
      el("dd", { text: `${run.tokensIn} / ${run.tokensOut}` }),
      el("dt", { text: "Cost" }),
      el("dd", { text: cost(run.usdMicros) }),
      run.restarts > 0
        ? [el("dt", { text: "Restarts" }), el("dd", { text: String(run.restarts) })]
        : null,
      run.parentRunId
        ? [
            el("dt", { text: "Parent run" }),
            el(
              "dd",
              {},
              el("a", { class: "mono", href: runHref(run.parentRunId), text: run.parentRunId }),
            ),
          ]
        : null,
    );
    put(
      header,
      el(
        "div",
        { class: "toolbar" },
        el("h1", { text: `Run of ${run.workflowSlug ?? "workflow"}` }),
        cancelButton,
        againButton,
      ),
      dl,
      run.status === "failed" && run.error
        ? el("div", {
            class: "error-box",
            id: "run-error-box",
            text: `${run.error.code}: ${run.error.message}`,
          })
        : null,
      phases,
      el(
        "details",
        {},
        el("summary", { text: "Input" }),
        el("pre", { class: "json", text: pretty(run.input) }),
      ),
      el(
        "details",
        { open: run.output !== null, id: "run-output" },
        el("summary", { text: "Output" }),
        el("pre", { class: "json", text: pretty(run.output) }),
      ),
    );
    cancelButton.disabled = !["queued", "pending", "running"].includes(run.status);
    renderPhases();
  };

  const refreshRun = async () => {
    const data = await api("GET", `/api/runs/${encodeURIComponent(runId)}`).catch(() => null);
    if (data) {
      run = data.run;
      renderHeader();
    }
  };

  cancelButton.addEventListener("click", async () => {
    if (!confirm(`Cancel run ${run.id}?`)) return;
    cancelButton.disabled = true;
    await api("POST", `/api/runs/${encodeURIComponent(run.id)}/cancel`).catch((err) =>
      showError(err),
    );
  });
  againButton.addEventListener("click", () => openRunDialog(run.workflowSlug, run.input ?? {}));

  const artifactsPanel = el(
    "div",
    { class: "panel" },
    el("h2", { text: "Artifacts" }),
    artifacts.length === 0
      ? el("p", { class: "muted", text: "None." })
      : el(
          "table",
          {},
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              ["Name", "Type", "Size", ""].map((t) => el("th", { text: t })),
            ),
          ),
          el(
            "tbody",
            {},
            artifacts.map((a) =>
              el(
                "tr",
                {},
                el("td", { class: "mono", text: a.name }),
                el("td", { text: a.contentType }),
                el("td", { text: `${a.size} B` }),
                el("td", {}, el("a", { href: a.url, text: "download" })),
              ),
            ),
          ),
        ),
  );

  main.append(
    header,
    artifactsPanel,
    el("h2", { text: "Event log" }),
    el(
      "div",
      { class: "log-controls" },
      channelBoxes.map((box) => el("label", {}, box, ` ${box.value}`)),
      stateLabel,
    ),
    logBox,
    jump,
  );
  renderHeader();

  // ---- log rendering ----
  let lastCursor = 0;
  let caughtUp = 0;
  let entries = 0;
  let stick = true;
  const turns = new Map();
  let lastLog = null;

  logBox.addEventListener("scroll", () => {
    stick = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 8;
    jump.hidden = stick;
  });
  jump.addEventListener("click", () => {
    stick = true;
    logBox.scrollTop = logBox.scrollHeight;
    jump.hidden = true;
  });

  const addEntry = (kind, t, ...content) => {
    const entry = el(
      "div",
      { class: `entry ${kind}` },
      el("span", { class: "t", text: clock(t) }),
      el("div", { class: "body" }, ...content),
    );
    logBox.append(entry);
    entries++;
    if (entries > MAX_ENTRIES) {
      const first = logBox.querySelector(".entry");
      first?.remove();
      entries--;
      if (!logBox.querySelector(".notice.trimmed"))
        logBox.prepend(
          el("div", {
            class: "notice trimmed",
            text: "Older entries were removed (the log keeps the latest 10 000).",
          }),
        );
    }
    return entry;
  };

  const turnFor = (ev) => {
    let turn = turns.get(ev.turnId);
    if (!turn) {
      const title = el("summary", { text: "agent turn" });
      const body = el("div");
      const box = el("details", { class: "turn", open: true }, title, body);
      turn = { box, title, body, blocks: new Map(), tools: new Map(), reasoning: null };
      turns.set(ev.turnId, turn);
      addEntry("agent", ev.t, box);
    }
    return turn;
  };

  const toolFor = (turn, id, name) => {
    let tool = turn.tools.get(id);
    if (!tool) {
      const state = el("span", { class: "state pending", text: "pending" });
      const detail = el("div");
      const box = el(
        "div",
        { class: "tool" },
        el("span", { class: "name", text: name ?? id }),
        state,
        detail,
      );
      tool = { box, state, detail, partial: "" };
      turn.tools.set(id, tool);
      turn.body.append(box);
    }
    return tool;
  };

  const setToolState = (tool, state) => {
    tool.state.className = `state ${state}`;
    tool.state.textContent = state;
  };

  const render = (ev) => {
    switch (ev.kind) {
      case "run_status": {
        const content = [badge(ev.status)];
        if (ev.status === "failed" && ev.error)
          content.push(
            " ",
            el("span", { class: "error-text", text: `${ev.error.code}: ${ev.error.message}` }),
          );
        addEntry("status", ev.t, ...content);
        run.status = ev.status;
        void refreshRun();
        lastLog = null;
        break;
      }
      case "phase":
        phaseNames.push(ev.name);
        addEntry("phase", ev.t, `▸ ${ev.name}`);
        renderPhases();
        lastLog = null;
        break;
      case "output": {
        const json = pretty(ev.value);
        const pre = el("pre", {
          class: "json",
          text:
            json.length > OUTPUT_PREVIEW_BYTES ? `${json.slice(0, OUTPUT_PREVIEW_BYTES)}…` : json,
        });
        const more =
          json.length > OUTPUT_PREVIEW_BYTES
            ? el("button", {
                type: "button",
                class: "secondary",
                text: "show all",
                onclick: (e) => {
                  pre.textContent = json;
                  e.target.remove();
                },
              })
            : null;
        addEntry(
          "output",
          ev.t,
          el("div", { class: "output-block" }, el("strong", { text: "output" }), pre, more),
        );
        lastLog = null;
        break;
      }
      case "program_output": {
        // Chunks of one stream are joined and split on "\n"; a trailing newline adds no line.
        const pieces = ev.text.split("\n");
        const continuing = lastLog !== null && lastLog.stream === ev.stream;
        const body = continuing ? lastLog.body : addEntry("log", ev.t).querySelector(".body");
        let i = 0;
        let partial = null;
        if (continuing && lastLog.partial) {
          lastLog.partial.textContent += pieces[0];
          i = 1;
          if (pieces.length === 1) partial = lastLog.partial;
        }
        for (; i < pieces.length; i++) {
          const isLast = i === pieces.length - 1;
          if (isLast && pieces[i] === "") break;
          const line = el("div", { class: `line ${ev.stream}`, text: pieces[i] });
          body.append(line);
          if (isLast) partial = line;
        }
        lastLog = { stream: ev.stream, body, partial };
        break;
      }
      case "turn_started": {
        const turn = turnFor(ev);
        turn.title.textContent = `agent turn · ${ev.agentName ?? ev.agentId}`;
        lastLog = null;
        break;
      }
      case "text_start":
      case "text_delta":
      case "text_end": {
        const turn = turnFor(ev);
        let p = turn.blocks.get(ev.blockId);
        if (!p) {
          p = el("p", { class: "text" });
          turn.blocks.set(ev.blockId, p);
          turn.body.append(p);
        }
        if (ev.kind === "text_delta") p.textContent += ev.text;
        break;
      }
      case "reasoning_delta": {
        const turn = turnFor(ev);
        if (!turn.reasoning) {
          turn.reasoning = el("span", { class: "reasoning" });
          turn.body.append(el("details", {}, el("summary", { text: "reasoning" }), turn.reasoning));
        }
        turn.reasoning.textContent += ev.text;
        break;
      }
      case "tool_call_start":
        toolFor(turnFor(ev), ev.toolCallId, ev.toolName);
        break;
      case "tool_call_input_delta": {
        const tool = toolFor(turnFor(ev), ev.toolCallId);
        tool.partial += ev.partialJson;
        tool.detail.replaceChildren(el("pre", { class: "json", text: tool.partial }));
        break;
      }
      case "tool_call_input_complete": {
        const tool = toolFor(turnFor(ev), ev.toolCallId);
        tool.detail.replaceChildren(el("pre", { class: "json", text: pretty(ev.input) }));
        break;
      }
      case "tool_call_executing":
        setToolState(toolFor(turnFor(ev), ev.toolCallId), "running");
        break;
      case "tool_call_result": {
        const tool = toolFor(turnFor(ev), ev.toolCallId);
        setToolState(tool, "ok");
        put(
          tool.detail,
          el("div", { text: ev.result?.humanSummary ?? ev.result?.kind ?? "done" }),
          ev.result?.data
            ? el(
                "details",
                {},
                el("summary", { text: "data" }),
                el("pre", { class: "json", text: pretty(ev.result.data) }),
              )
            : null,
        );
        break;
      }
      case "tool_call_error": {
        const tool = toolFor(turnFor(ev), ev.toolCallId);
        setToolState(tool, "error");
        tool.detail.append(
          el("div", { class: "error-text", text: `${ev.error.code}: ${ev.error.message}` }),
        );
        break;
      }
      case "turn_ended": {
        const turn = turnFor(ev);
        const usage = ev.usage
          ? ` · tokens ${ev.usage.inputTokens ?? 0} in / ${ev.usage.outputTokens ?? 0} out`
          : "";
        turn.body.append(
          el(
            "div",
            { class: "footer", text: `ended: ${ev.reason}${usage}` },
            ev.error
              ? el("div", { class: "error-text", text: `${ev.error.code}: ${ev.error.message}` })
              : null,
          ),
        );
        break;
      }
      default:
        addEntry("other", ev.t ?? Date.now(), el("code", { text: JSON.stringify(ev) }));
    }
    if (stick) {
      logBox.scrollTop = logBox.scrollHeight;
      jump.hidden = true;
    }
  };

  function renderPhases() {
    clear(phases);
    phaseNames.forEach((name, i) => {
      const current = i === phaseNames.length - 1 && ACTIVE.includes(run.status);
      phases.append(el("span", { class: current ? "chip current" : "chip", text: name }));
    });
  }

  const setLogState = (text) => {
    stateLabel.textContent = text;
    stateLabel.dataset.state = text;
  };

  let subId = null;
  const subscribe = () => {
    const channels = channelBoxes.filter((b) => b.checked).map((b) => b.value);
    if (channels.length === 0) {
      setLogState("no channels selected");
      return;
    }
    setLogState("replaying");
    subId = live.add({
      message() {
        return {
          type: "subscribe",
          sub: this.id,
          runId,
          after: Math.max(lastCursor, caughtUp),
          channels,
        };
      },
      onState(state) {
        if (state.startsWith("reconnecting")) setLogState("reconnecting…");
      },
      onFrame(frame) {
        if (frame.type === "event") {
          if (frame.cursor <= lastCursor) return;
          lastCursor = frame.cursor;
          render(frame.event);
        } else if (frame.type === "caught_up") {
          caughtUp = Math.max(caughtUp, frame.cursor);
          setLogState("live");
        } else if (frame.type === "end") {
          setLogState("finished");
          void refreshRun();
        } else if (frame.type === "error") {
          setLogState(`error: ${frame.message}`);
        }
      },
    });
  };
  for (const box of channelBoxes) {
    box.addEventListener("change", () => {
      if (subId) live.remove(subId);
      clear(logBox);
      turns.clear();
      phaseNames.length = 0;
      lastCursor = 0;
      caughtUp = 0;
      entries = 0;
      lastLog = null;
      subscribe();
    });
  }
  subscribe();

  const tick = setInterval(() => {
    if (ACTIVE.includes(run.status)) {
      const d = header.querySelector(".duration");
      if (d) d.textContent = duration(run);
    }
  }, 1000);
  teardown = () => clearInterval(tick);
}

// ---------- MCP authorization page --------------------------------------------------------------

function renderMcp() {
  clear(main);
  const input = el("input", {
    type: "url",
    id: "mcp-url",
    placeholder: "https://mcp.example.com/mcp",
    size: 50,
    required: true,
  });
  const status = el("div", { id: "mcp-status" });
  const start = el("button", { type: "submit", text: "Authorize" });
  const form = el("form", { class: "toolbar", id: "mcp-form" }, input, start);
  let poll = null;
  const show = (item) => {
    clear(status);
    status.append(
      el(
        "p",
        {},
        "Server ",
        el("code", { text: item.serverUrl }),
        " — ",
        el("strong", { dataset: { state: item.status }, text: item.status.replace("_", " ") }),
      ),
    );
    if (item.status === "awaiting_user" && item.authorizationUrl) {
      status.append(
        el("p", {
          text: "Open this URL in a browser on the machine running the server, approve access, and this page will update:",
        }),
        el(
          "div",
          { class: "url-box" },
          el("a", {
            href: item.authorizationUrl,
            target: "_blank",
            rel: "noopener noreferrer",
            text: item.authorizationUrl,
          }),
        ),
      );
    }
    if (item.status === "authorized")
      status.append(
        el("p", {
          text: "The grant is stored. Runs that use this MCP server will authenticate headlessly.",
        }),
      );
    if (item.status === "failed" && item.error)
      status.append(
        el("div", { class: "error-box", text: `${item.error.code}: ${item.error.message}` }),
      );
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    start.disabled = true;
    clear(status);
    status.append(el("p", { class: "muted", text: "Starting authorization…" }));
    try {
      const data = await api("POST", "/api/mcp/authorizations", { url: input.value });
      show(data.authorization);
      const id = data.authorization.id;
      poll = setInterval(async () => {
        const next = await api("GET", `/api/mcp/authorizations/${encodeURIComponent(id)}`).catch(
          () => null,
        );
        if (!next) return;
        show(next.authorization);
        if (next.authorization.status === "authorized" || next.authorization.status === "failed") {
          clearInterval(poll);
          start.disabled = false;
        }
      }, 1500);
    } catch (err) {
      clear(status);
      status.append(
        el("div", { class: "error-box", text: `${err.code ?? "ERROR"}: ${err.message}` }),
      );
      start.disabled = false;
    }
  });
  main.append(
    el("h1", { text: "Authorize an MCP server" }),
    el("p", {
      class: "muted",
      text: "For MCP servers protected by OAuth. The server runs the authorization flow and stores the grant; tokens are never shown here.",
    }),
    form,
    status,
  );
  teardown = () => clearInterval(poll);
}

// ---------- boot ----------------------------------------------------------------------------------

refreshTokenControl();
window.addEventListener("hashchange", route);
route();
