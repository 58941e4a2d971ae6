// The answer form of one human-input request, rendered from its answer form — free text, one
// choice with "Other…", several choices with their min/max — and posting `{ value }` to the
// run's inputs route. The engine checks the answer; its message is shown when it is refused.
import { api } from "./api.js";
import { el } from "./dom.js";

/** A `<form>` answering `request`; `onAnswered(row)` runs once the answer was accepted. */
export function inputForm(request, { onAnswered } = {}) {
  const spec = request.inputSpec ?? { kind: "text" };
  const error = el("p", { class: "error-text", role: "alert" });
  const submit = el("button", { type: "submit", class: "answer", text: "Send answer" });
  const name = `answer-${request.id}`;
  let fields;
  let read;
  if (spec.kind === "choice" || spec.kind === "multiselect") {
    const multi = spec.kind === "multiselect";
    const type = multi ? "checkbox" : "radio";
    const allowOther = spec.allowOther !== false;
    const otherLabel = spec.otherLabel ?? "Other…";
    const boxes = (spec.options ?? []).map((option) => el("input", { type, name, value: option }));
    const otherBox = allowOther ? el("input", { type, name, value: "", class: "other" }) : null;
    const otherText = allowOther
      ? el("input", { type: "text", class: "other-text", "aria-label": otherLabel })
      : null;
    otherText?.addEventListener("input", () => {
      if (otherText.value !== "") otherBox.checked = true;
    });
    const limits = [];
    if (multi && spec.min !== undefined) limits.push(`at least ${spec.min}`);
    if (multi && spec.max !== undefined) limits.push(`at most ${spec.max}`);
    fields = el(
      "div",
      { class: "options" },
      boxes.map((box) => el("label", { class: "option" }, box, ` ${box.value}`)),
      allowOther ? el("label", { class: "option" }, otherBox, ` ${otherLabel} `, otherText) : null,
      limits.length > 0
        ? el("p", { class: "muted", text: `Select ${limits.join(" and ")}.` })
        : null,
    );
    read = () => {
      if (!multi) {
        if (otherBox?.checked) return { value: otherText.value, isOther: true };
        const picked = boxes.find((box) => box.checked);
        if (picked === undefined) throw new Error("Pick one of the options.");
        return { value: picked.value, isOther: false };
      }
      const value = { values: boxes.filter((box) => box.checked).map((box) => box.value) };
      if (otherBox?.checked && otherText.value !== "") value.other = otherText.value;
      return value;
    };
  } else {
    const attrs = { class: "answer-text", placeholder: spec.placeholder, "aria-label": "Answer" };
    fields = spec.multiline
      ? el("textarea", { ...attrs, rows: 4 })
      : el("input", { ...attrs, type: "text" });
    read = () => ({ value: fields.value });
  }
  const form = el(
    "form",
    { class: "input-form", dataset: { key: request.key, requestId: request.id } },
    el("p", { class: "prompt", text: request.prompt }),
    fields,
    el("div", { class: "toolbar" }, submit),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    let value;
    try {
      value = read();
    } catch (err) {
      error.textContent = err.message;
      return;
    }
    submit.disabled = true;
    const path = `/api/runs/${encodeURIComponent(request.runId)}/inputs/${encodeURIComponent(request.key)}`;
    try {
      const data = await api("POST", path, { value });
      onAnswered?.(data.request);
    } catch (err) {
      error.textContent = `${err.code ?? "ERROR"}: ${err.message}`;
      submit.disabled = false;
    }
  });
  return form;
}
