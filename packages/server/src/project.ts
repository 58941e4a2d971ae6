/**
 * Row → API object projections (spec 04 §0.6). The only place that decides which stored fields
 * reach clients: programs, artifact paths and anything not listed here never leave the server.
 */
import type { ArtifactRow, EngineApi, RunRow, WorkflowRow } from "./ports.ts";

/** The Run object of the API (exact field list, `workflowSlug` added). */
export function projectRun(
  run: RunRow,
  slugOf: (workflowId: string) => string | null,
): Record<string, unknown> {
  return {
    id: run.id,
    workflowId: run.workflowId,
    workflowSlug: slugOf(run.workflowId),
    status: run.status,
    triggerKind: run.triggerKind,
    input: run.input ?? null,
    output: run.output ?? null,
    error: run.error === null ? null : { code: run.error.code, message: run.error.message },
    parentRunId: run.parentRunId,
    idempotencyKey: run.idempotencyKey,
    restarts: run.restarts,
    tokensIn: run.tokensIn,
    tokensOut: run.tokensOut,
    usdMicros: run.usdMicros,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}

/** A memoising workflow-id → slug lookup. */
export function slugLookup(engine: EngineApi): (workflowId: string) => string | null {
  const cache = new Map<string, string | null>();
  return (workflowId) => {
    let slug = cache.get(workflowId);
    if (slug === undefined) {
      slug = engine.getWorkflowById(workflowId)?.slug ?? null;
      cache.set(workflowId, slug);
    }
    return slug;
  };
}

/** Workflow summary (list item). */
export function projectWorkflowSummary(
  wf: WorkflowRow,
  engine: EngineApi,
): Record<string, unknown> {
  const last = engine.listRuns({ workflowId: wf.id, limit: 1 })[0];
  return {
    id: wf.id,
    slug: wf.slug,
    name: wf.slug,
    title: wf.title ?? wf.manifest.title ?? null,
    description: wf.manifest.description ?? null,
    triggers: wf.manifest.triggers ?? [],
    createdAt: wf.createdAt,
    updatedAt: wf.updatedAt,
    lastRun:
      last === undefined ? null : { id: last.id, status: last.status, createdAt: last.createdAt },
  };
}

/** Workflow detail = summary + manifest + config (never the program). */
export function projectWorkflowDetail(wf: WorkflowRow, engine: EngineApi): Record<string, unknown> {
  return { ...projectWorkflowSummary(wf, engine), manifest: wf.manifest, config: wf.config };
}

/** Artifact object: no on-disk path. */
export function projectArtifact(a: ArtifactRow): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    contentType: a.contentType,
    size: a.size,
    metadata: a.metadata,
    createdAt: a.createdAt,
    url: `/api/runs/${a.runId}/artifacts/${encodeURIComponent(a.name)}`,
  };
}

/** One entry per name (the latest write wins), ordered by that write's creation time. */
export function latestArtifacts(rows: ArtifactRow[]): ArtifactRow[] {
  const byName = new Map<string, ArtifactRow>();
  for (const row of rows) {
    const prev = byName.get(row.name);
    if (prev === undefined || row.createdAt >= prev.createdAt) byName.set(row.name, row);
  }
  return [...byName.values()].sort((a, b) => a.createdAt - b.createdAt);
}
