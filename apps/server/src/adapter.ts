/**
 * The `EngineApi` the server needs, over a real `Engine` (spec 04 §0.2): a plain adapter with no
 * logic. Engine methods for writes, events and paths; `engine.store` reads for everything else.
 */
import type { Engine } from "@promenade/engine";
import type { EngineApi } from "@promenade/server";

/** Adapt an `Engine` to the server's port. */
export function engineApi(engine: Engine): EngineApi {
  const store = engine.store;
  const api: EngineApi = {
    listWorkflows: () => store.listWorkflows(),
    getWorkflow: (slug) => store.getWorkflow(slug),
    getWorkflowById: (id) => store.getWorkflowById(id),
    deployWorkflow: (args) => engine.deployWorkflow(args),
    startRun: (slug, options) => engine.startRun(slug, options),
    cancelRun: (runId) => engine.cancelRun(runId),
    getRun: (runId) => store.getRun(runId),
    listRuns: (query) => store.listRuns(query),
    listEvents: (runId, query) => store.listEvents(runId, query),
    maxCursor: (runId) => store.maxCursor(runId),
    listArtifacts: (runId) => store.listArtifacts(runId),
    artifactsDir: (runId) => engine.artifactsDir(runId),
    ping: () => engine.ping(),
    onEvent: (listener) => engine.onEvent(listener),
  };
  return api;
}
