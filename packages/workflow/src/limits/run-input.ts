/**
 * The input check of a run against its workflow's `meta.input_schema`, shared by every place a
 * run gets input (the engine's start, child runs, cron fires checked at deploy). Compiled
 * schemas are kept per schema object, so a workflow row read once is compiled once.
 * Invariant: a schema that does not compile never lets input through; it is reported as such.
 */
import { compileJsonSchema, formatSchemaIssues } from "./json-schema.ts";
import type { CompileJsonSchemaResult } from "./json-schema.ts";

const compiled = new WeakMap<object, CompileJsonSchemaResult>();

/**
 * Why `input` does not match `schema` — `input.name: expected string, got number` (the first
 * few issues, paths rooted at `root`) — or `null` when it matches or there is no schema.
 */
export function runInputProblem(
  schema: Readonly<Record<string, unknown>> | undefined,
  input: unknown,
  root = "input",
): string | null {
  if (schema === undefined) return null;
  let result = compiled.get(schema);
  if (result === undefined) {
    result = compileJsonSchema(schema, "input_schema");
    compiled.set(schema, result);
  }
  if (!result.ok)
    return `the workflow's input_schema is not a usable JSON Schema: ${result.problem}`;
  const issues = result.schema.validate(input, root);
  return issues.length === 0 ? null : formatSchemaIssues(issues);
}
