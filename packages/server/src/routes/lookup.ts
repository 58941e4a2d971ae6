/**
 * The rows a path names: a run by id and a workflow by slug, each a 404 `NOT_FOUND` when the id or
 * slug is malformed or names nothing on this engine.
 */
import { HttpError } from "../internal/http.ts";
import { RUN_ID_PATTERN, SLUG_PATTERN } from "../internal/ids.ts";
import type { EngineApi, RunRow, WorkflowRow } from "../ports.ts";

/** The run `id` names, else 404. */
export async function requireRun(engine: EngineApi, id: string): Promise<RunRow> {
  const run = RUN_ID_PATTERN.test(id) ? await engine.getRun(id) : null;
  if (run === null) throw new HttpError(404, "NOT_FOUND", `Unknown run: ${id}`);
  return run;
}

/** The workflow `slug` names, else 404. */
export async function requireWorkflow(engine: EngineApi, slug: string): Promise<WorkflowRow> {
  const wf = SLUG_PATTERN.test(slug) ? await engine.getWorkflow(slug) : null;
  if (wf === null) {
    throw new HttpError(404, "NOT_FOUND", `Workflow "${slug}" is not deployed on this engine.`);
  }
  return wf;
}
