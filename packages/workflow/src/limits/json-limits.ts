/**
 * The one JSON depth rule every entry point applies: a value may nest at most
 * {@link MAX_JSON_DEPTH} arrays/objects deep. Owns the limit, the checks (on a parsed value, and on
 * raw text before `JSON.parse`), the path notation and the refusal message. Knows nothing about
 * HTTP, IPC or SQL. Invariant: every check is iterative with a stack bounded by the limit, so no
 * input — 400,000 levels, a cycle — can overflow the call stack or run past the first level over.
 */

/**
 * The deepest a stored JSON value may nest: arrays and objects count one level each, scalars
 * none (`1` is depth 0, `[]` and `{}` depth 1, `[[1]]` depth 2). Well under SQLite's 1,000-level
 * ceiling for its JSON functions, leaving room for the envelopes the engine wraps values in
 * (events, IPC messages, request bodies).
 */
export const MAX_JSON_DEPTH = 256;

/** Where a value first went past the depth limit. */
export interface JsonDepthProblem {
  /** Path of the array/object that opens one level past the limit, e.g. `$.a.b[3]…[0]` (truncated). */
  path: string;
  /** The limit that was crossed. */
  maxDepth: number;
}

/** Options of the depth checks. */
export interface JsonDepthOptions {
  /** Deepest allowed nesting. Default {@link MAX_JSON_DEPTH}. */
  maxDepth?: number;
  /** The path's root label. Default `"$"`. */
  root?: string;
  /**
   * Text checks only: container levels the caller's envelope adds around the values it holds
   * (`1` for `{"input": …}`); they are allowed on top of `maxDepth`. Default 0.
   */
  envelopeLevels?: number;
}

/** Path segments shown before and after the `…` of a truncated path. */
const PATH_HEAD = 8;
const PATH_TAIL = 2;
/** Longest key shown in a path, characters. */
const KEY_SHOWN = 40;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Formats a JSON path (`$.items[2]["odd key"]`), keeping the first 8 and the last 2 segments of a
 * long one around a `…`, and shortening keys over 40 characters, so a refusal message stays
 * one readable line.
 */
export function formatJsonPath(root: string, segments: readonly (string | number)[]): string {
  const show = (segment: string | number): string => {
    if (typeof segment === "number") return `[${String(segment)}]`;
    const key = segment.length > KEY_SHOWN ? `${segment.slice(0, KEY_SHOWN)}…` : segment;
    return IDENTIFIER.test(segment) ? `.${key}` : `[${JSON.stringify(key)}]`;
  };
  if (segments.length <= PATH_HEAD + PATH_TAIL + 1) return root + segments.map(show).join("");
  const head = segments.slice(0, PATH_HEAD).map(show).join("");
  const tail = segments
    .slice(segments.length - PATH_TAIL)
    .map(show)
    .join("");
  return `${root}${head}…${tail}`;
}

/**
 * The refusal message every entry point uses: `<what> nests deeper than the 256-level JSON depth
 * limit at <path>.`
 */
export function tooDeepMessage(what: string, problem: JsonDepthProblem): string {
  return `${what} nests deeper than the ${String(problem.maxDepth)}-level JSON depth limit at ${problem.path}.`;
}

interface Frame {
  node: object;
  /** Own enumerable keys of an object; `null` for an array. */
  keys: string[] | null;
  length: number;
  /** Index of the next child to visit; the child being visited is `next - 1`. */
  next: number;
}

/**
 * Checks a parsed value against the depth limit without recursion. Returns where it first goes
 * past `maxDepth`, or `null`. Only own enumerable keys are visited (what `JSON.stringify` writes);
 * a cycle is reported as too deep. Does not check value types.
 */
export function jsonDepthProblem(
  value: unknown,
  options: JsonDepthOptions = {},
): JsonDepthProblem | null {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const root = options.root ?? "$";
  if (typeof value !== "object" || value === null) return null;
  const stack: Frame[] = [];
  const pathOf = (): string =>
    formatJsonPath(
      root,
      stack.map((frame) =>
        frame.keys === null ? frame.next - 1 : (frame.keys[frame.next - 1] ?? ""),
      ),
    );
  if (maxDepth < 1) return { path: root, maxDepth };
  stack.push(frameOf(value));
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Frame;
    if (top.next >= top.length) {
      stack.pop();
      continue;
    }
    const index = top.next;
    top.next += 1;
    const child: unknown =
      top.keys === null
        ? (top.node as unknown[])[index]
        : (top.node as Record<string, unknown>)[top.keys[index] as string];
    if (typeof child !== "object" || child === null) continue;
    if (stack.length >= maxDepth) return { path: pathOf(), maxDepth };
    stack.push(frameOf(child));
  }
  return null;
}

function frameOf(node: object): Frame {
  if (Array.isArray(node)) return { node, keys: null, length: node.length, next: 0 };
  const keys = Object.keys(node);
  return { node, keys, length: keys.length, next: 0 };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Checks raw JSON text against the depth limit before it is parsed, in one linear pass that
 * skips string contents. Returns where the text first opens an array/object past
 * `maxDepth + envelopeLevels`, or `null` — also for text that is not JSON at all (the parser
 * reports that). Call it before `JSON.parse` so a deep document is refused without being built.
 */
export function jsonTextDepthProblem(
  text: string,
  options: JsonDepthOptions = {},
): JsonDepthProblem | null {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const allowed = maxDepth + (options.envelopeLevels ?? 0);
  const root = options.root ?? "$";
  // Per open container: whether it is an array, its current element index, and the raw span of
  // its current key (decoded only when a problem is reported).
  const isArray: boolean[] = [];
  const index: number[] = [];
  const keyStart: number[] = [];
  const keyEnd: number[] = [];
  let stringStart = -1;
  let stringEnd = -1;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      for (;;) {
        end = text.indexOf('"', end);
        if (end === -1) return null; // unterminated string: not JSON, the parser says so
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
        end += 1;
      }
      stringStart = i;
      stringEnd = end + 1;
      i = end;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      const depth = isArray.length;
      if (depth >= allowed) {
        const segments: (string | number)[] = [];
        for (let level = 0; level < depth; level++) {
          segments.push(
            isArray[level] === true
              ? (index[level] ?? 0)
              : decodeKey(text, keyStart[level] ?? -1, keyEnd[level] ?? -1),
          );
        }
        return { path: formatJsonPath(root, segments), maxDepth };
      }
      isArray.push(c === OPEN_ARRAY);
      index.push(0);
      keyStart.push(-1);
      keyEnd.push(-1);
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      isArray.pop();
      index.pop();
      keyStart.pop();
      keyEnd.pop();
    } else if (c === COMMA) {
      const top = isArray.length - 1;
      if (top >= 0 && isArray[top] === true) index[top] = (index[top] ?? 0) + 1;
    } else if (c === COLON) {
      const top = isArray.length - 1;
      if (top >= 0 && isArray[top] === false) {
        keyStart[top] = stringStart;
        keyEnd[top] = stringEnd;
      }
    }
  }
  return null;
}

function decodeKey(text: string, start: number, end: number): string {
  if (start < 0) return "";
  const raw = text.slice(start, end);
  try {
    const key: unknown = JSON.parse(raw);
    return typeof key === "string" ? key : raw;
  } catch {
    return raw.slice(1, -1);
  }
}
