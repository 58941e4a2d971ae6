import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    child: "src/child/index.ts",
    testing: "src/testing/index.ts",
    "spawner-process": "src/spawner-process.ts",
  },
  format: ["esm"],
  platform: "node",
  target: "node22",
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
});
