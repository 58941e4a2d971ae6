/**
 * `promenade init [dir]`: a new workflows project — package.json (the SDK, the CLI, TypeScript),
 * a tsconfig for editors and `tsc`, one example workflow and a .gitignore. Never overwrites: if
 * any of those files exists, nothing is written and the command says which.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import type { Command } from "../command.ts";
import { CliError } from "../errors.ts";
import { colorEnabled, createStyle } from "../format/color.ts";
import { VERSION } from "../version.ts";

/** The example workflow `init` writes to `workflows/hello.ts`. */
export const EXAMPLE_WORKFLOW = `// A manual workflow: greets someone, optionally after a pause.
//   npx promenade run workflows/hello.ts --input '{"name":"Ada"}'
import { input, output, phase, sleep } from "@promenade/workflow";
import type { WorkflowMeta } from "@promenade/workflow";

export const meta = {
  slug: "hello",
  title: "Hello",
  description: "Greets someone; pass pauseMs to make it sleep first.",
  triggers: [{ kind: "manual" }],
} satisfies WorkflowMeta;

interface HelloInput {
  name?: string;
  pauseMs?: number;
}

const args = (input ?? {}) as HelloInput;
const name = args.name ?? "world";

if (args.pauseMs !== undefined && args.pauseMs > 0) {
  phase("pause");
  console.log(\`sleeping \${args.pauseMs} ms before greeting \${name}\`);
  await sleep(args.pauseMs);
}

phase("greet");
console.log(\`hello, \${name}\`);
output({ greeting: \`hello, \${name}\` });
`;

/** A package name derived from the directory name. */
export function packageName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+|[-]+$/g, "");
  return name === "" ? "workflows" : name;
}

/** The files `init` writes, by path relative to the project directory. */
export function projectFiles(dir: string, version: string): Record<string, string> {
  const range = version === "0.0.0" ? "*" : `^${version}`;
  const manifest = {
    name: packageName(dir),
    private: true,
    type: "module",
    scripts: {
      dev: "promenade dev",
      hello: 'promenade run workflows/hello.ts --input \'{"name":"Ada"}\'',
      typecheck: "tsc --noEmit",
    },
    engines: { node: ">=22" },
    dependencies: { "@promenade/workflow": range },
    devDependencies: { "@types/node": "^24.0.0", promenade: range, typescript: "^5.9.0" },
  };
  const tsconfig = {
    compilerOptions: {
      target: "ES2023",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ["node"],
    },
    include: ["workflows"],
  };
  return {
    "package.json": `${JSON.stringify(manifest, null, 2)}\n`,
    "tsconfig.json": `${JSON.stringify(tsconfig, null, 2)}\n`,
    ".gitignore": "node_modules\n.promenade\n",
    "workflows/hello.ts": EXAMPLE_WORKFLOW,
  };
}

/** `promenade init`. */
export const initCommand: Command = {
  spec: {
    name: "init",
    summary: "create a workflows project (package.json, tsconfig, an example)",
    description:
      "Creates a workflows project in DIR (default: the current directory): package.json with @promenade/workflow and promenade, tsconfig.json, workflows/hello.ts and .gitignore. Refuses to overwrite any existing file.",
    options: {},
    positionals: [{ name: "dir", required: false }],
    examples: ["promenade init my-workflows && cd my-workflows && npm install"],
  },
  run(args, io) {
    const dir = resolve(io.cwd, args.positionals[0] ?? ".");
    const files = projectFiles(dir, VERSION);
    const existing = Object.keys(files).filter((path) => existsSync(join(dir, path)));
    if (existing.length > 0) {
      throw new CliError(
        `${relative(io.cwd, dir) || "."} already has ${existing.join(", ")}; nothing written.`,
        {
          hint: "Run promenade init in a new or empty directory, e.g. promenade init my-workflows.",
        },
      );
    }
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, ".."), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const style = createStyle(colorEnabled(io.stderr, io.env));
    const shown = relative(io.cwd, dir);
    io.stderr.write(
      [
        `${style.green("created")} ${Object.keys(files).join(", ")} in ${shown || "."}`,
        "",
        "Next:",
        ...(shown === "" ? [] : [`  cd ${shown}`]),
        "  npm install",
        `  npx promenade run workflows/hello.ts --input '{"name":"Ada"}'`,
        "  npx promenade dev        # server + run-log UI on http://127.0.0.1:8080",
        "",
      ].join("\n"),
    );
    return Promise.resolve(0);
  },
};
