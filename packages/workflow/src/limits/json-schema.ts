/**
 * A small JSON Schema validator for workflow input (`meta.input_schema`): the keywords input
 * schemas use — `type` (one or a list), `properties`, `required`, `additionalProperties`,
 * `patternProperties`, `min/maxProperties`, `items` (schema or draft-07 tuple), `prefixItems`,
 * `min/maxItems`, `uniqueItems`, `enum`, `const`, `minimum`/`maximum`, `exclusiveMinimum`/
 * `exclusiveMaximum` (number or draft-04 boolean), `multipleOf`, `minLength`/`maxLength`,
 * `pattern`, `anyOf`/`oneOf`/`allOf`/`not`, `if`/`then`/`else`, boolean schemas and local
 * `$ref`s (`#`, `#/$defs/…`, `#/definitions/…`). Annotations and unknown keywords (`title`,
 * `description`, `default`, `format`, …) are ignored.
 *
 * Invariants: compiling checks the shape of every keyword it knows and every `$ref`, so a
 * schema that compiles never throws while validating; issues name the JSON path of the value
 * (`input.name`, `input.tags[2]`) and the rule, never a string value of the input.
 */

/** One way a value fails a schema: where (`input.name`) and what (`expected string, got number`). */
export interface SchemaIssue {
  path: string;
  message: string;
}

/** A compiled schema. */
export interface CompiledJsonSchema {
  /** Every issue of `value` (empty when it conforms); paths start at `root` (default `input`). */
  validate(value: unknown, root?: string): SchemaIssue[];
}

/** The outcome of {@link compileJsonSchema}: the validator, or what is wrong with the schema. */
export type CompileJsonSchemaResult =
  { ok: true; schema: CompiledJsonSchema } | { ok: false; problem: string };

const TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);
const SCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "$defs", "definitions"] as const;
const SCHEMA_KEYWORDS = [
  "additionalProperties",
  "additionalItems",
  "not",
  "if",
  "then",
  "else",
] as const;
const SCHEMA_LIST_KEYWORDS = ["anyOf", "oneOf", "allOf", "prefixItems"] as const;
const COUNT_KEYWORDS = [
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
] as const;
/** Issues kept per validation: enough to explain, bounded for huge inputs. */
const MAX_ISSUES = 50;

type Schema = boolean | Record<string, unknown>;

/**
 * Compiles `schema` (an object or a boolean). `label` names the schema in problems
 * (default `input_schema`): `input_schema.properties.age.minimum must be a number`.
 */
export function compileJsonSchema(
  schema: unknown,
  label = "input_schema",
): CompileJsonSchemaResult {
  const patterns = new Map<string, RegExp>();
  const problem = checkSchema(schema, label, schema, patterns);
  if (problem !== null) return { ok: false, problem };
  const root = schema as Schema;
  return {
    ok: true,
    schema: {
      validate(value: unknown, rootPath = "input"): SchemaIssue[] {
        const issues: SchemaIssue[] = [];
        validateNode(root, value, rootPath, { root, patterns, issues, depth: 0 });
        return issues.slice(0, MAX_ISSUES);
      },
    },
  };
}

/** `input.name: expected string, got number; input.age: must be >= 0, got -1` (at most `max`). */
export function formatSchemaIssues(issues: readonly SchemaIssue[], max = 5): string {
  const shown = issues.slice(0, max).map((issue) => `${issue.path}: ${issue.message}`);
  const more = issues.length - shown.length;
  return more > 0 ? `${shown.join("; ")} (and ${String(more)} more)` : shown.join("; ");
}

