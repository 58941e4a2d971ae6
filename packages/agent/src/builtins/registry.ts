/**
 * The built-in tools by name, and the selection rule: the call's `builtins` option (default
 * `"all"`) intersected with the operator's ceiling, restricted to what this run can serve.
 * `subagent` and `run_code` are selected here but built by the loop (they need the loop itself,
 * or the leaf's finished tool list).
 */
import { EngineError } from "@promenade/workflow/errors";
import type { BuiltinsCeiling } from "../ports.ts";
import type { AgentTool } from "../tools.ts";
import { applyPatchTool } from "./apply-patch.ts";
import { artifactsTool } from "./artifacts.ts";
import { bashTool } from "./bash.ts";
import { clockTool } from "./clock.ts";
import type { BuiltinContext } from "./context.ts";
import { diagnosticsTool } from "./diagnostics.ts";
import { editTool } from "./edit.ts";
import { globTool } from "./glob.ts";
import { grepTool } from "./grep.ts";
import { lsTool } from "./ls.ts";
import { readTool } from "./read.ts";
import { RUN_CODE_TOOL } from "./run-code.ts";
import { todoTool } from "./todo.ts";
import { httpTool, webfetchTool } from "./web.ts";
import { webSearchTool } from "./web-search.ts";
import { writeTool } from "./write.ts";

/** The name of the tool that runs a child leaf. */
export const SUBAGENT_TOOL = "subagent";

/** Each built-in's factory; `null` when this leaf cannot serve it (no web search backend). */
const FACTORIES: Record<string, (ctx: BuiltinContext) => AgentTool | null> = {
  read: readTool,
  write: writeTool,
  edit: editTool,
  ls: lsTool,
  grep: grepTool,
  glob: globTool,
  bash: bashTool,
  apply_patch: applyPatchTool,
  diagnostics: diagnosticsTool,
  clock: clockTool,
  todo: todoTool,
  webfetch: webfetchTool,
  http: httpTool,
  web_search: (ctx) => (ctx.webSearch === undefined ? null : webSearchTool(ctx.webSearch)),
  artifacts: artifactsTool,
};

/** Every built-in tool this engine ships, in advertising order (then `subagent`, `run_code`). */
export const BUILTIN_TOOL_NAMES: readonly string[] = [
  ...Object.keys(FACTORIES),
  SUBAGENT_TOOL,
  RUN_CODE_TOOL,
];

/** The tools `"read-only"` allows (when available). */
const READ_ONLY: ReadonlySet<string> = new Set([
  "read",
  "ls",
  "grep",
  "glob",
  "diagnostics",
  "clock",
  "todo",
  "webfetch",
  "web_search",
]);

const FORMS = '"all", "read-only", "none" or an array of built-in tool names';

/** True for a name of the built-in tool line (served here or not). */
export function isBuiltinName(name: string): boolean {
  return BUILTIN_TOOL_NAMES.includes(name);
}

/** What this leaf can serve beyond the always-available tools. */
export interface BuiltinAvailability {
  artifacts: boolean;
  subagent: boolean;
  /** A search backend is configured (`web_search`). */
  webSearch: boolean;
}

function allowedBy(level: "all" | "read-only", name: string): boolean {
  return level === "all" || READ_ONLY.has(name);
}

/**
 * The built-in names a call gets, in advertising order (`subagent` included when selected).
 * @throws EngineError `VALIDATION` for a malformed `builtins` value; `UNSUPPORTED` for an
 *   explicit name that is unknown, not served here, or outside the operator's ceiling.
 */
export function selectBuiltins(
  option: unknown,
  ceiling: BuiltinsCeiling,
  available: BuiltinAvailability,
): string[] {
  const serves = (name: string): boolean =>
    name in FACTORIES
      ? (name !== "artifacts" || available.artifacts) &&
        (name !== "web_search" || available.webSearch)
      : name === RUN_CODE_TOOL || (name === SUBAGENT_TOOL && available.subagent);
  const underCeiling = (name: string): boolean => ceiling !== "none" && allowedBy(ceiling, name);
  const value = option ?? "all";
  if (value === "all" || value === "read-only" || value === "none") {
    if (value === "none") return [];
    return BUILTIN_TOOL_NAMES.filter(
      (name) => allowedBy(value, name) && underCeiling(name) && serves(name),
    );
  }
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    const wanted = new Set(value);
    for (const name of wanted) {
      if (!serves(name)) {
        throw new EngineError(
          "UNSUPPORTED",
          `agent() built-in tool "${name}" is not available on this engine.`,
          `Built-in tools here: ${BUILTIN_TOOL_NAMES.filter(serves).join(", ")}.`,
        );
      }
      if (!underCeiling(name)) {
        throw new EngineError(
          "UNSUPPORTED",
          `agent() built-in tool "${name}" is not available on this engine: the operator limits built-in tools to "${ceiling}".`,
        );
      }
    }
    return BUILTIN_TOOL_NAMES.filter((name) => wanted.has(name));
  }
  const hint =
    typeof value === "string" && isBuiltinName(value)
      ? `To pick single tools pass an array: builtins: [${JSON.stringify(value)}].`
      : `Use ${FORMS}.`;
  throw new EngineError(
    "VALIDATION",
    `agent() option "builtins" must be ${FORMS}; got ${JSON.stringify(value) ?? typeof value}.`,
    hint,
  );
}

/**
 * The tools for `names` (`subagent` and `run_code` skipped: the loop builds them; `web_search`
 * skipped without a backend).
 */
export function createBuiltinTools(names: readonly string[], ctx: BuiltinContext): AgentTool[] {
  const tools: AgentTool[] = [];
  for (const name of names) {
    const tool = FACTORIES[name]?.(ctx) ?? null;
    if (tool !== null) tools.push(tool);
  }
  return tools;
}

/**
 * The host's ceiling, checked (absent → `"all"`).
 * @throws EngineError `VALIDATION` for any other value.
 */
export function checkCeiling(value: unknown): BuiltinsCeiling {
  if (value === undefined) return "all";
  if (value === "all" || value === "read-only" || value === "none") return value;
  throw new EngineError(
    "VALIDATION",
    `The operator's built-in tool ceiling must be "all", "read-only" or "none"; got ${JSON.stringify(value)}.`,
  );
}
