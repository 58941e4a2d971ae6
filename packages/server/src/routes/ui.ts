/**
 * The UI routes: `GET /` (the run-log UI's `index.html`) and `GET /ui/:file` (its other assets),
 * served from the assets loaded at start with their ETags (a matching `If-None-Match` is a 304).
 */
import { HttpError, pathnameOf } from "../internal/http.ts";
import type { Handler } from "../pipeline/route.ts";
import { UI_HEADERS } from "../ui-assets.ts";
import type { UiAsset } from "../ui-assets.ts";

/**
 * The handler serving the asset named by the route's parameter, or `name` for a route without
 * one; an unknown asset is a 404.
 */
export function uiFileRoute(assets: ReadonlyMap<string, UiAsset>, name: string): Handler {
  return ({ req, res, params }) => {
    const asset = assets.get(params[0] ?? name);
    if (asset === undefined)
      throw new HttpError(404, "NOT_FOUND", `No such route: ${pathnameOf(req.url ?? "/")}`);
    if (req.headers["if-none-match"] === asset.etag) {
      res.writeHead(304, { ...UI_HEADERS, etag: asset.etag });
      res.end();
      return;
    }
    res.writeHead(200, {
      ...UI_HEADERS,
      "content-type": asset.contentType,
      "content-length": String(asset.body.length),
      etag: asset.etag,
    });
    res.end(asset.body);
  };
}
