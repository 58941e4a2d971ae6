/**
 * What the `promenade` command loads before it does anything: `--help` and the commands that
 * only talk to a server never load the engine, its databases' drivers or the TypeScript
 * compiler (together most of a second of start-up on a small machine), while a local run still
 * does. If this breaks, every command a user types waits for code it never uses.
 */
import { afterAll, describe, expect, it } from "vitest";
import { CLI_MAIN, killChildren, spawnNode, writeFiles } from "./helpers.ts";

afterAll(killChildren);

/** Prints, on exit, every file URL the process loaded (one line, after a marker). */
const RECORD_LOADS = `data:text/javascript,${encodeURIComponent(
  [
    'import { registerHooks } from "node:module";',
    "const loaded = new Set();",
    "registerHooks({ load(url, context, next) { loaded.add(url); return next(url, context); } });",
    'process.on("exit", () => process.stderr.write("\\nLOADED " + JSON.stringify([...loaded]) + "\\n"));',
  ].join("\n"),
)}`;

/** Runs `promenade <args>`; resolves with its exit code and the file URLs it loaded. */
async function loadsOf(
  args: string[],
  cwd?: string,
): Promise<{ code: number | null; loaded: string[] }> {
  const proc = spawnNode(["--import", RECORD_LOADS, CLI_MAIN, ...args], {
    env: { PROMENADE_URL: "http://127.0.0.1:9" },
    ...(cwd === undefined ? {} : { cwd }),
  });
  const code = await proc.exit;
  const line = proc
    .stderr()
    .split("\n")
    .find((text) => text.startsWith("LOADED "));
  if (line === undefined) throw new Error(`no load record; stderr:\n${proc.stderr()}`);
  return { code, loaded: JSON.parse(line.slice("LOADED ".length)) as string[] };
}

/** The heavy packages: the engine, the database drivers, the TypeScript compiler. */
function heavy(loaded: string[]): string[] {
  return loaded.filter((url) =>
    /\/(engine|store|supervisor)\/dist\/|\/node_modules\/(typescript|better-sqlite3|pg)\//.test(
      url,
    ),
  );
}

describe("promenade start-up", () => {
  it("loads neither the engine nor the TypeScript compiler for --help or a server command", async () => {
    const help = await loadsOf(["--help"]);
    expect(help.code).toBe(0);
    expect(heavy(help.loaded)).toEqual([]);
    // Nothing listens on port 9: the command fails after parsing its arguments and connecting.
    const runs = await loadsOf(["runs"]);
    expect(runs.code).toBe(1);
    expect(heavy(runs.loaded)).toEqual([]);
  });

  it("still loads the engine for a local run", async () => {
    const dir = writeFiles({
      "hello.mjs": [
        'import { output } from "@promenade/workflow";',
        'export const meta = { slug: "hello", triggers: [{ kind: "manual" }] };',
        "output(1);",
      ].join("\n"),
    });
    const run = await loadsOf(["run", "hello.mjs"], dir);
    expect(run.code).toBe(0);
    expect(heavy(run.loaded).some((url) => url.includes("/engine/dist/"))).toBe(true);
  });
});
