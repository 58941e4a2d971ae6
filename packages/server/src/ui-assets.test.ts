/**
 * The UI is plain static files served from an allow-list (spec 04 §4.1, acceptance 60). If the
 * static check breaks, some UI code can turn workflow output into markup (stored XSS).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadUiAssets, uiDirectory } from "./ui-assets.ts";

describe("ui assets", () => {
  it("loads index.html, app.js and app.css with content types and strong etags", () => {
    const assets = loadUiAssets();
    expect([...assets.keys()].sort()).toEqual(["app.css", "app.js", "index.html"]);
    expect(assets.get("app.js")?.contentType).toBe("text/javascript; charset=utf-8");
    expect(assets.get("index.html")?.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
  });

  it("never builds markup from strings and talks to /api/ws over WebSocket", () => {
    for (const name of ["index.html", "app.js", "app.css"]) {
      const text = readFileSync(`${uiDirectory()}/${name}`, "utf8");
      for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"]) {
        expect(text.includes(sink), `${name} uses ${sink}`).toBe(false);
      }
    }
    const app = readFileSync(`${uiDirectory()}/app.js`, "utf8");
    expect(app).toContain("/api/ws");
    expect(app).toContain("WebSocket");
    expect(app).toContain("encodeURIComponent");
  });
});
