/**
 * A binary min-heap keyed by a number. The scheduler keeps one entry per cron trigger ordered by
 * next fire time, so a tick with nothing due costs one peek instead of a scan of every workflow.
 */

/** Min-heap of `T` ordered by `keyOf`. */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #keyOf: (item: T) => number;

  constructor(keyOf: (item: T) => number) {
    this.#keyOf = keyOf;
  }

  /** Number of entries (stale ones included). */
  get size(): number {
    return this.#items.length;
  }

  /** The smallest entry, without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Add an entry: O(log n). */
  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    const key = this.#keyOf(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent] as T;
      if (this.#keyOf(above) <= key) break;
      items[i] = above;
      i = parent;
    }
    items[i] = item;
  }

  /** Remove and return the smallest entry: O(log n). */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    const key = this.#keyOf(last);
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      let child = left;
      if (right < items.length && this.#keyOf(items[right] as T) < this.#keyOf(items[left] as T)) {
        child = right;
      }
      const below = items[child] as T;
      if (this.#keyOf(below) >= key) break;
      items[i] = below;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Drop every entry. */
  clear(): void {
    this.#items.length = 0;
  }
}
