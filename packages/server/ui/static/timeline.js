// The run timeline: a waterfall of the run's trace (GET /api/runs/:id/trace). One row per span,
// nested by parent, bars placed on a shared time axis; zoom with the buttons or by double-clicking
// a bar; click a bar for its details. Child runs link to their own page and expand in place.
// While the run is active the trace is re-read whenever its events arrive over the WebSocket.
import { api } from "./api.js";
import { clear, el, put } from "./dom.js";
import { ACTIVE, clock, cost, costEl, ms, runHref } from "./format.js";
import { live } from "./live.js";

const KIND_LABELS = {
  run: "run",
  pass: "pass",
  phase: "phase",
  agent_turn: "agent",
  model_call: "model",
  tool_call: "tool",
  mcp_call: "mcp",
  child_run: "child",
  summary: "more",
};
const REASONS = {
  first_start: "first start",
  crash_restart: "crash restart",
  engine_restart: "engine restart",
  failover: "failover",
  retry: "retry",
};
const TERMINAL_STATUSES = ["completed", "failed", "cancelled"];
/** Re-reads of an incomplete (very long) trace in one load, at most. */
const MAX_CONTINUATIONS = 20;

function tokensText(a) {
  const parts = [];
  if (a.inputTokens !== undefined) parts.push(`in ${a.inputTokens}`);
  if (a.outputTokens !== undefined) parts.push(`out ${a.outputTokens}`);
  if (a.cacheReadTokens) parts.push(`cached ${a.cacheReadTokens}`);
  if (a.cacheCreationTokens) parts.push(`cache write ${a.cacheCreationTokens}`);
  if (a.reasoningTokens) parts.push(`reasoning ${a.reasoningTokens}`);
  if (a.tokensIn !== undefined) parts.push(`in ${a.tokensIn}`, `out ${a.tokensOut}`);
  return parts.join(" · ");
}

function costNode(a) {
  if (a.usdMicros === undefined) return null;
  return costEl(a.usdMicros, a.estimated === true);
}

/** What a row says after its name: duration, reason, tokens, cost. */
function metaText(span, now) {
  const end = span.endedAt ?? now;
  const parts = [span.endedAt === null ? `${ms(end - span.startedAt)}…` : ms(end - span.startedAt)];
  const a = span.attributes;
  const idle = a.tokensIn === 0 && a.tokensOut === 0 && a.usdMicros === 0;
  const tokens = idle ? "" : tokensText(a);
  if (tokens) parts.push(tokens);
  if (a.usdMicros !== undefined && !idle) {
    parts.push(cost(a.usdMicros, a.estimated === true));
  }
  if (span.kind === "summary") parts.push(`${span.attributes.collapsed} spans folded`);
  if (span.status !== "ok" && span.status !== "running") parts.push(span.status);
  return parts.join(" · ");
}

/**
 * Build the timeline of one run. `getRunStatus()` tells whether the run is still active;
 * `onChange()` is called after each re-read (the page refreshes its header then).
 */
