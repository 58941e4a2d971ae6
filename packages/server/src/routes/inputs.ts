/**
 * The human-input routes: `GET /api/inputs` (every pending request of every run, newest first,
 * with the workflow and status of each request's run), `GET /api/runs/:id/inputs` (all of one
 * run's requests, any status) and `POST /api/runs/:id/inputs/:key` (answer one: the body is
 * exactly `{ "value": <JSON> }`). Path segments arrive percent-decoded, so a key holding `/` is
 * sent as `%2F`. The engine checks the answer against the gate's form: `VALIDATION` → 400 with its
 * message, unknown run or no pending request → 404, a lost race → 409. Behind the API token the
 * answer is recorded as given by `"api"`. Every engine answer is awaited, so synchronous and
 * asynchronous engines both work.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_BODY_BYTES } from "../constants.ts";
import { HttpError, parseJson, readBody, sendJson } from "../internal/http.ts";
import type { EngineApi, HumanInputRequestRow } from "../ports.ts";
import { slugOf } from "../project.ts";
import { requireRun } from "./lookup.ts";

/** What the three handlers need besides the engine. */
export interface InputRouteOptions {
  /** Recorded as `respondedBy` (`"api"` behind the API token); absent: `null`. */
  respondedBy?: string;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
}

/** The handlers of the human-input routes over `engine`. */
export function inputRoutes(
  engine: EngineApi,
  options: InputRouteOptions = {},
): {
  listPending: (ctx: Ctx) => Promise<void>;
  listOfRun: (ctx: Ctx) => Promise<void>;
  answer: (ctx: Ctx) => Promise<void>;
} {
  return {
    async listPending({ res }) {
      const inputs: HumanInputRequestRow[] = await engine.listInputRequests({
        statuses: ["pending"],
      });
      // Each request's run, for the inbox (workflow and status) without a read per row.
      const runs: Record<string, { workflowSlug: string | null; status: string }> = {};
      for (const request of inputs) {
        if (Object.hasOwn(runs, request.runId)) continue;
        const run = await engine.getRun(request.runId);
        if (run === null) continue;
        runs[request.runId] = {
          workflowSlug: await slugOf(engine, run.workflowId),
          status: run.status,
        };
      }
      sendJson(res, 200, { inputs, runs });
    },

    async listOfRun({ res, params }) {
      const run = await requireRun(engine, params[0] ?? "");
      sendJson(res, 200, { inputs: await engine.listInputRequests({ runId: run.id }) });
    },

    async answer({ req, res, params }) {
      const runId = params[0] ?? "";
      const key = params[1] ?? "";
      const body = parseJson(await readBody(req, MAX_BODY_BYTES), "answer body");
      if (
        typeof body !== "object" ||
        body === null ||
        Array.isArray(body) ||
        Object.keys(body).length !== 1 ||
        !Object.hasOwn(body, "value")
      ) {
        throw new HttpError(
          400,
          "VALIDATION",
          'The answer body must be exactly { "value": <answer> }.',
          'Send e.g. { "value": { "value": "Ship", "isOther": false } } for a choice gate.',
        );
      }
      await requireRun(engine, runId);
      const request = await engine.respondToInput(
        runId,
        key,
        (body as { value: unknown }).value,
        options.respondedBy === undefined ? {} : { respondedBy: options.respondedBy },
      );
      sendJson(res, 200, { request });
    },
  };
}
