import { defineConfig, type Options } from "tsup";
import { BUNDLED_SDK_SUBPATHS } from "./src/sdk-resolve.ts";

const shared: Options = {
  format: ["esm"],
  platform: "node",
  target: "node22",
  sourcemap: true,
  tsconfig: "tsconfig.build.json",
};

/** Subpaths a program may import that stay the SDK package's own (no state shared with the runtime). */
const FORWARDED_SDK = ["extract", "testing", "node-guard"];

export default defineConfig([
  {
    ...shared,
    entry: { index: "src/index.ts" },
    dts: { entry: { index: "src/index.ts" } },
    // The run-process build below writes `dist/run/`, possibly first: keep it.
    clean: ["!run/**"],
  },
  {
    ...shared,
    // `run/child.js` is the shipped run-process entry (every run process executes it), not an
    // import path. Every run start pays for resolving and compiling each ES module it loads, so
    // the supervisor's child runtime and the SDK are bundled into this one file, which also
    // exports the SDK's names (`src/run-sdk.ts`). `run/sdk/` is a package of its own (written
    // below): one small file per SDK subpath re-exporting that subpath's names from the entry.
    // Programs import the SDK from there (the run directory links both SDK names to it, and the
    // entry's resolve hook maps them there directly), so program and runtime share one module
    // instance — the runtime installs the host the program's primitives call. The agent loop
    // and MCP stay external (loaded lazily by dynamic import, only when used).
    entry: { child: "src/child.ts" },
    outDir: "dist/run",
    noExternal: [
      /^@promenade\/supervisor(\/|$)/,
      new RegExp(`^@promenade/workflow(/(${BUNDLED_SDK_SUBPATHS.join("|")}))?$`),
    ],
    splitting: false,
    clean: true,
    onSuccess: writeRunSdk,
  },
]);

/**
 * Writes `dist/run/sdk/`: its `package.json` and one re-exporting file per SDK subpath; and
 * `dist/run/warm-up.js`, the module a pooled run process imports while it waits for its run.
 */
async function writeRunSdk(): Promise<void> {
  const { mkdirSync, readFileSync, writeFileSync } = await import("node:fs");
  writeFileSync(
    "dist/run/warm-up.js",
    '// Imported by a pooled run process while it idles: the SDK import a program makes.\nimport "@promenade/workflow";\n',
  );
  mkdirSync("dist/run/sdk", { recursive: true });
  const owner = new Map<string, { value: unknown; subpath: string }>();
  const exports: Record<string, string> = {};
  for (const sub of ["index", ...BUNDLED_SDK_SUBPATHS]) {
    const specifier = sub === "index" ? "@promenade/workflow" : `@promenade/workflow/${sub}`;
    const names = (await import(specifier)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(names)) {
      const first = owner.get(name);
      if (first !== undefined && first.value !== value) {
        throw new Error(
          `SDK subpaths ${first.subpath} and ${sub} both export "${name}" with different values: the run-process entry can export only one.`,
        );
      }
      owner.set(name, { value, subpath: sub });
    }
    const list = Object.keys(names).sort().join(", ");
    writeFileSync(`dist/run/sdk/${sub}.js`, `export { ${list} } from "../child.js";\n`);
    exports[sub === "index" ? "." : `./${sub}`] = `./${sub}.js`;
  }
  for (const sub of FORWARDED_SDK) {
    writeFileSync(`dist/run/sdk/${sub}.js`, `export * from "@promenade/workflow/${sub}";\n`);
    exports[`./${sub}`] = `./${sub}.js`;
  }
  const sdk = JSON.parse(readFileSync("../workflow/package.json", "utf8")) as { version: string };
  // Named apart from the SDK: code inside a package that imports the package's own name
  // resolves to the package itself, and the forwarding files import the installed SDK.
  const manifest = {
    name: "@promenade/engine-run-sdk",
    private: true,
    version: sdk.version,
    description: "The SDK as run processes load it, bundled with the run-process runtime.",
    type: "module",
    exports,
  };
  writeFileSync("dist/run/sdk/package.json", `${JSON.stringify(manifest, null, 2)}\n`);
}
