/**
 * Exports of earlier SDK lines, kept so their programs run unchanged: `step.run(name, fn)` runs
 * `fn` (no journaling: a restarted run runs it again), `now()`, `random()` and `uuid()` answer from
 * the process. `computer.openBrowser()` needs a hosted browser this engine does not have.
 */
import { EngineError } from "./errors/index.ts";

/** A named step: runs `fn` and returns its result. */
export const step: { run<T>(name: string, fn: () => T | Promise<T>): Promise<T> } = {
  async run(name, fn) {
    if (typeof fn !== "function") {
      throw new EngineError(
        "VALIDATION",
        `step.run(${JSON.stringify(name)}, fn) needs a function.`,
      );
    }
    return fn();
  },
};

/** The current time in epoch milliseconds. */
export function now(): Promise<number> {
  return Promise.resolve(Date.now());
}

/** A random number in [0, 1). */
export function random(): Promise<number> {
  return Promise.resolve(Math.random());
}

/** A random UUID (version 4). */
export function uuid(): Promise<string> {
  return Promise.resolve(globalThis.crypto.randomUUID());
}

/** Hosted computer use. */
export const computer: { openBrowser(...args: unknown[]): Promise<never> } = {
  openBrowser() {
    return Promise.reject(
      new EngineError(
        "UNSUPPORTED",
        "computer.openBrowser() is not supported by the installed engine.",
      ),
    );
  },
};
