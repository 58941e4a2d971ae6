// The run page: header, artifacts, the trace timeline and the live event log.
import { api } from "./api.js";
import { badge, clear, el, main, onLeave, put, renderGuard, showError } from "./dom.js";
import { ACTIVE, clock, costEl, duration, pretty, runHref, timeEl } from "./format.js";
import { live } from "./live.js";
import { openRunDialog } from "./run-dialog.js";
import { inputForm } from "./input-form.js";
import { jsonView } from "./json-view.js";
import { createTimeline } from "./timeline.js";

const CHANNELS = ["lifecycle", "phase", "output", "log", "agent"];
const VIEW_KEY = "promenade.runView";
const MAX_ENTRIES = 10000;
const OUTPUT_PREVIEW_BYTES = 65536;

export async function renderRunDetail(runId) {
  const stale = renderGuard();
  let run;
  let artifacts = [];
  try {
    run = (await api("GET", `/api/runs/${encodeURIComponent(runId)}`)).run;
    artifacts = (await api("GET", `/api/runs/${encodeURIComponent(runId)}/artifacts`)).artifacts;
  } catch (err) {
    if (!stale()) showError(err);
    return;
  }
  if (stale()) return;
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
      run.version != null
        ? [el("dt", { text: "Version" }), el("dd", { id: "run-version", text: `v${run.version}` })]
        : null,
      run.nodeId != null
        ? [el("dt", { text: "Node" }), el("dd", { id: "run-node", text: run.nodeId })]
        : null,
      el("dt", { text: "Created / started / ended" }),
      el("dd", {}, timeEl(run.createdAt), " / ", timeEl(run.startedAt), " / ", timeEl(run.endedAt)),
      el("dt", { text: "Duration" }),
      el("dd", { class: "duration", text: duration(run) }),
      el("dt", { text: "Tokens in / out" }),
      el("dd", { text: `${run.tokensIn} / ${run.tokensOut}` }),
      el("dt", { text: "Cost" }),
      el("dd", { id: "run-cost" }, costEl(run.usdMicros, run.usdEstimated === true)),
      run.restarts > 0
        ? [el("dt", { text: "Restarts" }), el("dd", { text: String(run.restarts) })]
        : null,
      run.retries > 0
        ? [
            el("dt", { text: "Retries" }),
            el("dd", {
              id: "run-retries",
              text:
                run.retryAt != null
                  ? `${run.retries} (next attempt at ${new Date(run.retryAt).toLocaleTimeString()})`
                  : String(run.retries),
            }),
          ]
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
        ? el(
            "div",
            { class: "error-box", id: "run-error-box" },
            el("div", {
              text: `${run.error.code}: ${run.error.name && run.error.name !== "Error" ? `${run.error.name}: ` : ""}${run.error.message}`,
            }),
            run.error.stack
              ? el(
                  "details",
                  { class: "error-stack", id: "run-error-stack" },
                  el("summary", { text: "Stack trace" }),
                  el("pre", { text: run.error.stack }),
                )
              : null,
          )
        : null,
      phases,
      jsonView({ title: "Input", value: run.input, id: "run-input-json" }),
      jsonView({ title: "Output", value: run.output, open: run.output !== null, id: "run-output" }),
    );
    cancelButton.disabled = ![
      "queued",
      "pending",
      "running",
      "awaiting_input",
      "waiting_for_child",
    ].includes(run.status);
    renderPhases();
  };

  const refreshRun = async () => {
    const data = await api("GET", `/api/runs/${encodeURIComponent(runId)}`).catch(() => null);
    if (data) {
      run = data.run;
      renderHeader();
    }
  };

  // Human input: the pending requests with their answer forms, then the answered history.
  const inputsPanel = el("div", { class: "panel", id: "run-inputs", hidden: true });
  const pendingForms = new Map();
  let inputsLoading = null;
  const refreshInputs = async () => {
    if (inputsLoading) return inputsLoading;
    inputsLoading = (async () => {
      const data = await api("GET", `/api/runs/${encodeURIComponent(runId)}/inputs`).catch(
        () => null,
      );
      if (!data) return;
      const pending = data.inputs.filter((request) => request.status === "pending");
      const answered = data.inputs.filter((request) => request.status !== "pending");
      inputsPanel.hidden = data.inputs.length === 0;
      // A pending form stays the same node (and keeps what was typed) while still pending.
      const forms = pending.map((request) => {
        const form =
          pendingForms.get(request.id) ??
          inputForm(request, { onAnswered: () => void refreshInputs() });
        return form;
      });
      pendingForms.clear();
      pending.forEach((request, i) => pendingForms.set(request.id, forms[i]));
      const history = answered.map((request) =>
        el(
          "tr",
          { dataset: { key: request.key, status: request.status } },
          el("td", { class: "mono", text: request.key }),
          el("td", { text: request.prompt }),
          el("td", {}, badge(request.status)),
          el("td", {}, el("code", { text: JSON.stringify(request.response) })),
          el("td", { class: "muted", text: request.respondedBy ?? "" }),
          el("td", {}, timeEl(request.respondedAt)),
        ),
      );
      inputsPanel.replaceChildren(
        el("h2", { text: "Human input" }),
        ...forms,
        ...(history.length === 0
          ? []
          : [
              el(
                "table",
                { id: "input-history" },
                el(
                  "thead",
                  {},
                  el(
                    "tr",
                    {},
                    ["Key", "Prompt", "Status", "Answer", "By", "When"].map((t) =>
                      el("th", { text: t }),
                    ),
                  ),
                ),
                el("tbody", {}, history),
              ),
            ]),
      );
    })();
    try {
      await inputsLoading;
    } finally {
      inputsLoading = null;
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

  // The timeline first; the flat event log one click away.
  const timeline = createTimeline(runId, { getRunStatus: () => run.status });
  onLeave(() => timeline.destroy());
  const logSection = el(
    "section",
    { id: "log-section", hidden: true },
    el(
      "div",
      { class: "log-controls" },
      channelBoxes.map((box) => el("label", {}, box, ` ${box.value}`)),
      stateLabel,
    ),
    logBox,
    jump,
  );
  const timelineSection = el("section", { id: "timeline-section" }, timeline.element);
  const tabs = el("div", { class: "tabs", role: "tablist" });
  const show = (view) => {
    for (const b of tabs.children) b.setAttribute("aria-selected", String(b.id === `tab-${view}`));
    timelineSection.hidden = view !== "timeline";
    logSection.hidden = view !== "log";
  };
  const tab = (view, label) =>
    el("button", {
      type: "button",
      role: "tab",
      id: `tab-${view}`,
      text: label,
      onclick: () => {
        // The choice is remembered for the next run page opened in this browser.
        localStorage.setItem(VIEW_KEY, view);
        show(view);
      },
    });
  tabs.append(tab("timeline", "Timeline"), tab("log", "Event log"));
  show(localStorage.getItem(VIEW_KEY) === "log" ? "log" : "timeline");

  main.append(header, inputsPanel, tabs, timelineSection, logSection, artifactsPanel);
  renderHeader();
  void refreshInputs();
  void timeline.start();

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
      box.dataset.toolCallId = id;
      tool = { box, state, detail, partial: "", output: null };
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
        void refreshInputs();
        lastLog = null;
        break;
      }
      case "human_input_requested":
        addEntry("status", ev.t, `asked a person (${ev.key}): ${ev.prompt}`);
        void refreshInputs();
        lastLog = null;
        break;
      case "human_input_resolved":
        addEntry("status", ev.t, `human input ${ev.key} closed`);
        void refreshInputs();
        lastLog = null;
        break;
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
      case "tool_output_delta": {
        // A running tool's output as it is produced (stdout and stderr interleaved in order);
        // it stays under the tool once the result arrives.
        const tool = toolFor(turnFor(ev), ev.toolCallId);
        if (!tool.output) {
          tool.output = el("pre", { class: "tool-output" });
          tool.box.append(tool.output);
        }
        const last = tool.output.lastElementChild;
        if (last && last.dataset.stream === ev.stream) last.textContent += ev.text;
        else {
          tool.output.append(
            el("span", { class: ev.stream, dataset: { stream: ev.stream }, text: ev.text }),
          );
        }
        if (tool.output.scrollHeight > tool.output.clientHeight) {
          tool.output.scrollTop = tool.output.scrollHeight;
        }
        break;
      }
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
      case "model_call": {
        const turn = turnFor(ev);
        const u = ev.usage ?? {};
        const parts = [`model ${ev.model}`, `${ev.endedAt - ev.startedAt} ms`];
        if (ev.usage) parts.push(`${u.inputTokens ?? 0} in / ${u.outputTokens ?? 0} out`);
        if (u.cacheReadTokens) parts.push(`${u.cacheReadTokens} cached`);
        if (u.reasoningTokens) parts.push(`${u.reasoningTokens} reasoning`);
        turn.body.append(
          el(
            "div",
            { class: "model-call" },
            parts.join(" · "),
            ev.usdMicros === undefined ? null : " · ",
            ev.usdMicros === undefined ? null : costEl(ev.usdMicros, ev.estimated === true),
            ev.error
              ? el("div", { class: "error-text", text: `${ev.error.code}: ${ev.error.message}` })
              : null,
          ),
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
  onLeave(() => clearInterval(tick));
}
