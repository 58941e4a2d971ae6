/**
 * The workflow bundler: TypeScript or multi-file workflows → one ESM program with the SDK import
 * left external, shared by `POST /api/workflows` and the boot-time directory sync. No minification
 * (the `meta` literal must stay statically extractable); an inline source map (file names
 * relative to the entry's directory, no embedded sources) so the run process maps the stacks of
 * a program's errors to the author's files and lines.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import type { Message } from "esbuild";
import { EngineError } from "@promenade/workflow/errors";

const EXTERNAL = [
  "@promenade/workflow",
  "@promenade/workflow/*",
  "@boardwalk-labs/workflow",
  "@boardwalk-labs/workflow/*",
];

function formatFailure(label: string, errors: Message[]): EngineError {
  const first = errors[0];
  const where =
    first?.location === null || first?.location === undefined
      ? ""
      : `${first.location.file}:${first.location.line}:${first.location.column + 1}: `;
  const more = errors.length > 1 ? ` (+${errors.length - 1} more)` : "";
  return new EngineError(
    "VALIDATION",
    `Compiling ${label} failed: ${where}${first?.text ?? "unknown error"}${more}`,
    "Only @promenade/workflow (or @boardwalk-labs/workflow) and node: builtins can be imported from an uploaded program; bundle other dependencies first.",
  );
}

/**
 * Bundle a workflow. `{ entryFile }` resolves relative imports from disk (package directories);
 * `{ source, filename }` compiles one uploaded file from an empty directory, so only the SDK
 * (external) and `node:` builtins resolve. Throws `VALIDATION` `Compiling <file> failed: …`.
 */
export async function bundleWorkflow(
  input: { entryFile: string } | { source: string; filename: string },
): Promise<string> {
  let entry: string;
  let label: string;
  let scratch: string | null = null;
  if ("entryFile" in input) {
    entry = input.entryFile;
    label = input.entryFile;
  } else {
    scratch = mkdtempSync(join(tmpdir(), "promenade-bundle-"));
    entry = join(scratch, input.filename);
    label = input.filename;
    writeFileSync(entry, input.source);
  }
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node22",
      external: EXTERNAL,
      write: false,
      logLevel: "silent",
      legalComments: "none",
      sourcemap: "inline",
      sourcesContent: false,
      // Error locations print relative to this; the entry's own directory keeps them short.
      absWorkingDir: scratch ?? dirname(entry),
    });
    const out = result.outputFiles[0];
    if (out === undefined)
      throw new EngineError("VALIDATION", `Compiling ${label} failed: no output`);
    return out.text;
  } catch (err) {
    if (
      typeof err === "object" &&
      err !== null &&
      Array.isArray((err as { errors?: unknown }).errors)
    ) {
      throw formatFailure(label, (err as { errors: Message[] }).errors);
    }
    throw err;
  } finally {
    if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
  }
}