// ---------------------------------------------------------------------------------------------
// Compile-time checks

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkSchema(
  node: unknown,
  at: string,
  root: unknown,
  patterns: Map<string, RegExp>,
): string | null {
  if (typeof node === "boolean") return null;
  if (!isObject(node)) return `${at} must be a schema (an object or a boolean)`;
  const type = node["type"];
  if (type !== undefined) {
    const names = Array.isArray(type) ? type : [type];
    if (names.length === 0) return `${at}.type must not be an empty list`;
    for (const name of names) {
      if (typeof name !== "string" || !TYPES.has(name)) {
        return `${at}.type: ${JSON.stringify(name)} is not a JSON Schema type (string, number, integer, boolean, object, array, null)`;
      }
    }
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const map = node[keyword];
    if (map === undefined) continue;
    if (!isObject(map)) return `${at}.${keyword} must be an object of schemas`;
    for (const [key, sub] of Object.entries(map)) {
      if (keyword === "patternProperties") {
        const problem = checkPattern(key, `${at}.patternProperties`, patterns);
        if (problem !== null) return problem;
      }
      const problem = checkSchema(sub, `${at}.${keyword}${pathKey(key)}`, root, patterns);
      if (problem !== null) return problem;
    }
  }
  for (const keyword of SCHEMA_KEYWORDS) {
    if (node[keyword] === undefined) continue;
    const problem = checkSchema(node[keyword], `${at}.${keyword}`, root, patterns);
    if (problem !== null) return problem;
  }
  for (const keyword of SCHEMA_LIST_KEYWORDS) {
    const list = node[keyword];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) {
      return `${at}.${keyword} must be a non-empty list of schemas`;
    }
    for (const [index, sub] of list.entries()) {
      const problem = checkSchema(sub, `${at}.${keyword}[${String(index)}]`, root, patterns);
      if (problem !== null) return problem;
    }
  }
  const items = node["items"];
  if (items !== undefined) {
    const list = Array.isArray(items) ? items : [items];
    for (const [index, sub] of list.entries()) {
      const where = Array.isArray(items) ? `${at}.items[${String(index)}]` : `${at}.items`;
      const problem = checkSchema(sub, where, root, patterns);
      if (problem !== null) return problem;
    }
  }
  const required = node["required"];
  if (
    required !== undefined &&
    (!Array.isArray(required) || !required.every((name) => typeof name === "string"))
  ) {
    return `${at}.required must be a list of property names`;
  }
  if (node["enum"] !== undefined && !Array.isArray(node["enum"])) {
    return `${at}.enum must be a list of values`;
  }
  for (const keyword of COUNT_KEYWORDS) {
    const count = node[keyword];
    if (count !== undefined && (!Number.isInteger(count) || (count as number) < 0)) {
      return `${at}.${keyword} must be a non-negative integer`;
    }
  }
  for (const keyword of ["minimum", "maximum"]) {
    if (node[keyword] !== undefined && typeof node[keyword] !== "number") {
      return `${at}.${keyword} must be a number`;
    }
  }
  for (const keyword of ["exclusiveMinimum", "exclusiveMaximum"]) {
    const bound = node[keyword];
    if (bound !== undefined && typeof bound !== "number" && typeof bound !== "boolean") {
      return `${at}.${keyword} must be a number`;
    }
  }
  const multipleOf = node["multipleOf"];
  if (multipleOf !== undefined && (typeof multipleOf !== "number" || multipleOf <= 0)) {
    return `${at}.multipleOf must be a number greater than 0`;
  }
  if (node["uniqueItems"] !== undefined && typeof node["uniqueItems"] !== "boolean") {
    return `${at}.uniqueItems must be true or false`;
  }
  const pattern = node["pattern"];
  if (pattern !== undefined) {
    if (typeof pattern !== "string") return `${at}.pattern must be a regular expression string`;
    const problem = checkPattern(pattern, `${at}.pattern`, patterns);
    if (problem !== null) return problem;
  }
  const ref = node["$ref"];
  if (ref !== undefined) {
    if (typeof ref !== "string") return `${at}.$ref must be a string`;
    if (resolveRef(root, ref) === undefined) {
      return `${at}.$ref "${ref}" does not resolve (only local references such as "#/$defs/name" are supported)`;
    }
  }
  return null;
}

