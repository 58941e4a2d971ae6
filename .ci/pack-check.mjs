#!/usr/bin/env node
// Pack-and-install check: what a user gets from the registry, proven from the tarballs alone.
// Builds, packs every published package with `pnpm pack`, checks each tarball's metadata
// (LICENSE, README, repository with directory, homepage, bugs, keywords, no workspace: ranges),
// installs the tarballs with npm into a temp project outside the workspace (third-party
// dependencies come from the registry), then checks there: every entry point imports, the types
// resolve under NodeNext, `npx promenade --help` works, `promenade run` of a TypeScript file
// completes, and `promenade server` serves the API and UI and exits 0 on SIGINT.
// Usage: node .ci/pack-check.mjs [--skip-build] [--keep]
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const args = new Set(process.argv.slice(2));
const started = Date.now();
const failures = [];

function log(line) {
  process.stdout.write(`pack-check: ${line}\n`);
}

function check(ok, what) {
  if (ok) return;
  failures.push(what);
  log(`FAIL ${what}`);
}

function run(command, argv, options = {}) {
  return execFileSync(command, argv, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
}

function tryRun(command, argv, options = {}) {
  try {
    return { status: 0, stdout: run(command, argv, options), stderr: "" };
  } catch (error) {
    return {
      status: error.status ?? 1,
      stdout: String(error.stdout ?? ""),
      stderr: String(error.stderr ?? error.message),
    };
  }
}

// 1. Build and find the published packages (every non-private package under packages/).
if (!args.has("--skip-build")) {
  log("building");
  run("pnpm", ["run", "build"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
}
const packages = readdirSync(join(root, "packages"))
  .map((name) => join(root, "packages", name))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ manifest }) => manifest.private !== true);
log(`published packages: ${packages.map((p) => p.manifest.name).join(", ")}`);

