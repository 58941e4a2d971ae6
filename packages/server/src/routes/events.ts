/**
 * `GET /api/runs/:id/events`: a page of a run's events after a cursor (`after`), filtered by
 * channel (`channels`, `verbose`), at most `limit`. A page scans a bounded number of events, so a
 * filter that matches little never holds a request for long: `nextCursor` says where to continue,
 * and `done` is true once the run has ended and every event has been read.
 */
import { matchesChannels, selectChannels } from "@promenade/workflow";
import { EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT, EVENTS_MAX_SCAN } from "../constants.ts";
import { HttpError, sendJson } from "../internal/http.ts";
import { isTerminalStatus } from "../internal/status.ts";
import type { Handler } from "../pipeline/route.ts";
import type { EngineApi } from "../ports.ts";
import { requireRun } from "./lookup.ts";
import { intParam } from "./query.ts";

/** The event-page handler over `engine`. */
export function eventsRoute(engine: EngineApi): Handler {
  return async ({ res, params, query }) => {
    const run = await requireRun(engine, params[0] ?? "");
    const after = intParam(query, "after") ?? 0;
    const verboseRaw = query.get("verbose");
    if (verboseRaw !== null && verboseRaw !== "true" && verboseRaw !== "false") {
      throw new HttpError(
        400,
        "VALIDATION",
        `Query parameter "verbose" must be "true" or "false" (got "${verboseRaw}").`,
      );
    }
    const channelsRaw = query.get("channels");
    const channels = selectChannels({
      verbose: verboseRaw === "true",
      ...(channelsRaw === null ? {} : { channels: channelsRaw }),
    });
    const limitRaw = intParam(query, "limit");
    if (limitRaw === 0) {
      throw new HttpError(
        400,
        "VALIDATION",
        'Query parameter "limit" must be at least 1 (got "0").',
      );
    }
    const limit = Math.min(limitRaw ?? EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT);
    // Read the status before scanning: a terminal run has all its events committed already.
    const terminal = isTerminalStatus(run.status);
    const events: unknown[] = [];
    let scanned = 0;
    let last = after;
    let exhausted = false;
    while (events.length < limit && scanned < EVENTS_MAX_SCAN) {
      const page = await engine.listEvents(run.id, {
        afterCursor: last,
        limit: Math.min(1000, EVENTS_MAX_SCAN - scanned),
      });
      const want = Math.min(1000, EVENTS_MAX_SCAN - scanned);
      for (const row of page) {
        scanned++;
        last = row.cursor;
        if (matchesChannels(row.event, channels)) {
          events.push({ runId: row.runId, cursor: row.cursor, event: row.event });
          if (events.length >= limit) break;
        }
      }
      if (page.length < want && events.length < limit) {
        exhausted = true;
        break;
      }
    }
    const more = !exhausted && (await engine.maxCursor(run.id)) > last;
    const nextCursor = more ? last : null;
    sendJson(res, 200, { events, nextCursor, done: terminal && nextCursor === null });
  };
}
