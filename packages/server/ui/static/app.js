// Promenade UI: plain ES module, no build step. Every value from the API is inserted with
// textContent or attribute setters, never as markup, and every URL segment is built with
// encodeURIComponent, so nothing a workflow prints can inject HTML or script.

import { TOKEN_KEY, token } from "./api.js";
import { beginRender, leavePage } from "./dom.js";
import { live } from "./live.js";
import { renderInbox } from "./page-inbox.js";
import { renderMcp } from "./page-mcp.js";
import { renderRunDetail } from "./page-run.js";
import { renderRuns } from "./page-runs.js";
import { renderWorkflow } from "./page-workflow.js";
import { renderWorkflows } from "./page-workflows.js";

const forget = document.getElementById("forget-token");

function refreshTokenControl() {
  forget.hidden = !token();
}

document.getElementById("token-form").addEventListener("submit", () => {
  const value = document.getElementById("token-input").value.trim();
  if (value) localStorage.setItem(TOKEN_KEY, value);
  refreshTokenControl();
  live.restart();
  route();
});

forget.addEventListener("click", () => {
  localStorage.removeItem(TOKEN_KEY);
  refreshTokenControl();
  live.restart();
  route();
});

function route() {
  beginRender();
  leavePage();
  live.removeAll();
  const hash = location.hash || "#/";
  const [path, queryString] = hash.slice(1).split("?");
  const query = new URLSearchParams(queryString ?? "");
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.remove("active");
  const runMatch = /^\/runs\/([^/]+)$/.exec(path);
  const workflowMatch = /^\/workflows\/([^/]+)$/.exec(path);
  let page;
  if (workflowMatch) {
    page = "workflows";
    renderWorkflow(decodeURIComponent(workflowMatch[1]));
  } else if (runMatch) {
    page = "runs";
    renderRunDetail(decodeURIComponent(runMatch[1]));
  } else if (path === "/runs") {
    page = "runs";
    renderRuns(query);
  } else if (path === "/inbox") {
    page = "inbox";
    renderInbox();
  } else if (path === "/mcp") {
    page = "mcp";
    renderMcp();
  } else {
    page = "workflows";
    renderWorkflows();
  }
  document.querySelector(`[data-nav="${page}"]`)?.classList.add("active");
}

refreshTokenControl();
window.addEventListener("hashchange", route);
route();
