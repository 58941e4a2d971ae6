/**
 * `CostLedger`: whether a run's cost includes an estimated part, read from its cost ledger (the
 * `model_call` events, each priced by the engine as it was written; `estimated: true` when the
 * model matched no rate row). The run row's `usdMicros` is the sum of the same prices, so a run
 * whose row says 0 has nothing to mark and is never read. Runs are read incrementally (only
 * events after the last one read), at most {@link LEDGER_SCAN_BUDGET} events per question, and
 * the engine listener marks runs as their estimated calls are committed. Once estimated, always
 * estimated: the answer only ever turns from `false` to `true`.
 */
import type { EngineApi, EventRow, RunRow } from "./ports.ts";

/** Events read per run and question at most (a longer log is finished by later questions). */
export const LEDGER_SCAN_BUDGET = 20_000;
const PAGE = 5000;

interface Entry {
  lastCursor: number;
  estimated: boolean;
}

/** An engine answer, whether the engine returned it or a promise of it. */
function settled<T>(value: T | PromiseLike<T>): Promise<T> {
  return Promise.resolve(value);
}

/** Per-run "is part of this cost an estimate?" over the event log, cached (least recent out). */
export class CostLedger {
  private readonly engine: EngineApi;
  private readonly capacity: number;
  private readonly entries = new Map<string, Entry>();

  constructor(engine: EngineApi, capacity = 5000) {
    this.engine = engine;
    this.capacity = capacity;
  }

  /** Called with every committed event: a priced estimated call marks its run. */
  observe(row: EventRow): void {
    if (row.event.kind !== "model_call" || row.event.estimated !== true) return;
    this.entry(row.runId).estimated = true;
  }

  /** True when part of `run.usdMicros` was priced at the default rate of an unknown model. */
  async estimated(run: RunRow): Promise<boolean> {
    if (run.usdMicros === 0) return false;
    const entry = this.entry(run.id);
    let budget = LEDGER_SCAN_BUDGET;
    while (!entry.estimated && budget > 0) {
      const limit = Math.min(PAGE, budget);
      const page = await settled(
        this.engine.listEvents(run.id, { afterCursor: entry.lastCursor, limit }),
      );
      for (const row of page) {
        if (row.cursor <= entry.lastCursor) continue;
        entry.lastCursor = row.cursor;
        if (row.event.kind === "model_call" && row.event.estimated === true) {
          entry.estimated = true;
        }
      }
      budget -= page.length;
      if (page.length < limit) break;
    }
    return entry.estimated;
  }

  private entry(runId: string): Entry {
    let entry = this.entries.get(runId);
    if (entry === undefined) {
      entry = { lastCursor: 0, estimated: false };
    } else {
      this.entries.delete(runId);
    }
    this.entries.set(runId, entry);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return entry;
  }
}
