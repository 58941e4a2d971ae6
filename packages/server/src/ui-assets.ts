/**
 * The run-log UI assets: the hand-written files of the package's `ui/static/` directory, read once
 * into memory at server start. The set of servable names is fixed then (an allow-list: no directory
 * listing, no path joins at request time).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One in-memory asset. */
export interface UiAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** The CSP and frame headers every UI response carries. */
export const UI_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
};

/** The directory the assets ship in (`<package>/ui/static`, from `src/` or `dist/`). */
export function uiDirectory(): string {
  return fileURLToPath(new URL("../ui/static/", import.meta.url));
}

/** Load every servable file (by extension) of `dir` into memory. */
export function loadUiAssets(dir: string = uiDirectory()): Map<string, UiAsset> {
  const assets = new Map<string, UiAsset>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const ext = /\.[a-z]+$/.exec(entry.name)?.[0] ?? "";
    const contentType = TYPES[ext];
    if (contentType === undefined) continue;
    const body = readFileSync(`${dir}/${entry.name}`);
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    assets.set(entry.name, { body, contentType, etag });
  }
  return assets;
}
