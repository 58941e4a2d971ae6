import { defineConfig, type Options } from "tsup";

const shared: Options = {
  format: ["esm"],
  platform: "node",
  target: "node22",
  sourcemap: true,
  tsconfig: "tsconfig.build.json",
};

export default defineConfig([
  {
    ...shared,
    entry: { index: "src/index.ts" },
    dts: { entry: { index: "src/index.ts" } },
    // The child build below writes child.js* into the same dir, possibly first: keep them.
    clean: ["!child.js", "!child.js.map"],
  },
  {
    ...shared,
    // `child` is the shipped run-process entry (spec 02 §8), not an import path. Every run
    // start pays for resolving and compiling each ES module it loads, so the supervisor's child
    // runtime is bundled into this one file. The SDK (`@promenade/workflow*`) stays external:
    // the program and the runtime must share one module instance (spec 01 §6.3). The agent
    // loop and MCP stay external too (loaded lazily by dynamic import, only when used).
    entry: { child: "src/child.ts" },
    noExternal: [/^@promenade\/supervisor(\/|$)/],
    splitting: false,
    clean: false,
  },
]);