// 2. Pack each one and check what the tarball carries.
const work = mkdtempSync(join(tmpdir(), "promenade-pack-check-"));
const tarballs = join(work, "tarballs");
mkdirSync(tarballs);
const files = [];
for (const { dir, manifest } of packages) {
  const before = new Set(readdirSync(tarballs));
  run("pnpm", ["pack", "--pack-destination", tarballs], { cwd: dir });
  const file = readdirSync(tarballs).find((f) => !before.has(f));
  if (file === undefined) {
    check(false, `${manifest.name}: pnpm pack wrote no tarball`);
    continue;
  }
  files.push(join(tarballs, file));
  const listing = run("tar", ["-tzf", join(tarballs, file)]).split("\n");
  for (const required of ["package/package.json", "package/LICENSE", "package/README.md"]) {
    check(listing.includes(required), `${manifest.name}: tarball lacks ${required.slice(8)}`);
  }
  const packed = JSON.parse(run("tar", ["-xzOf", join(tarballs, file), "package/package.json"]));
  const where = `packages/${dir.split("/").pop()}`;
  check(packed.license === "Apache-2.0", `${manifest.name}: license is not Apache-2.0`);
  check(
    packed.repository?.directory === where,
    `${manifest.name}: repository.directory is not ${where}`,
  );
  check(
    /^git\+https:\/\/github\.com\//.test(packed.repository?.url ?? ""),
    `${manifest.name}: repository.url`,
  );
  check(typeof packed.homepage === "string", `${manifest.name}: no homepage`);
  check(typeof packed.bugs?.url === "string", `${manifest.name}: no bugs.url`);
  check(
    Array.isArray(packed.keywords) && packed.keywords.length > 0,
    `${manifest.name}: no keywords`,
  );
  const ranges = JSON.stringify([packed.dependencies, packed.peerDependencies]);
  check(!ranges.includes("workspace:"), `${manifest.name}: a workspace: range survived packing`);
  const readme = run("tar", ["-xzOf", join(tarballs, file), "package/README.md"]);
  const prose = readme.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  const relative = [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((link) => !/^(https?:|mailto:|#)/.test(link));
  check(
    relative.length === 0,
    `${manifest.name}: README has relative links (${relative.join(", ")})`,
  );
}
log(`packed ${files.length} tarballs`);

// 3. Install the tarballs into a project outside the workspace.
const project = join(work, "project");
mkdirSync(project);
writeFileSync(
  join(project, "package.json"),
  `${JSON.stringify({ name: "pack-check", private: true, type: "module" }, null, 2)}\n`,
);
const typescriptVersion = JSON.parse(
  readFileSync(join(root, "node_modules/typescript/package.json"), "utf8"),
).version;
const typesNodeVersion = JSON.parse(
  readFileSync(join(root, "node_modules/@types/node/package.json"), "utf8"),
).version;
log("npm install (tarballs, plus third-party dependencies from the registry)");
const install = tryRun(
  "npm",
  [
    "install",
    "--no-audit",
    "--no-fund",
    "--no-package-lock",
    ...files,
    `typescript@${typescriptVersion}`,
    `@types/node@${typesNodeVersion}`,
  ],
  { cwd: project },
);
check(install.status === 0, `npm install failed:\n${install.stderr}`);

// 4. Every entry point imports (./testing subpaths need the caller's Vitest: not imported).
const entries = [];
for (const { manifest } of packages) {
  for (const subpath of Object.keys(manifest.exports ?? { ".": {} })) {
    if (subpath === "./package.json" || subpath.startsWith("./testing")) continue;
    entries.push(subpath === "." ? manifest.name : `${manifest.name}/${subpath.slice(2)}`);
  }
}
for (const entry of entries) {
  const imported = tryRun(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      // A JSON subpath (e.g. a shipped data file) imports as a JSON module.
      entry.endsWith(".json")
        ? `await import(${JSON.stringify(entry)}, { with: { type: "json" } });`
        : `await import(${JSON.stringify(entry)});`,
    ],
    {
      cwd: project,
    },
  );
  check(imported.status === 0, `import ${entry} failed:\n${imported.stderr}`);
}
log(`imported ${entries.length} entry points`);

// 5. Types resolve under NodeNext (our declaration files are checked too: no skipLibCheck).
writeFileSync(
  join(project, "tsconfig.json"),
  JSON.stringify({
    compilerOptions: {
      module: "NodeNext",
      moduleResolution: "NodeNext",
      target: "ES2023",
      strict: true,
      noEmit: true,
      types: ["node"],
    },
    files: ["types-check.ts"],
  }),
);
writeFileSync(
  join(project, "types-check.ts"),
  entries
    .map(
      (entry, i) =>
        `import type * as m${i} from ${JSON.stringify(entry)};\nexport type T${i} = typeof m${i};\n`,
    )
    .join("") +
    [
      'import { Engine } from "@promenade/engine";',
      'import type { WorkflowMeta } from "@promenade/workflow";',
      'import { createPromenadeServer } from "@promenade/server";',
      'import { main } from "promenade";',
      'export const meta = { slug: "x", triggers: [{ kind: "manual" }] } satisfies WorkflowMeta;',
      "export type Used = [typeof Engine, typeof createPromenadeServer, typeof main];",
      "",
    ].join("\n"),
);
const tsc = tryRun(
  process.execPath,
  [join(project, "node_modules/typescript/bin/tsc"), "-p", "."],
  { cwd: project },
);
// Report errors from our packages and the check file; third-party declaration noise is not ours.
const ours = `${tsc.stdout}${tsc.stderr}`
  .split("\n")
  .filter((line) => /error TS/.test(line))
  .filter((line) => /^(types-check\.ts|node_modules\/(promenade|@promenade)\/)/.test(line));
check(ours.length === 0, `types do not resolve under NodeNext:\n${ours.join("\n")}`);
if (tsc.status !== 0 && ours.length === 0)
  log(`tsc reported third-party errors only:\n${tsc.stdout}`);
log("types checked under NodeNext");

// 6. The command line, from the tarball.
const npx = (argv, options = {}) =>
  tryRun("npx", ["--no-install", ...argv], { cwd: project, ...options });
const help = npx(["promenade", "--help"]);
check(
  help.status === 0 && help.stdout.includes("Usage: promenade <command>"),
  `npx promenade --help:\n${help.stderr}`,
);
const version = npx(["promenade-server", "--version"]);
check(
  version.status === 0 && /^\d+\.\d+\.\d+/.test(version.stdout),
  `npx promenade-server --version:\n${version.stderr}`,
);
writeFileSync(
  join(project, "hello.ts"),
  [
    'import { input, output, phase } from "@promenade/workflow";',
    'import type { WorkflowMeta } from "@promenade/workflow";',
    "",
    'export const meta = { slug: "hello", triggers: [{ kind: "manual" }] } satisfies WorkflowMeta;',
    "interface Args { name?: string }",
    'const name: string = ((input ?? {}) as Args).name ?? "world";',
    'phase("greet");',
    "output({ greeting: `hello, ${name}` });",
    "",
  ].join("\n"),
);
const ran = npx(["promenade", "run", "hello.ts", "--input", '{"name":"Ada"}']);
let output = null;
try {
  output = JSON.parse(ran.stdout);
} catch {
  output = null;
}
check(
  ran.status === 0 && output?.greeting === "hello, Ada",
  `npx promenade run hello.ts (exit ${ran.status}):\n${ran.stdout}\n${ran.stderr}`,
);
log("promenade run of a TypeScript file checked");

// 7. `promenade server` (the installed bin, as after `npm i -g promenade`) serves the API and the
// UI, and a SIGINT exits 0. Under `npx`, npm's own shell also gets the terminal's SIGINT and
// exits 130 whatever the server does, so the server is started without it.
await new Promise((done) => {
  const child = spawn(join(project, "node_modules/.bin/promenade"), ["server", "--port", "0"], {
    cwd: project,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  let answered = false;
  const timer = setTimeout(() => {
    check(false, `promenade server did not start:\n${text}`);
    child.kill("SIGKILL");
  }, 60_000);
  const onData = async (chunk) => {
    text += chunk.toString("utf8");
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
    if (m === null || answered) return;
    answered = true;
    clearTimeout(timer);
    try {
      const ui = await fetch(`${m[1]}/`);
      const type = ui.headers.get("content-type") ?? "";
      check(ui.status === 200 && type.startsWith("text/html"), "GET / is not the UI");
      const api = await fetch(`${m[1]}/api/workflows`);
      check(api.status === 200, `GET /api/workflows answered ${api.status}`);
    } catch (error) {
      check(false, `promenade server did not answer: ${error}`);
    }
    child.kill("SIGINT");
  };
  child.stderr.on("data", onData);
  child.stdout.on("data", (chunk) => (text += chunk.toString("utf8")));
  child.on("close", (code) => {
    clearTimeout(timer);
    check(code === 0, `promenade server exited ${code} on SIGINT:\n${text}`);
    done();
  });
});
log("promenade server checked (API, UI, SIGINT)");

if (!args.has("--keep")) rmSync(work, { recursive: true, force: true });
else log(`kept ${work}`);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (failures.length > 0) {
  log(`${failures.length} failure(s) in ${seconds} s`);
  process.exit(1);
}
log(`all checks passed in ${seconds} s`);
