/**
 * `meta.input_schema` in the engine: at deploy the schema must compile and every cron trigger's
 * static input (or `null` when it has none, which is what its runs receive) must match it; at
 * start the run's input must match it. Both refusals are `VALIDATION` naming the JSON path and
 * the rule, thrown before anything is written.
 */
import type { JsonValue, WorkflowManifest } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import { compileJsonSchema, runInputProblem } from "@promenade/workflow/limits";

const HINT = "Send input that matches the workflow's meta.input_schema.";

/** Deploy check: the schema compiles and cron inputs match it. */
export function checkInputSchema(manifest: WorkflowManifest): void {
  const schema = manifest.input_schema;
  if (schema === undefined) return;
  const compiled = compileJsonSchema(schema, "meta.input_schema");
  if (!compiled.ok) {
    throw new EngineError(
      "VALIDATION",
      `meta.input_schema is not a usable JSON Schema: ${compiled.problem}.`,
      "Fix the schema; it is checked with the common JSON Schema keywords (type, properties, required, items, enum, anyOf…).",
    );
  }
  manifest.triggers.forEach((trigger, index) => {
    if (trigger.kind !== "cron") return;
    const problem = runInputProblem(
      schema,
      trigger.input ?? null,
      `triggers[${String(index)}].input`,
    );
    if (problem !== null) {
      throw new EngineError(
        "VALIDATION",
        `triggers[${String(index)}] (cron "${trigger.expr}"): its input does not match meta.input_schema: ${problem}.`,
        "Give the cron trigger an input that matches the schema (a trigger without input starts runs with null).",
      );
    }
  });
}

/** Start check: `input` matches the workflow's schema (if it has one). */
export function checkRunInput(
  slug: string,
  manifest: WorkflowManifest,
  input: JsonValue | null,
): void {
  const problem = runInputProblem(manifest.input_schema, input);
  if (problem !== null) {
    throw new EngineError(
      "VALIDATION",
      `Input of workflow "${slug}" does not match its input_schema: ${problem}.`,
      HINT,
    );
  }
}
