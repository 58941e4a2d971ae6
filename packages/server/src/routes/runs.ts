/**
 * The run routes: `POST /api/workflows/:slug/runs` (start a run; 201 with the run, or 200 with the
 * run an earlier request with the same `Idempotency-Key` created), `GET /api/runs` (filtered and
 * paged, newest first), `GET /api/runs/:id`, `POST /api/runs/:id/cancel` (202; 409 when the run
 * already ended) and `GET /api/runs/:id/stream` (410: the event stream is the WebSocket channel).
 */
import { isWrittenStatus, READABLE_RUN_STATUSES } from "@promenade/workflow/records";
import { MAX_BODY_BYTES, RUNS_DEFAULT_LIMIT, RUNS_MAX_LIMIT } from "../constants.ts";
import type { CostLedger } from "../cost-ledger.ts";
import { readIdempotencyKey } from "../idempotency-key.ts";
import { HttpError, parseJson, readBody, sendJson, validationFailed } from "../internal/http.ts";
import { RUN_ID_PATTERN } from "../internal/ids.ts";
import { isTerminalStatus } from "../internal/status.ts";
import type { Handler } from "../pipeline/route.ts";
import type { EngineApi, JsonValue, RunRow, RunStatus } from "../ports.ts";
import { projectRun, projectRuns, slugOf } from "../project.ts";
import { requireRun, requireWorkflow } from "./lookup.ts";
import { instantParam, intParam } from "./query.ts";
import { runVersion } from "./versions.ts";

// The filter takes every status a reader knows, `sleeping` included: Promenade never writes it,
// so it matches no run, but clients of the line may ask for it.
const STATUSES: readonly string[] = READABLE_RUN_STATUSES;

/** What the run routes need besides the engine. */
export interface RunRouteOptions {
  /** Estimates the cost of runs still in flight. */
  ledger: CostLedger;
  log: (line: string) => void;
}

/** The handlers of the run routes over `engine`. */
export function runRoutes(
  engine: EngineApi,
  { ledger, log }: RunRouteOptions,
): { start: Handler; list: Handler; get: Handler; cancel: Handler; stream: Handler } {
  const runView = async (run: RunRow): Promise<Record<string, unknown>> =>
    projectRun(run, await slugOf(engine, run.workflowId), await ledger.estimated(run));

  const start: Handler = async ({ req, res, params }) => {
    const slug = params[0] ?? "";
    const bytes = await readBody(req, MAX_BODY_BYTES);
    const body = parseJson(bytes, "run-start body");
    const requestKey = readIdempotencyKey(req.headers, "runs", bytes);
    await requireWorkflow(engine, slug);
    let input: JsonValue | undefined;
    let version: number | undefined;
    if (body !== undefined) {
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw validationFailed("run-start body", [["(root)", "expected an object"]]);
      }
      const extra = Object.keys(body).filter((k) => k !== "input" && k !== "version");
      if (extra.length > 0) {
        throw validationFailed(
          "run-start body",
          extra.map((k) => [k, 'unrecognized key (only "input" and "version" are allowed)']),
        );
      }
      if ("input" in body) input = (body as { input: JsonValue }).input;
      if ("version" in body) version = runVersion(body.version);
    }
    const options = {
      ...(input === undefined ? {} : { input }),
      ...(version === undefined ? {} : { version }),
      triggerKind: "manual" as const,
    };
    const { run, created } =
      requestKey === null
        ? { run: await engine.startRun(slug, options), created: true }
        : await engine.startRunOnce(slug, { ...options, requestKey });
    // A retry of a request that already created its run gets that run, as it is now.
    sendJson(
      res,
      created ? 201 : 200,
      { run: await runView(run) },
      {
        location: `/api/runs/${run.id}`,
        ...(created ? {} : { "idempotent-replayed": "true" }),
      },
    );
  };

  const list: Handler = async ({ res, query }) => {
    let workflowId: string | undefined;
    const workflow = query.get("workflow");
    if (workflow !== null) workflowId = (await requireWorkflow(engine, workflow)).id;
    let statuses: RunStatus[] | undefined;
    const status = query.get("status");
    if (status !== null) {
      const asked = status.split(",").map((s) => {
        const t = s.trim();
        if (!STATUSES.includes(t)) {
          throw new HttpError(
            400,
            "VALIDATION",
            `Unknown run status "${t}".`,
            `Valid statuses: ${STATUSES.join(", ")}.`,
          );
        }
        return t;
      });
      statuses = asked.filter(isWrittenStatus);
    }
    const limit = Math.min(intParam(query, "limit") ?? RUNS_DEFAULT_LIMIT, RUNS_MAX_LIMIT);
    const offset = intParam(query, "offset");
    const since = instantParam(query, "since");
    const until = instantParam(query, "until");
    const before = query.get("before");
    if (before !== null && offset !== undefined) {
      throw new HttpError(
        400,
        "VALIDATION",
        'Query parameters "before" and "offset" cannot be combined.',
        "Page with before=<nextCursor> only.",
      );
    }
    if (
      before !== null &&
      (!RUN_ID_PATTERN.test(before) || (await engine.getRun(before)) === null)
    ) {
      throw new HttpError(
        400,
        "VALIDATION",
        "Unknown pagination cursor.",
        "Pass the nextCursor of the previous page unchanged.",
      );
    }
    // A filter naming only statuses no run has (`sleeping`) matches nothing.
    if (limit === 0 || statuses?.length === 0) {
      sendJson(res, 200, { runs: [], nextCursor: null });
      return;
    }
    const rows = await engine.listRuns({
      limit: limit + 1,
      ...(workflowId === undefined ? {} : { workflowId }),
      ...(statuses === undefined ? {} : { statuses }),
      ...(offset === undefined ? {} : { offset }),
      ...(before === null ? {} : { beforeRunId: before }),
      ...(since === undefined ? {} : { createdSince: since }),
      ...(until === undefined ? {} : { createdBefore: until }),
    });
    const page = rows.slice(0, limit);
    sendJson(res, 200, {
      runs: await projectRuns(engine, page, ledger),
      nextCursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
    });
  };

  const get: Handler = async ({ res, params }) => {
    sendJson(res, 200, { run: await runView(await requireRun(engine, params[0] ?? "")) });
  };

  const cancel: Handler = async ({ res, params }) => {
    const run = await requireRun(engine, params[0] ?? "");
    if (isTerminalStatus(run.status)) {
      // A finished run has nothing left to cancel: say so rather than accept a no-op.
      const slug = await slugOf(engine, run.workflowId);
      throw new HttpError(
        409,
        "CONFLICT",
        `Run ${run.id} already ended ${run.status}; only a run that has not ended can be cancelled.`,
        `Nothing to cancel; its status and events stay as they are. To run the workflow again, POST /api/workflows/${slug ?? "<slug>"}/runs.`,
      );
    }
    // Settles when the run is terminal; the request does not wait for that.
    new Promise<void>((resolve) => resolve(engine.cancelRun(run.id))).catch((err: unknown) => {
      log(`cancel of run ${run.id} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    sendJson(res, 202, {});
  };

  const stream: Handler = async ({ params }) => {
    const run = await requireRun(engine, params[0] ?? "");
    throw new HttpError(
      410,
      "GONE",
      "The SSE event stream is not served by this engine.",
      `Use the WebSocket channel at /api/ws, or page GET /api/runs/${run.id}/events?after=<cursor>.`,
    );
  };

  return { start, list, get, cancel, stream };
}
