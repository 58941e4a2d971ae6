// Copy to the clipboard: a button that copies a text and says so. Uses the async Clipboard API
// where the page may (a secure context: https or loopback), else a hidden selection.
import { el } from "./dom.js";

async function writeText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = el("textarea", { class: "copy-buffer", readonly: true });
  area.value = text;
  document.body.append(area);
  area.select();
  try {
    if (!document.execCommand("copy")) throw new Error("copy refused");
  } finally {
    area.remove();
  }
}

/** A button copying `text()` (a function, read at click time); `data-copied` is set once done. */
export function copyButton(text, { label = "Copy", id } = {}) {
  const button = el("button", { type: "button", class: "secondary copy", text: label, id });
  let timer = null;
  button.addEventListener("click", async () => {
    try {
      await writeText(text());
      button.textContent = "Copied";
      button.dataset.copied = "true";
    } catch {
      button.textContent = "Copy failed";
      button.dataset.copied = "false";
    }
    clearTimeout(timer);
    timer = setTimeout(() => (button.textContent = label), 1500);
  });
  return button;
}
