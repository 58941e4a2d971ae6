import { defineConfig } from "tsup";

export default defineConfig({
  // `redactor` is a dependency-free subpath for the run-process entry, which needs the run's
  // Redactor synchronously at start without loading the loop.
  entry: { index: "src/index.ts", testing: "src/testing/index.ts", redactor: "src/redactor.ts" },
  format: ["esm"],
  platform: "node",
  target: "node22",
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
});
