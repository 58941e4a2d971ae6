/**
 * `promenade init`: the project files, a package name derived from the directory, and the
 * refusal to overwrite anything. If this breaks, init clobbers a user's package.json or writes
 * a project that does not install.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fakeIo } from "../../test/fake-io.ts";
import { main } from "../cli.ts";
import { packageName, projectFiles } from "./init.ts";

describe("promenade init", () => {
  it("writes package.json, tsconfig.json, .gitignore and workflows/hello.ts into a new dir", async () => {
    const root = mkdtempSync(join(tmpdir(), "promenade-init-"));
    const io = fakeIo({ cwd: root });
    expect(await main(["init", "My Flows"], io)).toBe(0);
    const dir = join(root, "My Flows");
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      name: string;
      type: string;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(manifest.name).toBe("my-flows");
    expect(manifest.type).toBe("module");
    expect(Object.keys(manifest.dependencies)).toEqual(["@promenade/workflow"]);
    expect(Object.keys(manifest.devDependencies).sort()).toEqual([
      "@types/node",
      "promenade",
      "typescript",
    ]);
    expect(JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8"))).toMatchObject({
      compilerOptions: { module: "NodeNext", strict: true, noEmit: true },
    });
    expect(readFileSync(join(dir, "workflows/hello.ts"), "utf8")).toContain('slug: "hello"');
    expect(io.err()).toContain("npx promenade run workflows/hello.ts");
  });

  it("writes nothing when any of its files exists, and says which", async () => {
    const dir = mkdtempSync(join(tmpdir(), "promenade-init-"));
    writeFileSync(join(dir, "package.json"), "{}\n");
    const io = fakeIo({ cwd: dir });
    expect(await main(["init"], io)).toBe(1);
    expect(io.err()).toContain("promenade init: . already has package.json; nothing written.");
    expect(readFileSync(join(dir, "package.json"), "utf8")).toBe("{}\n");
    expect(existsSync(join(dir, "workflows"))).toBe(false);
  });

  it("pins the SDK to this version's minor range, and any version from a development build", () => {
    expect(JSON.parse(projectFiles("/x/y", "0.4.2")["package.json"] ?? "")).toMatchObject({
      dependencies: { "@promenade/workflow": "^0.4.2" },
      devDependencies: { promenade: "^0.4.2" },
    });
    expect(JSON.parse(projectFiles("/x/y", "0.0.0")["package.json"] ?? "").dependencies).toEqual({
      "@promenade/workflow": "*",
    });
    expect(packageName("/a/..Weird__Name--")).toBe("weird__name");
  });
});
