// The "start a run" dialog.
import { api } from "./api.js";
import { pretty, runHref } from "./format.js";

const runDialog = document.getElementById("run-dialog");
let runDialogSlug = null;

export function openRunDialog(slug, input) {
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
