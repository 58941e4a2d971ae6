/**
 * Stacks of a program's errors, as the run row shows them: Node's source-map support is turned
 * on before the program is imported, so frames of a compiled TypeScript program name the
 * author's file and line (the compiled module carries an inline source map); the run
 * directory's path is cut from every frame (`greet.ts:12:9`, not an absolute file URL); Node's
 * own internal frames and the run process's frames below the program's outermost one are dropped.
 */
import module from "node:module";
import { pathToFileURL } from "node:url";

/** Frames kept after the header line. */
const MAX_FRAMES = 30;

/** Map stack frames of modules loaded from now on through their source maps. */
export function enableSourceMaps(): void {
  const support = (module as { setSourceMapsSupport?: (enabled: boolean) => void })
    .setSourceMapsSupport;
  if (typeof support === "function") support(true);
  else process.setSourceMapsEnabled(true);
}

/** `{ name, stack }` of a thrown `Error`, frames relative to `programDir`; `{}` otherwise. */
export function errorDetails(err: unknown, programDir: string): { name?: string; stack?: string } {
  if (!(err instanceof Error)) return {};
  const out: { name?: string; stack?: string } = {};
  if (typeof err.name === "string" && err.name !== "") out.name = err.name;
  let stack: unknown;
  try {
    stack = err.stack;
  } catch {
    stack = undefined;
  }
  if (typeof stack === "string" && stack !== "") out.stack = tidyStack(stack, programDir);
  return out;
}

function tidyStack(stack: string, programDir: string): string {
  const dirUrl = `${pathToFileURL(programDir).href}/`;
  const dirPath = `${programDir}/`;
  const lines = stack.split("\n");
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  const head = firstFrame === -1 ? lines : lines.slice(0, firstFrame);
  let frames = (firstFrame === -1 ? [] : lines.slice(firstFrame)).filter(
    (line) => !line.includes("node:internal/") && !line.includes("(node:internal"),
  );
  // Below the program's outermost frame is only the run process importing it.
  const inProgram = (line: string): boolean => line.includes(dirUrl) || line.includes(dirPath);
  const last = frames.findLastIndex(inProgram);
  if (last !== -1) frames = frames.slice(0, last + 1);
  frames = frames
    .slice(0, MAX_FRAMES)
    .map((line) => line.replaceAll(dirUrl, "").replaceAll(dirPath, ""));
  return [...head, ...frames].join("\n");
}
