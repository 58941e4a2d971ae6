/**
 * Keeps a trace's answer bounded: when a run produced more spans than `maxSpans`, each parent
 * keeps its first and last `keep` children and the ones between are folded into one `summary`
 * span (their count per kind, their time range, their summed tokens and cost, whether any cost is
 * estimated, whether any failed). `keep`
 * shrinks until the result fits; past that, the deepest spans are dropped. Pure.
 */
import type { SpanAttributes, SpanStatus, TraceSpan } from "./span.ts";

const KEEP_STEPS = [50, 20, 10, 5, 2, 1];

/** The spans to serve and how many were folded away (0 when nothing was). */
export function summariseSpans(
  spans: readonly TraceSpan[],
  maxSpans: number,
): { spans: TraceSpan[]; collapsed: number } {
  if (spans.length <= maxSpans) return { spans: [...spans], collapsed: 0 };
  const root = spans.find((span) => span.parentId === null);
  if (root === undefined) return { spans: spans.slice(0, maxSpans), collapsed: spans.length };
  const children = new Map<string, TraceSpan[]>();
  for (const span of spans) {
    if (span.parentId === null) continue;
    let list = children.get(span.parentId);
    if (list === undefined) {
      list = [];
      children.set(span.parentId, list);
    }
    list.push(span);
  }
  const sizes = subtreeSizes(root, children);
  let result: TraceSpan[] = [];
  for (const keep of KEEP_STEPS) {
    result = fold(root, children, sizes, keep);
    if (result.length <= maxSpans) break;
  }
  if (result.length > maxSpans) result = result.slice(0, maxSpans);
  const kept = result.filter((span) => span.kind !== "summary").length;
  return { spans: result, collapsed: spans.length - kept };
}

/** Breadth-first: every parent keeps `keep` children at each end and folds the middle. */
function fold(
  root: TraceSpan,
  children: ReadonlyMap<string, TraceSpan[]>,
  sizes: ReadonlyMap<string, number>,
  keep: number,
): TraceSpan[] {
  const out: TraceSpan[] = [root];
  const queue: TraceSpan[] = [root];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    if (node === undefined) break;
    const kids = children.get(node.id) ?? [];
    if (kids.length <= 2 * keep + 1) {
      out.push(...kids);
      queue.push(...kids);
      continue;
    }
    const head = kids.slice(0, keep);
    const middle = kids.slice(keep, kids.length - keep);
    const tail = kids.slice(kids.length - keep);
    out.push(...head, summarySpan(node.id, middle, sizes), ...tail);
    queue.push(...head, ...tail);
  }
  return out;
}

function summarySpan(
  parentId: string,
  middle: readonly TraceSpan[],
  sizes: ReadonlyMap<string, number>,
): TraceSpan {
  const attributes: SpanAttributes = { collapsed: middle.length, descendants: 0 };
  let startedAt = Number.POSITIVE_INFINITY;
  let endedAt: number | null = Number.NEGATIVE_INFINITY;
  let failed = false;
  let open = false;
  let descendants = 0;
  for (const span of middle) {
    const key = `count.${span.kind}`;
    attributes[key] = (typeof attributes[key] === "number" ? attributes[key] : 0) + 1;
    descendants += (sizes.get(span.id) ?? 1) - 1;
    startedAt = Math.min(startedAt, span.startedAt);
    if (span.endedAt === null) open = true;
    else endedAt = Math.max(endedAt, span.endedAt);
    if (span.status === "error" || span.status === "crashed") failed = true;
    if (span.attributes["estimated"] === true) attributes["estimated"] = true;
    for (const name of ["inputTokens", "outputTokens", "usdMicros"] as const) {
      const value = span.attributes[name];
      if (typeof value === "number") {
        const sum = attributes[name];
        attributes[name] = (typeof sum === "number" ? sum : 0) + value;
      }
    }
  }
  attributes["descendants"] = descendants;
  const status: SpanStatus = failed ? "error" : open ? "running" : "ok";
  return {
    id: `summary:${parentId}:${middle[0]?.id ?? ""}`,
    parentId,
    kind: "summary",
    name: `${middle.length} more`,
    startedAt,
    endedAt: open ? null : endedAt,
    status,
    attributes,
  };
}

/** Span count of each subtree (the span itself included), without recursion. */
function subtreeSizes(
  root: TraceSpan,
  children: ReadonlyMap<string, TraceSpan[]>,
): Map<string, number> {
  const order: TraceSpan[] = [root];
  for (let i = 0; i < order.length; i++) {
    const node = order[i];
    if (node !== undefined) order.push(...(children.get(node.id) ?? []));
  }
  const sizes = new Map<string, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    if (node === undefined) continue;
    let size = 1;
    for (const kid of children.get(node.id) ?? []) size += sizes.get(kid.id) ?? 1;
    sizes.set(node.id, size);
  }
  return sizes;
}
