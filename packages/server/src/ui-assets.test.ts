/**
 * The UI is plain static files served from an allow-list. If the static check breaks, some UI code
 * can turn workflow output into markup (stored XSS).
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadUiAssets, uiDirectory } from "./ui-assets.ts";

describe("ui assets", () => {
  it("loads the page, its ES modules, the stylesheet and the favicon with types and strong etags", () => {
    const assets = loadUiAssets();
    expect([...assets.keys()].sort()).toEqual([
      "api.js",
      "app.css",
      "app.js",
      "copy.js",
      "dom.js",
      "favicon.svg",
      "format.js",
      "index.html",
      "input-form.js",
      "json-view.js",
      "live.js",
      "page-inbox.js",
      "page-mcp.js",
      "page-run.js",
      "page-runs.js",
      "page-workflow.js",
      "page-workflows.js",
      "run-dialog.js",
      "runs-table.js",
      "timeline.js",
    ]);
    expect(assets.get("app.js")?.contentType).toBe("text/javascript; charset=utf-8");
    expect(assets.get("favicon.svg")?.contentType).toBe("image/svg+xml");
    expect(assets.get("index.html")?.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
  });

  it("never builds markup from strings and talks to /api/ws over WebSocket", () => {
    const names = readdirSync(uiDirectory()).filter((n) => /\.(html|js|css|svg)$/.test(n));
    for (const name of names) {
      const text = readFileSync(`${uiDirectory()}/${name}`, "utf8");
      for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"]) {
        expect(text.includes(sink), `${name} uses ${sink}`).toBe(false);
      }
      // The CSP forbids inline style attributes: styles are set through the CSSOM.
      if (name.endsWith(".js")) expect(text, name).not.toMatch(/setAttribute\(\s*"style"/);
    }
    const live = readFileSync(`${uiDirectory()}/live.js`, "utf8");
    expect(live).toContain("/api/ws");
    expect(live).toContain("WebSocket");
    for (const name of [
      "page-run.js",
      "page-runs.js",
      "page-workflow.js",
      "runs-table.js",
      "timeline.js",
      "input-form.js",
    ]) {
      expect(readFileSync(`${uiDirectory()}/${name}`, "utf8")).toContain("encodeURIComponent");
    }
  });

  it("imports only sibling modules that exist (no build step resolves them)", () => {
    const names = new Set(readdirSync(uiDirectory()));
    for (const name of names) {
      if (!name.endsWith(".js")) continue;
      const text = readFileSync(`${uiDirectory()}/${name}`, "utf8");
      for (const match of text.matchAll(/from "([^"]+)"/g)) {
        const target = match[1] ?? "";
        expect(target, `${name} imports ${target}`).toMatch(/^\.\/[a-z-]+\.js$/);
        expect(names.has(target.slice(2)), `${name} imports missing ${target}`).toBe(true);
      }
    }
  });
});
