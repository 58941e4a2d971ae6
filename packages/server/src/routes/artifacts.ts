/**
 * The artifact routes: `GET /api/runs/:id/artifacts` (the latest version of each artifact a run
 * wrote) and `GET /api/runs/:id/artifacts/:name` (its bytes). A file is served only from inside
 * the run's artifacts directory and never through a symbolic link; anything else is the same 404
 * as an unknown name. Bytes are an attachment unless `inline=true` asks for one of the few types a
 * browser shows safely, and always under a sandboxing content security policy.
 */
import { lstatSync, readFileSync, realpathSync } from "node:fs";
import { sep } from "node:path";
import { HttpError, sendJson } from "../internal/http.ts";
import type { Handler } from "../pipeline/route.ts";
import type { EngineApi } from "../ports.ts";
import { latestArtifacts, projectArtifact } from "../project.ts";
import { requireRun } from "./lookup.ts";

const INLINE_TYPES = new Set([
  "text/plain",
  "application/json",
  "application/pdf",
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
]);

/** The handlers of the artifact routes over `engine`; a file not served is logged. */
export function artifactRoutes(
  engine: EngineApi,
  log: (line: string) => void,
): { list: Handler; get: Handler } {
  const list: Handler = async ({ res, params }) => {
    const run = await requireRun(engine, params[0] ?? "");
    sendJson(res, 200, {
      artifacts: latestArtifacts(await engine.listArtifacts(run.id)).map(projectArtifact),
    });
  };

  const get: Handler = async ({ res, params, query }) => {
    const run = await requireRun(engine, params[0] ?? "");
    const name = params[1] ?? "";
    const missing = new HttpError(404, "NOT_FOUND", `Unknown artifact: ${name.slice(0, 255)}`);
    if (!validArtifactName(name)) throw missing;
    const row = latestArtifacts(await engine.listArtifacts(run.id)).find((a) => a.name === name);
    if (row === undefined) throw missing;
    let bytes: Buffer;
    try {
      const dir = realpathSync(engine.artifactsDir(run.id));
      if (lstatSync(row.path).isSymbolicLink()) throw new Error("symlink");
      const real = realpathSync(row.path);
      if (!real.startsWith(dir + sep)) throw new Error("outside the artifacts directory");
      bytes = readFileSync(real);
    } catch (err) {
      log(
        `artifact ${JSON.stringify(name)} of run ${run.id} not served: ${err instanceof Error ? err.message : String(err)}`,
      );
      throw missing;
    }
    const type = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(;.*)?$/i.test(row.contentType)
      ? row.contentType
      : "application/octet-stream";
    const baseType = type.split(";")[0]?.trim().toLowerCase() ?? "";
    const inline = query.get("inline") === "true" && INLINE_TYPES.has(baseType);
    const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
    res.writeHead(200, {
      "content-type": type,
      "content-length": String(bytes.length),
      "content-disposition": `${inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      "x-content-type-options": "nosniff",
      "content-security-policy": "sandbox; default-src 'none'",
      "cache-control": "no-store",
    });
    res.end(bytes);
  };

  return { list, get };
}

/** An artifact name: one decoded segment, 1–255 UTF-8 bytes, no separators, NUL, controls or `..`. */
function validArtifactName(name: string): boolean {
  const bytes = Buffer.byteLength(name);
  if (bytes < 1 || bytes > 255) return false;
  if (name === "." || name.includes("..")) return false;
  // eslint-disable-next-line no-control-regex
  return !/[/\\\u0000-\u001f\u007f]/.test(name);
}
