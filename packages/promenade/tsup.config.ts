import { defineConfig } from "tsup";

export default defineConfig({
  // `main` and `server-main` are what bin/promenade.js and bin/promenade-server.js import after
  // their Node.js version check; `index` is the programmatic door.
  entry: { index: "src/index.ts", main: "src/main.ts", "server-main": "src/server-main.ts" },
  format: ["esm"],
  platform: "node",
  target: "node22",
  dts: { entry: { index: "src/index.ts" } },
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
  // The composed server (boot, configuration, engine adapter) is the private workspace package
  // `promenade-server`: bundled into this package so the published tarball carries it.
  noExternal: ["promenade-server"],
});