export function createTimeline(runId, { getRunStatus, onChange } = {}) {
  const state = {
    spans: [],
    coverage: null,
    collapsed: new Set(),
    childTraces: new Map(),
    view: null,
    selected: null,
    loading: null,
    again: false,
  };

  const summary = el("span", { class: "tl-summary", id: "tl-summary" });
  const zoomIn = el("button", { type: "button", class: "secondary", text: "+", title: "Zoom in" });
  const zoomOut = el("button", {
    type: "button",
    class: "secondary",
    text: "-",
    title: "Zoom out",
  });
  const fit = el("button", { type: "button", class: "secondary", text: "Fit", id: "tl-fit" });
  const axis = el("div", { class: "tl-axis" }, el("div"), el("div", { class: "tl-track" }));
  const rows = el("div", { class: "tl-rows", id: "tl-rows" });
  const detail = el("div", { class: "tl-detail", id: "tl-detail", hidden: true });
  const root = el(
    "div",
    { class: "timeline", id: "timeline" },
    el(
      "div",
      { class: "tl-toolbar" },
      zoomIn,
      zoomOut,
      fit,
      el("span", { class: "muted", text: "double-click a bar to zoom to it" }),
      summary,
    ),
    axis,
    rows,
    detail,
  );

  const extent = () => {
    const now = Date.now();
    let t0 = Infinity;
    let t1 = -Infinity;
    for (const span of allSpans()) {
      t0 = Math.min(t0, span.startedAt);
      t1 = Math.max(t1, span.endedAt ?? now);
    }
    if (!Number.isFinite(t0)) return { t0: now - 1000, t1: now };
    return { t0, t1: Math.max(t1, t0 + 1) };
  };

  const zoom = (factor) => {
    const { t0, t1 } = state.view ?? extent();
    const mid = (t0 + t1) / 2;
    const half = Math.max(1, ((t1 - t0) / 2) * factor);
    state.view = { t0: mid - half, t1: mid + half };
    render();
  };
  zoomIn.addEventListener("click", () => zoom(0.5));
  zoomOut.addEventListener("click", () => zoom(2));
  fit.addEventListener("click", () => {
    state.view = null;
    render();
  });

  /** Spans of this run plus those of expanded child runs (ids prefixed by the child run id). */
  function allSpans() {
    const out = [...state.spans];
    for (const spans of state.childTraces.values()) out.push(...spans);
    return out;
  }

  function childTree() {
    const kids = new Map();
    for (const span of allSpans()) {
      const list = kids.get(span.parentId) ?? [];
      list.push(span);
      kids.set(span.parentId, list);
    }
    for (const list of kids.values()) list.sort((a, b) => a.startedAt - b.startedAt);
    return kids;
  }

  async function toggleChild(span) {
    const childId = span.attributes.childRunId;
    if (state.childTraces.has(childId)) {
      state.childTraces.delete(childId);
      render();
      return;
    }
    try {
      const trace = await api("GET", `/api/runs/${encodeURIComponent(childId)}/trace`);
      const rootId = trace.spans.find((s) => s.parentId === null)?.id;
      state.childTraces.set(
        childId,
        trace.spans
          .filter((s) => s.parentId !== null)
          .map((s) => ({
            ...s,
            id: `${childId}|${s.id}`,
            parentId: s.parentId === rootId ? span.id : `${childId}|${s.parentId}`,
          })),
      );
    } catch {
      state.childTraces.set(childId, []);
    }
    render();
  }

  function showDetail(span) {
    state.selected = span.id;
    clear(detail);
    detail.hidden = false;
    const end = span.endedAt;
    const items = [
      ["kind", span.kind],
      ["status", span.status],
      ["started", clock(span.startedAt)],
      ["ended", end === null ? "still open" : clock(end)],
      ["duration", ms((end ?? Date.now()) - span.startedAt)],
    ];
    for (const [key, value] of Object.entries(span.attributes)) {
      if (key === "usdMicros") items.push(["cost", costNode(span.attributes)]);
      else if (key.endsWith("At") && typeof value === "number") items.push([key, clock(value)]);
      else if (key === "reason" && span.kind === "pass") items.push([key, REASONS[value] ?? value]);
      else items.push([key, String(value)]);
    }
    put(
      detail,
      el("strong", { text: span.name }),
      span.kind === "child_run"
        ? el(
            "a",
            { href: runHref(span.attributes.childRunId), class: "tl-open-child" },
            "open child run →",
          )
        : null,
      el(
        "dl",
        {},
        items.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]),
      ),
    );
    for (const row of rows.querySelectorAll(".tl-row.selected")) row.classList.remove("selected");
    rows.querySelector(`[data-span-id="${CSS.escape(span.id)}"]`)?.classList.add("selected");
  }

  function render() {
    const now = Date.now();
    const full = extent();
    const { t0, t1 } = state.view ?? full;
    const range = t1 - t0;
    const pct = (t) => ((t - t0) / range) * 100;
    const kids = childTree();
    const boundaries = allSpans()
      .filter((s) => s.kind === "pass" && s.attributes.attempt > 1)
      .map((s) => ({ at: s.startedAt, reason: s.attributes.reason }));

    // Axis: five ticks relative to the view's start.
    const axisTrack = axis.lastChild;
    clear(axisTrack);
    for (let i = 0; i <= 4; i++) {
      const at = (i / 4) * 100;
      axisTrack.append(
        el("span", {
          style: { left: `${Math.min(96, Math.max(3, at))}%` },
          text: `+${ms((i / 4) * range + (t0 - full.t0))}`,
        }),
      );
    }

    const scroll = rows.scrollTop;
    clear(rows);
    const walk = (parentId, depth) => {
      for (const span of kids.get(parentId) ?? []) {
        const hasKids = (kids.get(span.id) ?? []).length > 0;
        const isChildRun = span.kind === "child_run";
        const expandable = hasKids || isChildRun;
        const open = isChildRun
          ? state.childTraces.has(span.attributes.childRunId)
          : !state.collapsed.has(span.id);
        const toggle = el("span", {
          class: "tl-toggle",
          text: expandable ? (open ? "▾" : "▸") : "",
          dataset: expandable ? { toggle: span.id } : {},
          onclick: () => {
            if (isChildRun) void toggleChild(span);
            else if (hasKids) {
              if (state.collapsed.has(span.id)) state.collapsed.delete(span.id);
              else state.collapsed.add(span.id);
              render();
            }
          },
        });
        const name = isChildRun
          ? el("a", {
              class: "tl-name child-link",
              href: runHref(span.attributes.childRunId),
              text: `${span.name} · ${span.attributes.childRunId}`,
            })
          : el("span", { class: "tl-name", text: span.name });
        const label = el(
          "div",
          { class: "tl-label", style: { paddingLeft: `calc(${depth} * var(--indent))` } },
          toggle,
          el("span", {
            class: `tl-kind k-${span.kind}`,
            text: KIND_LABELS[span.kind] ?? span.kind,
          }),
          name,
          span.kind === "pass"
            ? el("span", {
                class: `tl-reason ${span.attributes.reason}`,
                text: REASONS[span.attributes.reason] ?? String(span.attributes.reason),
              })
            : null,
          el("span", { class: "tl-meta", text: metaText(span, now) }),
        );
        const end = span.endedAt ?? now;
        const left = pct(span.startedAt);
        const width = Math.max(0, pct(end) - left);
        const track = el("div", { class: "tl-track" });
        for (const b of boundaries) {
          const at = pct(b.at);
          if (at >= 0 && at <= 100)
            track.append(el("div", { class: "tl-boundary", style: { left: `${at}%` } }));
        }
        const duration = ms(end - span.startedAt);
        const bar = el(
          "div",
          {
            class: `tl-bar k-${span.kind} s-${span.status}${span.endedAt === null ? " open" : ""}`,
            style: { left: `${left}%`, width: `${width}%` },
            title: `${span.name}: ${duration} (${span.status})`,
            dataset: { spanId: span.id, kind: span.kind, status: span.status },
            onclick: () => showDetail(span),
            ondblclick: () => {
              const pad = Math.max(1, (end - span.startedAt) * 0.05);
              state.view = { t0: span.startedAt - pad, t1: end + pad };
              render();
            },
          },
          width >= 6 ? el("span", { class: "tl-dur", text: duration }) : null,
        );
        track.append(bar);
        if (width < 6 && left + width < 90) {
          track.append(
            el("span", {
              class: "tl-bar-label",
              style: { left: `calc(${left + width}% + 4px)` },
              text: duration,
            }),
          );
        }
        rows.append(
          el(
            "div",
            {
              class: `tl-row${state.selected === span.id ? " selected" : ""}`,
              dataset: {
                spanId: span.id,
                kind: span.kind,
                status: span.status,
                depth: String(depth),
              },
            },
            label,
            track,
          ),
        );
        if (expandable && open) walk(span.id, depth + 1);
      }
    };
    walk(null, 0);
    rows.scrollTop = scroll;

    const c = state.coverage;
    const parts = [];
    if (c) {
      parts.push(`${state.spans.length} spans from ${c.eventsScanned} events`);
      if (!c.complete) parts.push("reading more…");
      if (c.summarised) parts.push(`${c.summarised.collapsed} spans folded`);
    }
    const t = state.totals;
    if (t && t.modelCalls > 0) {
      parts.push(
        `${t.modelCalls} model call${t.modelCalls === 1 ? "" : "s"} ${cost(t.usdMicros, t.estimatedUsdMicros > 0)}`,
      );
    }
    summary.textContent = parts.join(" · ");
    root.dataset.complete = String(c?.complete ?? false);
    root.dataset.runId = runId;
  }

  async function read() {
    let trace = await api("GET", `/api/runs/${encodeURIComponent(runId)}/trace`);
    for (let i = 0; !trace.coverage.complete && i < MAX_CONTINUATIONS; i++) {
      state.spans = trace.spans;
      state.coverage = trace.coverage;
      render();
      trace = await api("GET", `/api/runs/${encodeURIComponent(runId)}/trace`);
    }
    state.spans = trace.spans;
    state.coverage = trace.coverage;
    state.totals = trace.totals;
    render();
    onChange?.(trace);
    return trace;
  }

  /** Re-read now, or once more after the read in flight (never two reads at once). */
  function refresh() {
    if (state.loading) {
      state.again = true;
      return state.loading;
    }
    state.loading = read()
      .catch((err) => {
        summary.textContent = `${err.code ?? "ERROR"}: ${err.message}`;
      })
      .finally(() => {
        state.loading = null;
        if (state.again) {
          state.again = false;
          refresh();
        }
      });
    return state.loading;
  }

  let subId = null;
  let throttle = null;
  const follow = (after) => {
    if (subId !== null) return;
    subId = live.add({
      message() {
        return {
          type: "subscribe",
          sub: this.id,
          runId,
          after,
          channels: ["lifecycle", "phase", "agent"],
        };
      },
      onFrame(frame) {
        if (frame.type === "event") {
          after = Math.max(after, frame.cursor);
          if (throttle === null) {
            throttle = setTimeout(() => {
              throttle = null;
              refresh();
            }, 250);
          }
        } else if (frame.type === "end") {
          subId = null;
          refresh();
        }
      },
    });
  };

  // Open bars grow with the clock; child runs appear on the periodic re-read.
  let ticks = 0;
  const ticker = setInterval(() => {
    if (!ACTIVE.includes(getRunStatus?.() ?? "completed")) return;
    render();
    if (++ticks % 3 === 0) refresh();
  }, 1000);

  return {
    element: root,
    async start() {
      const trace = await refresh();
      const status = getRunStatus?.();
      if (status && !TERMINAL_STATUSES.includes(status)) {
        follow(state.coverage?.lastCursor ?? 0);
      }
      return trace;
    },
    refresh,
    destroy() {
      clearInterval(ticker);
      if (throttle !== null) clearTimeout(throttle);
      if (subId !== null) live.remove(subId);
    },
  };
}
