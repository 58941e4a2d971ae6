/**
 * On a Node.js older than 22 every entry point — the `promenade` and `promenade-server` bins,
 * the server binary, `@promenade/engine`, `@promenade/store` — prints one line and exits 1
 * before native code loads, and `pnpm install` in the repository stops with an engine error.
 * Before, better-sqlite3 crashed the process (`Segmentation fault`, exit 139) with no word about
 * the version. Runs the built entries with an old `node` found on this machine (skipped when
 * there is none).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const REPO = join(PACKAGE, "..", "..");

/** An installed `node` older than 22, if the machine has one. */
function oldNode(): { path: string; version: string } | null {
  const candidates = new Set(["/usr/bin/node", "/bin/node", "/usr/local/bin/node"]);
  try {
    for (const line of execFileSync("which", ["-a", "node"], { encoding: "utf8" }).split("\n")) {
      if (line.trim() !== "") candidates.add(line.trim());
    }
  } catch {
    // `which -a` is a convenience; the fixed candidates are enough.
  }
  for (const path of candidates) {
    const probe = spawnSync(path, ["--version"], { encoding: "utf8" });
    const version = probe.stdout?.trim() ?? "";
    const major = Number(/^v(\d+)\./.exec(version)?.[1] ?? "NaN");
    if (probe.status === 0 && major < 22) return { path, version };
  }
  return null;
}

const old = oldNode();

function runOld(
  args: string[],
  cwd: string,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(old?.path ?? "node", args, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(old === null)(`on ${old?.version ?? "an old Node.js"}`, () => {
  const message = `Promenade needs Node.js >= 22 (found ${old?.version ?? ""})\n`;

  it.each([
    ["the promenade bin", ["bin/promenade.js", "--help"], PACKAGE],
    ["the promenade-server alias bin", ["bin/promenade-server.js"], PACKAGE],
    ["the server binary", ["apps/server/dist/main.js"], REPO],
    ["@promenade/engine", ["--input-type=module", "-e", 'import "@promenade/engine";'], PACKAGE],
    [
      "@promenade/store",
      ["--input-type=module", "-e", 'import "@promenade/store";'],
      join(REPO, "packages/engine"),
    ],
  ])("%s prints the version it needs and exits 1", (_name, args, cwd) => {
    const result = runOld(args, cwd);
    expect(result.stderr).toBe(message);
    expect(result.stdout).toBe("");
    expect(result.status).toBe(1);
  });

  it("pnpm install stops with an engine error", () => {
    const dir = mkdtempSync(join(tmpdir(), "promenade-engine-strict-"));
    copyFileSync(join(REPO, "package.json"), join(dir, "package.json"));
    copyFileSync(join(REPO, ".npmrc"), join(dir, ".npmrc"));
    writeFileSync(join(dir, "pnpm-workspace.yaml"), "packages: []\n");
    const pnpm = execFileSync("which", ["pnpm"], { encoding: "utf8" }).trim();
    const result = spawnSync(pnpm, ["install", "--offline"], {
      cwd: dir,
      encoding: "utf8",
      env: {
        PATH: `${dirname(old?.path ?? "")}:${process.env["PATH"] ?? ""}`,
        HOME: process.env["HOME"] ?? "",
      },
    });
    expect(`${result.stdout}${result.stderr}`).toContain("ERR_PNPM_UNSUPPORTED_ENGINE");
    expect(result.status).not.toBe(0);
  });
});
