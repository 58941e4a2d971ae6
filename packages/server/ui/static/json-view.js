// A JSON viewer: the value pretty-printed (2 spaces) in a collapsible block, with a Copy button
// for the exact JSON text (inside the block, so clicking it never folds the block).
import { el } from "./dom.js";
import { copyButton } from "./copy.js";
import { pretty } from "./format.js";

/** `{ title, value, open?, id? }` → a `<details>` with the JSON and a copy button. */
export function jsonView({ title, value, open = false, id }) {
  const text = pretty(value) ?? "null";
  return el(
    "details",
    { class: "json-view", open, id },
    el("summary", { text: title }),
    el(
      "div",
      { class: "json-body" },
      copyButton(() => text, { label: "Copy" }),
      el("pre", { class: "json", text }),
    ),
  );
}
