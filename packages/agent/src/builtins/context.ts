/**
 * What a built-in tool receives from its leaf: the working directory it is confined to, the
 * `fetch` for web tools, the leaf's todo list, and the artifact store and web search when the run
 * offers them.
 */
import type { ArtifactsPort } from "../ports.ts";
import type { WebSearch } from "./web-search.ts";

/** One entry of the leaf's task list (`todo` tool). */
export interface TodoItem {
  content: string;
  status: "pending" | "in_progress" | "completed";
}

/** Per-leaf state and services shared by the built-in tools. */
export interface BuiltinContext {
  /** Absolute working directory (the run workspace, or the call's `cwd` below it). */
  readonly root: string;
  /** `fetch` for `webfetch` / `http`. */
  readonly fetch: typeof fetch;
  /** The leaf's task list, replaced by each `todo` call. */
  todos: TodoItem[];
  /** The run's artifact store, when the run process offers one. */
  readonly artifacts?: ArtifactsPort;
  /** The host's web search, when the operator configured a backend. */
  readonly webSearch?: WebSearch;
}
