import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    runtime: "src/runtime/index.ts",
    extract: "src/extract/index.ts",
    errors: "src/errors/index.ts",
    records: "src/records/index.ts",
    "node-guard": "src/node-guard.ts",
    limits: "src/limits/index.ts",
    redact: "src/redact/index.ts",
    clock: "src/clock/index.ts",
    testing: "src/testing/index.ts",
  },
  format: ["esm"],
  platform: "node",
  target: "node22",
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
});
