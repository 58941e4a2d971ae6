// The MCP authorization page: start an OAuth grant for an MCP server and follow it.
import { api } from "./api.js";
import { clear, el, main, onLeave } from "./dom.js";

export function renderMcp() {
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
  onLeave(() => clearInterval(poll));
}