function checkPattern(source: string, at: string, patterns: Map<string, RegExp>): string | null {
  if (patterns.has(source)) return null;
  try {
    patterns.set(source, new RegExp(source, "u"));
    return null;
  } catch (error) {
    return `${at}: ${JSON.stringify(source)} is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** The schema a local `$ref` points at (`#`, `#/$defs/a`, `#/definitions/a/properties/b`…). */
function resolveRef(root: unknown, ref: string): Schema | undefined {
  if (ref === "#") return root as Schema;
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    let token: string;
    try {
      token = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    } catch {
      return undefined;
    }
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else return undefined;
  }
  return typeof node === "boolean" || isObject(node) ? node : undefined;
}

// ---------------------------------------------------------------------------------------------
// Validation

interface State {
  root: Schema;
  patterns: Map<string, RegExp>;
  issues: SchemaIssue[];
  /** `$ref` nesting, bounded so a self-referencing schema cannot recurse forever. */
  depth: number;
}

const MAX_REF_DEPTH = 64;

function validateNode(schema: Schema, value: unknown, path: string, state: State): void {
  if (state.issues.length >= MAX_ISSUES) return;
  const { issues } = state;
  if (schema === true) return;
  if (schema === false) {
    issues.push({ path, message: "no value is allowed here" });
    return;
  }
  const ref = schema["$ref"];
  if (typeof ref === "string") {
    if (state.depth >= MAX_REF_DEPTH) {
      issues.push({ path, message: `$ref "${ref}" nests deeper than ${String(MAX_REF_DEPTH)}` });
      return;
    }
    const target = resolveRef(state.root, ref) ?? true;
    validateNode(target, value, path, { ...state, depth: state.depth + 1 });
  }
  const type = schema["type"];
  if (type !== undefined) {
    const names = (Array.isArray(type) ? type : [type]) as string[];
    if (!names.some((name) => hasType(value, name))) {
      issues.push({
        path,
        message: `expected ${orList(names)}, got ${describeType(value, names)}`,
      });
      return;
    }
  }
  if (Object.hasOwn(schema, "const") && !jsonEqual(value, schema["const"])) {
    issues.push({ path, message: `expected ${preview(schema["const"])}` });
  }
  const choices = schema["enum"];
  if (Array.isArray(choices) && !choices.some((choice) => jsonEqual(value, choice))) {
    issues.push({ path, message: `expected one of ${choices.map(preview).join(", ")}` });
  }
  if (typeof value === "number") validateNumber(schema, value, path, issues);
  else if (typeof value === "string") validateString(schema, value, path, state);
  else if (Array.isArray(value)) validateArray(schema, value, path, state);
  else if (isObject(value)) validateObject(schema, value, path, state);
  validateCombinators(schema, value, path, state);
}

function validateNumber(
  schema: Record<string, unknown>,
  value: number,
  path: string,
  issues: SchemaIssue[],
): void {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf } = schema;
  const got = `, got ${String(value)}`;
  if (typeof minimum === "number") {
    if (exclusiveMinimum === true ? value <= minimum : value < minimum) {
      const op = exclusiveMinimum === true ? ">" : ">=";
      issues.push({ path, message: `must be ${op} ${String(minimum)}${got}` });
    }
  }
  if (typeof maximum === "number") {
    if (exclusiveMaximum === true ? value >= maximum : value > maximum) {
      const op = exclusiveMaximum === true ? "<" : "<=";
      issues.push({ path, message: `must be ${op} ${String(maximum)}${got}` });
    }
  }
  if (typeof exclusiveMinimum === "number" && value <= exclusiveMinimum) {
    issues.push({ path, message: `must be > ${String(exclusiveMinimum)}${got}` });
  }
  if (typeof exclusiveMaximum === "number" && value >= exclusiveMaximum) {
    issues.push({ path, message: `must be < ${String(exclusiveMaximum)}${got}` });
  }
  if (typeof multipleOf === "number") {
    const quotient = value / multipleOf;
    if (Math.abs(quotient - Math.round(quotient)) > 1e-9) {
      issues.push({ path, message: `must be a multiple of ${String(multipleOf)}${got}` });
    }
  }
}

