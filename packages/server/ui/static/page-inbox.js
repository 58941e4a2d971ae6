// The inbox: every pending human-input request across runs (prompt, workflow, age), each with
// its answer form. Live: the list is re-read whenever a run starts or stops waiting (the runs
// feed), so a request appears as soon as it is asked and leaves once answered anywhere.
import { api } from "./api.js";
import { clear, el, main, onLeave, showError } from "./dom.js";
import { runHref, timeEl } from "./format.js";
import { inputForm } from "./input-form.js";
import { live } from "./live.js";

export async function renderInbox() {
  clear(main);
  const list = el("div", { id: "inbox" });
  const empty = el("p", {
    class: "muted",
    id: "inbox-empty",
    text: "Nobody is waiting for an answer.",
    hidden: true,
  });
  main.append(el("h1", { text: "Inbox" }), empty, list);
  // Cards by request id: a card stays in place (and keeps what was typed) across reloads.
  const cards = new Map();
  const update = () => {
    empty.hidden = cards.size > 0;
  };

  const card = (request, run) => {
    const node = el(
      "div",
      {
        class: "panel inbox-item",
        dataset: { requestId: request.id, runId: request.runId, key: request.key },
      },
      el(
        "div",
        { class: "toolbar" },
        el("strong", { class: "workflow", text: run?.workflowSlug ?? "workflow" }),
        el("a", { class: "mono", href: runHref(request.runId), text: request.runId }),
        el("span", { class: "muted" }, "asked ", timeEl(request.createdAt)),
        request.expiresAt
          ? el("span", { class: "muted" }, "times out ", timeEl(request.expiresAt))
          : null,
      ),
      inputForm(request, {
        onAnswered: () => {
          node.remove();
          cards.delete(request.id);
          update();
        },
      }),
    );
    return node;
  };

  let loading = false;
  let again = false;
  const load = async () => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      const data = await api("GET", "/api/inputs");
      const pending = new Set(data.inputs.map((request) => request.id));
      for (const [id, node] of cards) {
        if (!pending.has(id)) {
          node.remove();
          cards.delete(id);
        }
      }
      // Newest first: new requests are the newest, so each goes on top (oldest new one first).
      for (const request of [...data.inputs].reverse()) {
        if (cards.has(request.id)) continue;
        const node = card(request, data.runs?.[request.runId]);
        cards.set(request.id, node);
        list.prepend(node);
      }
      update();
    } catch (err) {
      showError(err);
    } finally {
      loading = false;
      if (again) {
        again = false;
        void load();
      }
    }
  };
  await load();

  live.add({
    message() {
      return { type: "subscribe_runs", sub: this.id };
    },
    onFrame: (frame) => {
      if (frame.type === "run" || frame.type === "runs_snapshot") void load();
    },
  });
  // A safety net for answers and timeouts that change no run status the feed reports.
  const poll = setInterval(() => void load(), 15000);
  onLeave(() => clearInterval(poll));
}
