/**
 * Run a workflow file embedded, in three lines: `node examples/run-file.ts <file.mjs> [json]`.
 * (`pnpm --filter @promenade/engine example` builds the packages and runs examples/fixtures/hello.mjs.)
 */
import { readFileSync } from "node:fs";
import { Engine } from "@promenade/engine";

const [file = "examples/fixtures/hello.mjs", input = '{ "name": "Promenade" }'] =
  process.argv.slice(2);

const engine = new Engine({ dataDir: ".promenade" });
const run = await engine.runOnce({ program: readFileSync(file, "utf8"), input: JSON.parse(input) });
engine.close();

console.log(run.status, JSON.stringify(run.output));