function validateString(
  schema: Record<string, unknown>,
  value: string,
  path: string,
  state: State,
): void {
  const length = [...value].length;
  const { minLength, maxLength, pattern } = schema;
  if (typeof minLength === "number" && length < minLength) {
    state.issues.push({
      path,
      message: `must be at least ${plural(minLength, "character")}, got ${String(length)}`,
    });
  }
  if (typeof maxLength === "number" && length > maxLength) {
    state.issues.push({
      path,
      message: `must be at most ${plural(maxLength, "character")}, got ${String(length)}`,
    });
  }
  if (typeof pattern === "string" && state.patterns.get(pattern)?.test(value) === false) {
    state.issues.push({ path, message: `must match the pattern ${pattern}` });
  }
}

function validateArray(
  schema: Record<string, unknown>,
  value: unknown[],
  path: string,
  state: State,
): void {
  const { minItems, maxItems, uniqueItems, items, prefixItems } = schema;
  if (typeof minItems === "number" && value.length < minItems) {
    state.issues.push({
      path,
      message: `must have at least ${plural(minItems, "item")}, got ${String(value.length)}`,
    });
  }
  if (typeof maxItems === "number" && value.length > maxItems) {
    state.issues.push({
      path,
      message: `must have at most ${plural(maxItems, "item")}, got ${String(value.length)}`,
    });
  }
  if (uniqueItems === true) {
    outer: for (let i = 0; i < value.length; i += 1) {
      for (let j = i + 1; j < value.length; j += 1) {
        if (jsonEqual(value[i], value[j])) {
          state.issues.push({
            path,
            message: `items must be unique (items ${String(i)} and ${String(j)} are equal)`,
          });
          break outer;
        }
      }
    }
  }
  const tuple = Array.isArray(prefixItems) ? prefixItems : Array.isArray(items) ? items : [];
  const rest = Array.isArray(items)
    ? (schema["additionalItems"] as Schema | undefined)
    : (items as Schema | undefined);
  value.forEach((item, index) => {
    const itemSchema = (index < tuple.length ? tuple[index] : rest) as Schema | undefined;
    if (itemSchema !== undefined) {
      validateNode(itemSchema, item, `${path}[${String(index)}]`, state);
    }
  });
}

function validateObject(
  schema: Record<string, unknown>,
  value: Record<string, unknown>,
  path: string,
  state: State,
): void {
  const properties = isObject(schema["properties"]) ? schema["properties"] : {};
  const patternProperties = isObject(schema["patternProperties"])
    ? schema["patternProperties"]
    : {};
  const { required, additionalProperties, minProperties, maxProperties } = schema;
  const keys = Object.keys(value);
  if (typeof minProperties === "number" && keys.length < minProperties) {
    state.issues.push({
      path,
      message: `must have at least ${plural(minProperties, "property", "properties")}, got ${String(keys.length)}`,
    });
  }
  if (typeof maxProperties === "number" && keys.length > maxProperties) {
    state.issues.push({
      path,
      message: `must have at most ${plural(maxProperties, "property", "properties")}, got ${String(keys.length)}`,
    });
  }
  if (Array.isArray(required)) {
    for (const name of required as string[]) {
      if (!Object.hasOwn(value, name)) {
        state.issues.push({ path: `${path}${pathKey(name)}`, message: "is required" });
      }
    }
  }
  for (const key of keys) {
    const at = `${path}${pathKey(key)}`;
    let matched = false;
    if (Object.hasOwn(properties, key)) {
      matched = true;
      validateNode(properties[key] as Schema, value[key], at, state);
    }
    for (const [source, sub] of Object.entries(patternProperties)) {
      if (state.patterns.get(source)?.test(key) === true) {
        matched = true;
        validateNode(sub as Schema, value[key], at, state);
      }
    }
    if (matched || additionalProperties === undefined) continue;
    if (additionalProperties === false) {
      state.issues.push({ path: at, message: "is not an allowed property" });
    } else {
      validateNode(additionalProperties as Schema, value[key], at, state);
    }
  }
}

