/**
 * The workflow routes: `GET /api/workflows` (every deployed workflow's summary, plus the
 * workflows-directory files that were not deployed when the server reports them),
 * `GET /api/workflows/:slug` (one workflow's detail), `GET /api/workflows/:slug/source` (its
 * program) and `GET /api/workflows/:slug/versions` (its versions, newest first). Deploying is
 * `deploy.ts`.
 */
import { sendJson } from "../internal/http.ts";
import type { EngineApi } from "../ports.ts";
import { workflowDetail, workflowSummary } from "../project.ts";
import type { Handler } from "../pipeline/route.ts";
import type { SkippedWorkflowFile } from "../server.ts";
import { requireWorkflow } from "./lookup.ts";
import { projectVersions } from "./versions.ts";

/** What the workflow routes need besides the engine. */
export interface WorkflowRouteOptions {
  /** The workflows-directory files not deployed, read per request; absent: no `skipped`. */
  skippedWorkflows?: (() => readonly SkippedWorkflowFile[]) | undefined;
}

/** The handlers of the workflow routes over `engine`. */
export function workflowRoutes(
  engine: EngineApi,
  options: WorkflowRouteOptions = {},
): { list: Handler; get: Handler; versions: Handler; source: Handler } {
  const list: Handler = async ({ res }) => {
    const rows = await engine.listWorkflows();
    sendJson(res, 200, {
      workflows: await Promise.all(rows.map((wf) => workflowSummary(engine, wf))),
      ...(options.skippedWorkflows === undefined ? {} : { skipped: options.skippedWorkflows() }),
    });
  };

  const get: Handler = async ({ res, params }) => {
    const wf = await requireWorkflow(engine, params[0] ?? "");
    sendJson(res, 200, { workflow: await workflowDetail(engine, wf) });
  };

  const versions: Handler = async ({ res, params }) => {
    const wf = await requireWorkflow(engine, params[0] ?? "");
    sendJson(res, 200, { versions: projectVersions(await engine.listWorkflowVersions(wf.id)) });
  };

  const source: Handler = async ({ res, params }) => {
    const wf = await requireWorkflow(engine, params[0] ?? "");
    sendJson(res, 200, { slug: wf.slug, updatedAt: wf.updatedAt, source: wf.program });
  };

  return { list, get, versions, source };
}
