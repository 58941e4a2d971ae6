import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", pg: "src/pg/index.ts", testing: "src/testing/index.ts" },
  format: ["esm"],
  platform: "node",
  target: "node22",
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
  // drizzle-orm is pure JS but ships a 180 KB package.json that Node 24 re-reads for each of the
  // ~450 modules it imports (~0.4 s and ~130 MB RSS per engine boot). Bundling the few drizzle
  // modules the store uses keeps the engine's start fast; better-sqlite3 (native) and pg (a
  // dependency of the ./pg entry only) stay external.
  noExternal: [/^drizzle-orm/],
});