function validateCombinators(
  schema: Record<string, unknown>,
  value: unknown,
  path: string,
  state: State,
): void {
  const { allOf, anyOf, oneOf, not } = schema;
  if (Array.isArray(allOf)) {
    for (const sub of allOf) validateNode(sub as Schema, value, path, state);
  }
  if (Array.isArray(anyOf)) {
    const results = anyOf.map((sub) => trial(sub as Schema, value, path, state));
    if (!results.some((issues) => issues.length === 0)) {
      state.issues.push(...closest(results, path, "anyOf", value));
    }
  }
  if (Array.isArray(oneOf)) {
    const results = oneOf.map((sub) => trial(sub as Schema, value, path, state));
    const matching = results.flatMap((issues, index) => (issues.length === 0 ? [index] : []));
    if (matching.length === 0) {
      state.issues.push(...closest(results, path, "oneOf", value));
    } else if (matching.length > 1) {
      state.issues.push({
        path,
        message: `must match exactly one oneOf alternative, but matches ${matching.map((i) => `#${String(i)}`).join(" and ")}`,
      });
    }
  }
  if (not !== undefined && trial(not as Schema, value, path, state).length === 0) {
    state.issues.push({ path, message: 'must not match the "not" schema' });
  }
  if (schema["if"] !== undefined) {
    const branch =
      trial(schema["if"] as Schema, value, path, state).length === 0
        ? schema["then"]
        : schema["else"];
    if (branch !== undefined) validateNode(branch as Schema, value, path, state);
  }
}

/** The issues `value` would have against `schema`, without recording them. */
function trial(schema: Schema, value: unknown, path: string, state: State): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  validateNode(schema, value, path, { ...state, issues });
  return issues;
}

/**
 * What to report when no alternative matches: when every alternative refuses the value's type,
 * one line listing the types; otherwise the issues of the first alternative that accepts the
 * type (the one the caller most likely meant).
 */
function closest(
  results: SchemaIssue[][],
  path: string,
  keyword: string,
  value: unknown,
): SchemaIssue[] {
  const typeMiss = /^expected (.+), got /;
  const wrongType = (issues: SchemaIssue[]): boolean =>
    issues.length === 1 && issues[0]?.path === path && typeMiss.test(issues[0].message);
  const meant = results.find((issues) => !wrongType(issues));
  if (meant !== undefined) return meant;
  const expected = results.flatMap((issues) => {
    const match = typeMiss.exec(issues[0]?.message ?? "");
    return match?.[1] === undefined ? [] : match[1].split(/, | or /);
  });
  const unique = [...new Set(expected)];
  return [
    {
      path,
      message: `expected ${orList(unique)} (${keyword}), got ${describeType(value, unique)}`,
    },
  ];
}

function hasType(value: unknown, name: string): boolean {
  switch (name) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    default:
      return false;
  }
}

/** `number`, `null`, `array`…; a number where an integer was expected is shown with its value. */
function describeType(value: unknown, expected: readonly string[]): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && expected.includes("integer")) {
    return `number ${String(value)}`;
  }
  return typeof value;
}

function orList(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} or ${names[names.length - 1] ?? ""}`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${String(count)} ${count === 1 ? one : many}`;
}

/** A `const`/`enum` value for a message: JSON, cut at 40 characters. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** `.name` for identifier keys, `["a b"]` otherwise. */
function pathKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
    );
  }
  return false;
}
