/**
 * The `EngineApi` the server needs, over a real `Engine`: a plain adapter with no logic. It uses
 * only the engine's promise-returning methods and `engine.storeAsync` reads, so the same server
 * runs on SQLite and on PostgreSQL.
 */
import { nextFire, parseSchedule } from "@promenade/engine";
import type { Engine } from "@promenade/engine";
import type { EngineApi } from "@promenade/server";

/** Adapt an `Engine` to the server's port. */
export function engineApi(engine: Engine): EngineApi {
  const store = engine.storeAsync;
  const api: EngineApi = {
    listWorkflows: () => store.listWorkflows(),
    getWorkflow: (slug) => store.getWorkflow(slug),
    getWorkflowById: (id) => store.getWorkflowById(id),
    listWorkflowVersions: (workflowId) => store.listWorkflowVersions(workflowId),
    deployWorkflow: (args) => engine.deploy(args),
    undeployWorkflow: (slug) => engine.undeploy(slug),
    startRun: (slug, options) => engine.createRun(slug, options),
    startRunOnce: (slug, options) => engine.createRunOnce(slug, options),
    cancelRun: (runId) => engine.cancelRun(runId),
    getRun: (runId) => store.getRun(runId),
    listRuns: (query) => store.listRuns(query),
    listEvents: (runId, query) => store.listEvents(runId, query),
    maxCursor: (runId) => store.maxCursor(runId),
    listArtifacts: (runId) => store.listArtifacts(runId),
    artifactsDir: (runId) => engine.artifactsDir(runId),
    ping: () => engine.pingAsync(),
    listInputRequests: (filter) => engine.listInputRequestsAsync(filter),
    respondToInput: (runId, key, value, options) =>
      engine.respondToInputAsync(runId, key, value, options),
    onEvent: (listener) => engine.onEvent(listener),
    nextCronFire: (expr, timezone, afterMs) => nextFire(parseSchedule(expr, timezone), afterMs),
    backup: (file) => engine.backup(file),
    retentionStats: () => engine.retentionStats,
    cluster: () => engine.cluster,
  };
  return api;
}
