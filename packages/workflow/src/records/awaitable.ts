/**
 * Maybe-synchronous composition over {@link Awaitable} port results: each helper continues at once
 * when it is handed a plain value and goes through a promise only when a port returned one. Code
 * written with them finishes before returning on a synchronous backend (the SQLite store) and
 * returns a promise on an asynchronous one (PostgreSQL), with one body for both.
 * Rule of the house: a helper returns a plain value iff every step it ran returned one, and a
 * synchronous throw stays a synchronous throw.
 */

/** A value now, or later. Ports return it so a synchronous backend pays no promise per call. */
export type Awaitable<T> = T | Promise<T>;

/** Whether `value` is a promise (any thenable) rather than the value itself. */
export function isPromiseLike<T>(value: Awaitable<T>): value is Promise<T> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * `onValue(value)`: right away when `value` is plain, once it resolves otherwise. A rejection of
 * `value` skips `onValue` and rejects the result. (Not named `then`: a module exporting `then`
 * is itself a thenable, and `await import(...)` of it would call it.)
 */
export function andThen<T, U>(
  value: Awaitable<T>,
  onValue: (value: T) => Awaitable<U>,
): Awaitable<U> {
  return isPromiseLike(value) ? value.then(onValue) : onValue(value);
}

/**
 * `fn()`, with `onError` handling a synchronous throw as well as a rejection, so one handler
 * covers both kinds of backend. The result is plain iff `fn` (and `onError`, when it ran) was.
 */
export function attempt<T>(
  fn: () => Awaitable<T>,
  onError: (error: unknown) => Awaitable<T>,
): Awaitable<T> {
  let result: Awaitable<T>;
  try {
    result = fn();
  } catch (error) {
    return onError(error);
  }
  return isPromiseLike(result) ? result.then(undefined, onError) : result;
}

/**
 * `fn()`, then `cleanup()` whether it succeeded or failed: right after a plain result or a
 * synchronous throw, after settlement for a promise. The outcome of `fn` passes through.
 */
export function always<T>(fn: () => Awaitable<T>, cleanup: () => void): Awaitable<T> {
  let result: Awaitable<T>;
  try {
    result = fn();
  } catch (error) {
    cleanup();
    throw error;
  }
  if (!isPromiseLike(result)) {
    cleanup();
    return result;
  }
  return result.then(
    (value) => {
      cleanup();
      return value;
    },
    (error: unknown) => {
      cleanup();
      throw error;
    },
  );
}

/**
 * Calls `step()` until it returns `false`, each call after the previous one finished. Stays in a
 * plain loop (no recursion, no promise) for as long as `step` returns plain values, and switches
 * to an asynchronous loop at the first promise.
 */
export function repeat(step: () => Awaitable<boolean>): Awaitable<void> {
  for (;;) {
    const more = step();
    if (isPromiseLike(more)) return more.then(async (again) => continueAsync(again, step));
    if (!more) return;
  }
}

async function continueAsync(again: boolean, step: () => Awaitable<boolean>): Promise<void> {
  while (again) again = await step();
}

/**
 * `fn(item)` for every item, in order, each after the previous one finished: synchronous while
 * every call returns a plain value. A throw or rejection stops the walk and is passed on.
 */
export function each<T>(items: Iterable<T>, fn: (item: T) => Awaitable<void>): Awaitable<void> {
  const iterator = items[Symbol.iterator]();
  return repeat(() => {
    const next = iterator.next();
    if (next.done === true) return false;
    return andThen(fn(next.value), () => true);
  });
}
