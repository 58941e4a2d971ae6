/**
 * The `cron_fires` table: the exactly-once record of each scheduled instant. `fire` writes the
 * record, the `cron` run and its `queued` event in one transaction, and writes nothing for an
 * instant already recorded.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import { EngineError } from "@promenade/workflow/errors";
import type { RunRow } from "@promenade/workflow/records";
import { requireInteger, requireString, sqliteCode, validation } from "./internal/args.ts";
import type { TableContext } from "./internal/context.ts";
import { toJsonText } from "./internal/json.ts";
import type { RunTable } from "./runs.ts";
import { cronFires } from "./schema.ts";
import type { CronFireArgs, FireCronArgs } from "./types.ts";
import type { WorkflowTable } from "./workflows.ts";

export class CronFireTable {
  readonly #c: TableContext;
  readonly #workflows: WorkflowTable;
  readonly #runs: RunTable;
  readonly #last;
  readonly #exists;

  constructor(context: TableContext, workflowTable: WorkflowTable, runTable: RunTable) {
    this.#c = context;
    this.#workflows = workflowTable;
    this.#runs = runTable;
    const { orm } = context;
    const p = sql.placeholder;
    this.#last = orm
      .select({ fireTime: cronFires.fireTime })
      .from(cronFires)
      .where(
        and(
          eq(cronFires.workflowId, p("workflowId")),
          eq(cronFires.triggerIndex, p("triggerIndex")),
        ),
      )
      .orderBy(desc(cronFires.fireTime))
      .limit(1)
      .prepare();
    this.#exists = orm
      .select({ runId: cronFires.runId })
      .from(cronFires)
      .where(
        and(
          eq(cronFires.workflowId, p("workflowId")),
          eq(cronFires.triggerIndex, p("triggerIndex")),
          eq(cronFires.fireTime, p("fireTime")),
        ),
      )
      .prepare();
  }

  /** The fire record, its `cron` run and the run's `queued` event; `null` for a repeat instant. */
  fire(args: FireCronArgs): RunRow | null {
    if (typeof args !== "object" || args === null)
      throw validation("fireCron(args): args must be an object.");
    const workflowId = requireString(args.workflowId, "fireCron: workflowId");
    const triggerIndex = requireInteger(args.triggerIndex, "fireCron: triggerIndex", 0);
    const fireTime = requireInteger(args.fireTime, "fireCron: fireTime", 0);
    const input =
      args.input === undefined
        ? null
        : toJsonText(args.input, "fireCron: input", this.#c.settings.maxValueBytes);
    return this.#c.tx.atomic(() => {
      const workflow = this.#workflows.key(workflowId);
      if (workflow === undefined) {
        throw new EngineError("NOT_FOUND", `Unknown workflow: ${workflowId}`);
      }
      if (this.#exists.get({ workflowId, triggerIndex, fireTime }) !== undefined) return null;
      const run = this.#runs.insertQueued(workflow, "cron", input, null, null);
      this.#c.orm
        .insert(cronFires)
        .values({ workflowId, triggerIndex, fireTime, runId: run.id, createdAt: run.createdAt })
        .run();
      return run;
    });
  }

  /** Records a fire of an existing run. Duplicate ⇒ `CONFLICT`. */
  record(args: CronFireArgs): void {
    if (typeof args !== "object" || args === null)
      throw validation("recordCronFire(args): args must be an object.");
    const workflowId = requireString(args.workflowId, "recordCronFire: workflowId");
    const triggerIndex = requireInteger(args.triggerIndex, "recordCronFire: triggerIndex", 0);
    const fireTime = requireInteger(args.fireTime, "recordCronFire: fireTime", 0);
    const runId = requireString(args.runId, "recordCronFire: runId");
    if (this.#workflows.key(workflowId) === undefined) {
      throw new EngineError("NOT_FOUND", `Unknown workflow: ${workflowId}`);
    }
    if (!this.#runs.exists(runId)) {
      throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
    }
    try {
      this.#c.orm
        .insert(cronFires)
        .values({ workflowId, triggerIndex, fireTime, runId, createdAt: this.#c.settings.now() })
        .run();
    } catch (error) {
      if (sqliteCode(error) === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new EngineError(
          "CONFLICT",
          `Cron fire already recorded: workflow ${workflowId} trigger #${String(triggerIndex)} at ${new Date(fireTime).toISOString()}.`,
        );
      }
      throw error;
    }
  }

  /** The latest recorded fire time of the trigger, or `null`. */
  last(workflowId: string, triggerIndex: number): number | null {
    requireString(workflowId, "lastCronFire: workflowId");
    requireInteger(triggerIndex, "lastCronFire: triggerIndex", 0);
    return this.#last.get({ workflowId, triggerIndex })?.fireTime ?? null;
  }
}
