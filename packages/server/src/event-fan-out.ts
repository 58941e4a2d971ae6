/**
 * The server's single engine listener: counts each event in the metrics, feeds the cost ledger,
 * then routes the event to the WebSocket channel. Events carry their workflow, so nothing is read
 * to route them; a lifecycle event reads its run only for what needs the row (the `trigger` label
 * of a started run, the Run of a feed frame), through one ordered pipeline so feed frames keep
 * cursor order. Never throws into the engine.
 */
import { channelOf } from "@promenade/workflow";
import type { CostLedger } from "./cost-ledger.ts";
import { describe, messageOf } from "./internal/error-text.ts";
import type { Metrics } from "./internal/metrics.ts";
import { OrderedReads } from "./internal/ordered-reads.ts";
import { isTerminalStatus } from "./internal/status.ts";
import type { EngineApi } from "./ports.ts";
import type { WsChannel } from "./ws-channel.ts";

/** What the listener feeds. */
export interface EventFanOutDeps {
  metrics: Metrics;
  ledger: CostLedger;
  ws: WsChannel;
  log: (line: string) => void;
}

/** Subscribe the listener to `engine`; returns the unsubscribe. */
export function subscribeEventFanOut(
  engine: EngineApi,
  { metrics, ledger, ws, log }: EventFanOutDeps,
): () => void {
  const lifecycle = new OrderedReads();
  return engine.onEvent((row) => {
    try {
      const channel = channelOf(row.event);
      if (channel !== undefined) metrics.runEvents.inc({ channel });
      ledger.observe(row);
      if (row.event.kind === "run_status") {
        const status = row.event.status;
        if (isTerminalStatus(status)) {
          metrics.runsFinished.inc({ workflow: row.workflowSlug, status });
        }
        const started = status === "queued";
        const targets = ws.feedTargets(row);
        if (started || targets !== null) {
          lifecycle.push(
            () => engine.getRun(row.runId),
            (run, error) => {
              if (error !== undefined) {
                log(
                  `run ${row.runId} could not be read for its ${status} event: ${messageOf(error)}`,
                );
              }
              if (started) {
                metrics.runsStarted.inc({
                  workflow: row.workflowSlug,
                  trigger: run?.triggerKind ?? "unknown",
                });
              }
              if (targets !== null) ws.feedEvent(row, run, targets);
            },
          );
        }
      }
      ws.onEvent(row);
    } catch (err) {
      log(`event fan-out failed: ${describe(err)}`);
    }
  });
}
