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
    // `child` is the shipped run-process entry (every run process executes it), not an import
    // path. Every run start pays for resolving and compiling each ES module it loads, so the
    // supervisor's child runtime and the stateless redaction module are bundled into this one
    // file. The rest of the SDK (`@promenade/workflow*`) stays external: the program and the
    // runtime must share one module instance, since the runtime installs the host the program's
    // primitives call. The agent loop and MCP stay external too (loaded lazily by dynamic
    // import, only when used).
    entry: { child: "src/child.ts" },
    noExternal: [/^@promenade\/supervisor(\/|$)/, /^@promenade\/workflow\/redact$/],
    splitting: false,
    clean: false,
  },
]);
