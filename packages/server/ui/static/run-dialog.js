// The "start a run" dialog.
import { api } from "./api.js";
import { pretty, runHref } from "./format.js";

const runDialog = document.getElementById("run-dialog");
let runDialogSlug = null;
// One Idempotency-Key per run request: a resubmit of the same input (after a lost answer) gets
// the run the first submit started instead of a second one; editing the input makes a new request.
let runRequestKey = "";

function newRequestKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

document.getElementById("run-input").addEventListener("input", () => {
  runRequestKey = newRequestKey();
});

export function openRunDialog(slug, input) {
  runDialogSlug = slug;
  runRequestKey = newRequestKey();
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
    const data = await api(
      "POST",
      `/api/workflows/${encodeURIComponent(runDialogSlug)}/runs`,
      { input },
      { "idempotency-key": runRequestKey },
    );
    runDialog.close();
    location.hash = runHref(data.run.id);
  } catch (err) {
    errorLine.textContent = `${err.code ?? "ERROR"}: ${err.message}`;
  }
});
