import { defineConfig } from "tsup";

export default defineConfig({
  // `child` is the shipped run-process entry (spec 02 §8), not an import path.
  entry: { index: "src/index.ts", child: "src/child.ts" },
  format: ["esm"],
  platform: "node",
  target: "node22",
  dts: { entry: { index: "src/index.ts" } },
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
});
