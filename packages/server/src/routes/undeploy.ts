/**
 * `DELETE /api/workflows/:slug`: undeploys a workflow. It leaves `GET /api/workflows`, new runs
 * of it (API, webhook, cron, `workflows.call`) are refused as not found, and runs already started
 * finish on their version; its runs, events, versions and artifacts are kept and stay readable
 * (`GET /api/runs/:id`). Answers 200 `{ workflow }` (the summary with `undeployedAt`), 404 when
 * no workflow is deployed under the slug, 403 `DEPLOY_DISABLED` when deploys over the API are
 * off (the workflows directory is then the only source of deploys), and 400 `UNSUPPORTED` for an
 * engine without undeploy. Deploying the slug again re-activates it under the same id.
 */
import { HttpError, sendJson } from "../internal/http.ts";
import type { Handler } from "../pipeline/route.ts";
import type { EngineApi } from "../ports.ts";
import { workflowSummary } from "../project.ts";

/** The undeploy handler over `engine`; `deployApi: false` refuses it like a deploy. */
export function undeployRoute(engine: EngineApi, options: { deployApi: boolean }): Handler {
  return async ({ res, params }) => {
    if (!options.deployApi) {
      throw new HttpError(
        403,
        "DEPLOY_DISABLED",
        "Undeploying workflows over the API is disabled on this server.",
        "Unset PROMENADE_API_DEPLOY or set it to 1 to allow deploys and undeploys over the API.",
      );
    }
    if (engine.undeployWorkflow === undefined) {
      throw new HttpError(
        400,
        "UNSUPPORTED",
        "Undeploying workflows is not available on this server.",
        "Embedders pass an engine with undeployWorkflow(slug); promenade-server always has one.",
      );
    }
    const row = await engine.undeployWorkflow(params[0] ?? "");
    sendJson(res, 200, {
      workflow: { ...(await workflowSummary(engine, row)), undeployedAt: row.undeployedAt },
    });
  };
}
