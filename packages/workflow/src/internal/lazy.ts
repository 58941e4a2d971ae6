/**
 * Deferred zod: the schemas exported from `.` are built on first use, and zod itself is loaded
 * only then, so a run program that imports the primitives never pays zod's ~60 ms / ~4 MB load.
 * Invariants: each schema is built at most once; the object handed out behaves like the real
 * schema (methods, getters, `_zod` internals, prototype), so it can be parsed, composed into other
 * zod schemas and passed to `z.toJSONSchema`.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type * as Zod from "zod";

let zodModule: typeof Zod | undefined;

/** Loads zod synchronously on first call (spec: schemas are plain values, not promises). */
export function loadZod(): typeof Zod {
  if (zodModule !== undefined) return zodModule;
  const require = createRequire(import.meta.url);
  let specifier = "zod";
  // require(esm) (Node ≥ 22.12) puts zod's ESM build in the shared module cache: schemas built
  // here are then the same zod instance as a consumer's `import { z } from "zod"`. Older Node
  // falls back to zod's CommonJS build, which still parses and composes correctly.
  if (process.features.require_module && typeof import.meta.resolve === "function") {
    const url = import.meta.resolve("zod");
    if (url.startsWith("file:")) specifier = fileURLToPath(url);
  }
  zodModule = require(specifier) as typeof Zod;
  return zodModule;
}

/**
 * An object that stands in for `build()`'s result and calls `build` on first touch. Every trap
 * forwards to the real object with the real object as receiver, so zod's closures and lazy
 * getters see themselves, never the proxy.
 */
export function lazyObject<T extends object>(build: () => T): T {
  let real: T | undefined;
  const target = (): T => (real ??= build());
  return new Proxy(Object.create(null) as T, {
    get: (_t, key) => Reflect.get(target(), key, target()) as unknown,
    set: (_t, key, value) => Reflect.set(target(), key, value, target()),
    has: (_t, key) => Reflect.has(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_t, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
      // The proxy target is an empty extensible object, so every reported property must be
      // configurable or the Proxy invariants throw.
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
    defineProperty: (_t, key, descriptor) => Reflect.defineProperty(target(), key, descriptor),
    deleteProperty: (_t, key) => Reflect.deleteProperty(target(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(target()),
  });
}

/** Memoises a zero-argument builder: `once(build)()` runs `build` at most once. */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      value = build();
      done = true;
    }
    return value as T;
  };
}
