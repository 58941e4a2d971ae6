/**
 * Shared Vitest projects for every package: `unit` (*.test.ts, fast, no real I/O beyond temp
 * files) and `integration` (*.integration.test.ts: real SQLite files, child processes, sockets).
 * Both resolve sibling packages to src/ through the "@promenade/source" export condition.
 */
import type { TestProjectInlineConfiguration } from "vitest/config";

const conditions = ["@promenade/source", "node", "import", "default"];
// Vitest hands the SSR conditions to the worker's Node as `--conditions`, which also steer
// `require()`: "import" there would make CommonJS packages (pg → pg-pool) require ESM wrappers.
// Vite adds import/require/default by itself, so the SSR list names only the custom ones.
const ssrConditions = ["@promenade/source", "node"];

/** The two projects; `pnpm test` runs both (integration after build, see turbo.json). */
export function projects(): TestProjectInlineConfiguration[] {
  const shared = {
    resolve: { conditions },
    ssr: { resolve: { conditions: ssrConditions, externalConditions: ["@promenade/source"] } },
  };
  return [
    {
      ...shared,
      test: {
        name: "unit",
        include: ["src/**/*.test.ts", "test/**/*.test.ts"],
        exclude: ["**/*.integration.test.ts", "**/node_modules/**", "**/dist/**"],
        testTimeout: 10_000,
        // Test files share their worker's module graph instead of re-evaluating it per file: no
        // test mocks modules or leaves globals changed, and the suite needs a third less CPU.
        isolate: false,
      },
    },
    {
      ...shared,
      test: {
        name: "integration",
        include: ["src/**/*.integration.test.ts", "test/**/*.integration.test.ts"],
        exclude: ["**/node_modules/**", "**/dist/**"],
        testTimeout: 120_000,
        hookTimeout: 60_000,
        // Child processes and SQLite files: keep the 2-core machine from thrashing.
        maxWorkers: 2,
        isolate: false,
      },
    },
  ];
}
