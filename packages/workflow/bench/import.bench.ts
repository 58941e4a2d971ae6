/**
 * `pnpm bench` for @promenade/workflow, from the built dist (turbo's `bench` task builds first).
 * What a run program pays to import the SDK: each scenario runs in a fresh Node process (module
 * caches are per process), timing the dynamic import in-process and reading the heap after a
 * forced GC. "eager" = import, then build the event and manifest schemas: what every run would
 * pay if `.` built its zod schemas at import time (the design this package avoids).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const RUNS = 15;

const scenarios: Record<string, string> = {
  "bare node (no import)": "",
  "import @promenade/workflow (lean)": 'await import("@promenade/workflow");',
  "import + use primitives and runtime":
    'const sdk = await import("@promenade/workflow"); const rt = await import("@promenade/workflow/runtime"); rt.installInput(1); sdk.output(sdk.input);',
  "eager: import + build all schemas":
    'const sdk = await import("@promenade/workflow"); sdk.runEventSchema.options; sdk.canonicalManifestSchema.shape; sdk.workflowManifestSchema.def;',
  "import zod alone": 'await import("zod");',
  "import @promenade/workflow/extract": 'await import("@promenade/workflow/extract");',
};

interface Sample {
  importMs: number;
  heapMiB: number;
}

function sample(body: string): Sample {
  const script = `
    const start = performance.now();
    ${body}
    const importMs = performance.now() - start;
    globalThis.gc();
    console.log(JSON.stringify({ importMs, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 }));
  `;
  const stdout = execFileSync(
    process.execPath,
    ["--expose-gc", "--input-type=module", "-e", script],
    {
      cwd: packageDir,
      encoding: "utf8",
    },
  );
  return JSON.parse(stdout) as Sample;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function describe(values: readonly number[], unit: string): string {
  const sorted = [...values].sort((a, b) => a - b);
  const min = sorted[0] ?? 0;
  const max = sorted.at(-1) ?? 0;
  return `${median(values).toFixed(1)} ${unit} (min ${min.toFixed(1)}, max ${max.toFixed(1)})`;
}

console.log(
  `@promenade/workflow import cost, ${String(RUNS)} fresh processes per scenario, node ${process.version}`,
);
for (const [name, body] of Object.entries(scenarios)) {
  const samples = Array.from({ length: RUNS }, () => sample(body));
  console.log(
    `${name.padEnd(40)} import ${describe(
      samples.map((s) => s.importMs),
      "ms",
    ).padEnd(36)} heap ${describe(
      samples.map((s) => s.heapMiB),
      "MiB",
    )}`,
  );
}
