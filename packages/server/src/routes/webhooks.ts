/**
 * `POST /hooks/:slug/:index`: start a run from a webhook delivery (see `webhooks.ts` for
 * resolution, credentials and signatures). Answers 202 with the run, or 200 with the run an earlier
 * request with the same `Idempotency-Key` created; a delivery id already received is a 409. Every
 * request is counted in the metrics by outcome, and every unresolvable path gets one identical 404.
 */
import { isEngineError } from "@promenade/workflow/errors";
import { MAX_BODY_BYTES } from "../constants.ts";
import { readIdempotencyKey } from "../idempotency-key.ts";
import { HttpError, readBody, sendJson } from "../internal/http.ts";
import type { Metrics } from "../internal/metrics.ts";
import type { Handler } from "../pipeline/route.ts";
import type { EngineApi, RunRow } from "../ports.ts";
import { WebhookError, resolveWebhook } from "../webhooks.ts";

/** What the webhook route needs besides the engine. */
export interface WebhookRouteOptions {
  metrics: Metrics;
  /** Webhook credential source, read per request. */
  env: () => Record<string, string | undefined>;
}

/** The webhook handler over `engine`. */
export function webhookRoute(engine: EngineApi, { metrics, env }: WebhookRouteOptions): Handler {
  return async ({ req, res, params, pathname }) => {
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof HttpError && err.status === 413) {
        metrics.webhookRequests.inc({ outcome: "too_large" });
      }
      throw err;
    }
    try {
      const { slug, input, delivery } = await resolveWebhook(
        engine,
        env(),
        params[0] ?? "",
        params[1] ?? "",
        req.headers,
        req.rawHeaders,
        body,
        Date.now(),
      );
      const requestKey = readIdempotencyKey(req.headers, `hook/${params[1] ?? ""}`, body);
      const options = {
        ...(input === undefined ? {} : { input }),
        triggerKind: "webhook" as const,
      };
      let run: RunRow;
      let created = true;
      if (requestKey === null && delivery === null) {
        run = await engine.startRun(slug, options);
      } else {
        // The engine refuses a delivery already received (409) before it looks at the key.
        ({ run, created } = await engine.startRunOnce(slug, {
          ...options,
          ...(requestKey === null ? {} : { requestKey }),
          ...(delivery === null ? {} : { delivery }),
        }));
      }
      metrics.webhookRequests.inc({ outcome: "accepted" });
      sendJson(
        res,
        created ? 202 : 200,
        { run: { id: run.id, status: run.status } },
        {
          location: `/api/runs/${run.id}`,
          ...(created ? {} : { "idempotent-replayed": "true" }),
        },
      );
    } catch (err) {
      if (err instanceof WebhookError) {
        metrics.webhookRequests.inc({ outcome: err.outcome });
        if (err.outcome === "not_found") {
          // One identical body for every unresolvable path (the raw path, not the decoded one).
          throw new HttpError(404, "NOT_FOUND", `No webhook trigger at ${pathname}.`);
        }
      } else if (isEngineError(err) && err.code === "CONFLICT") {
        // A delivery already received, or an Idempotency-Key reused for another body.
        metrics.webhookRequests.inc({ outcome: "replayed" });
      } else if (isEngineError(err) && err.code === "VALIDATION") {
        // A body that does not match the workflow's input_schema.
        metrics.webhookRequests.inc({ outcome: "invalid_body" });
      }
      throw err;
    }
  };
}
