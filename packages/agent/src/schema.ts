/**
 * Schema mode: the instruction appended to the first message, and the final
 * answer's processing — trim, strip one code fence, `JSON.parse`, then validate against the JSON
 * Schema with Ajv (draft 2020-12 keywords; unknown keywords and formats ignored). Both failures
 * are `VALIDATION`; no repair turn. The schema is compiled before any network call.
 */
import type { Ajv2020, ValidateFunction } from "ajv/dist/2020.js";
import { EngineError } from "@promenade/workflow/errors";
import type { JsonSchema } from "./ports.ts";

/** The schema-mode line(s) appended to the first message. */
export function schemaInstruction(schema: JsonSchema): string {
  return (
    "Answer with only a JSON value that conforms to the following JSON Schema — no prose, no explanation and no code fences.\n" +
    JSON.stringify(schema)
  );
}

type AjvModule = { Ajv2020: typeof Ajv2020 };
let ajvModule: Promise<AjvModule> | undefined;

/**
 * Compiles `schema` (local `$defs`/`definitions` refs resolve; draft-07 documents work too).
 * Ajv is loaded on first use, so leaves without schema mode never pay for it.
 * @throws EngineError `VALIDATION` when the schema itself cannot be compiled.
 */
export async function compileSchema(schema: unknown): Promise<ValidateFunction> {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    throw new EngineError("VALIDATION", "agent() schema must be a JSON Schema object.");
  }
  // Drop `$schema`/`$id` at the root so draft-07 documents and repeated ids compile in one
  // 2020-12 validator; the keyword set we honour is the same.
  const { $schema: _ignoredDialect, $id: _ignoredId, ...rest } = schema as Record<string, unknown>;
  const { Ajv2020 } = await (ajvModule ??= import("ajv/dist/2020.js"));
  const ajv = new Ajv2020({
    strict: false,
    validateSchema: false,
    allErrors: false,
    validateFormats: false,
  });
  try {
    return ajv.compile(rest);
  } catch (err) {
    throw new EngineError(
      "VALIDATION",
      `agent() schema is not a usable JSON Schema: ${(err as Error).message}`,
      "Local $ref must point into $defs or definitions.",
    );
  }
}

/** Trims and strips one leading ```/```json fence and one trailing ```. */
export function stripFences(text: string): string {
  return text
    .trim()
    .replace(/^```(?:json)?\s*\n?/i, "")
    .replace(/\n?```\s*$/, "");
}

/**
 * Parses and validates the final answer.
 * @throws EngineError `VALIDATION` — `not valid JSON` (hint: the first 80 chars as a JSON
 *   string) or `does not match the schema at <instance path>`.
 */
export function parseSchemaAnswer(
  text: string,
  validate: ValidateFunction,
  redact: (s: string) => string,
): unknown {
  const stripped = stripFences(text);
  let value: unknown;
  try {
    value = JSON.parse(stripped);
  } catch {
    throw new EngineError(
      "VALIDATION",
      "agent() answer in schema mode is not valid JSON.",
      redact(`The answer began with ${JSON.stringify(stripped.slice(0, 80))}; tighten the prompt.`),
    );
  }
  if (!validate(value)) {
    const first = validate.errors?.[0];
    const path = first === undefined || first.instancePath === "" ? "/" : first.instancePath;
    throw new EngineError(
      "VALIDATION",
      redact(
        `agent() answer does not match the schema at ${path}: ${first?.message ?? "invalid"}.`,
      ),
      "Tighten the prompt or relax the schema.",
    );
  }
  return value;
}
