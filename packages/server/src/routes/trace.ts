/**
 * `GET /api/runs/:id/trace`: the run's trace (see `trace/`). Reads the run row, its events after
 * what the cached builder already consumed (at most {@link TRACE_SCAN_BUDGET} per request, so a
 * huge log never holds one request for long) and its child runs. When events remain unread the
 * answer says `coverage.complete: false` and the next request continues where this one stopped;
 * when the spans exceed the span budget, leaf spans are folded into `summary` spans. Every engine
 * answer is awaited, so synchronous and asynchronous engines both work.
 */
import type { ServerResponse } from "node:http";
import { HttpError, sendJson } from "../internal/http.ts";
import { RUN_ID_PATTERN } from "../internal/ids.ts";
import type { EngineApi, RunRow } from "../ports.ts";
import { traceOf } from "../trace/build-trace.ts";
import { TraceCache } from "../trace/cache.ts";
import type { Trace, TraceChildRun, TraceRun } from "../trace/span.ts";

/** Events consumed per trace request at most. */
export const TRACE_SCAN_BUDGET = 10_000;
/** Child runs joined into one trace at most (oldest first). */
export const TRACE_MAX_CHILDREN = 1000;

const PAGE = 5000;

/** An engine answer, whether the engine returned it or a promise of it. */
function settled<T>(value: T | PromiseLike<T>): Promise<T> {
  return Promise.resolve(value);
}

/** The trace reader behind the route; one per server. */
export function createTraceReader(engine: EngineApi): (runId: string) => Promise<Trace> {
  const cache = new TraceCache();
  const slugs = new Map<string, string | null>();
  const slugOf = async (workflowId: string): Promise<string | null> => {
    let slug = slugs.get(workflowId);
    if (slug === undefined) {
      slug = (await settled(engine.getWorkflowById(workflowId)))?.slug ?? null;
      slugs.set(workflowId, slug);
    }
    return slug;
  };

  return async (runId) => {
    const run = RUN_ID_PATTERN.test(runId) ? await settled(engine.getRun(runId)) : null;
    if (run === null) throw new HttpError(404, "NOT_FOUND", `Unknown run: ${runId}`);
    return cache.use(run.id, async (builder) => {
      let budget = TRACE_SCAN_BUDGET;
      let more = true;
      while (budget > 0) {
        const limit = Math.min(PAGE, budget);
        const page = await settled(
          engine.listEvents(run.id, { afterCursor: builder.lastCursor, limit }),
        );
        builder.add(page);
        budget -= page.length;
        if (page.length < limit) {
          more = false;
          break;
        }
      }
      if (more) more = (await settled(engine.maxCursor(run.id))) > builder.lastCursor;
      const childRows = await settled(
        engine.listRuns({ parentRunId: run.id, limit: TRACE_MAX_CHILDREN }),
      );
      const children: TraceChildRun[] = [];
      for (const row of [...childRows].reverse()) {
        children.push(traceRun(row, await slugOf(row.workflowId)));
      }
      return traceOf(builder, traceRun(run, await slugOf(run.workflowId)), children, !more);
    });
  };
}

/** The route handler: `{ runId, spans, totals, coverage }`. */
export function traceRoute(
  engine: EngineApi,
): (ctx: { res: ServerResponse; params: string[] }) => Promise<void> {
  const read = createTraceReader(engine);
  return async ({ res, params }) => {
    sendJson(res, 200, await read(params[0] ?? ""));
  };
}

function traceRun(row: RunRow, workflowSlug: string | null): TraceRun {
  return {
    id: row.id,
    workflowSlug,
    status: row.status,
    triggerKind: row.triggerKind,
    parentRunId: row.parentRunId,
    restarts: row.restarts,
    tokensIn: row.tokensIn,
    tokensOut: row.tokensOut,
    usdMicros: row.usdMicros,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    endedAt: row.endedAt,
    error: row.error === null ? null : { code: row.error.code, message: row.error.message },
  };
}
