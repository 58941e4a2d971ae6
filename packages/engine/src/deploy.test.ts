/**
 * Deploy checks (source size, manifest literal, schema, slug, config) and the atomic skills directory, without an
 * engine. What breaks if these fail: a bad program stored, or a half-written skills set.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { platformExtensionFields, prepareDeploy, readSkills, writeSkills } from "./deploy.ts";
import type { CronCheck } from "./deploy.ts";
import type { JsonValue } from "@promenade/workflow";

const acceptAll: CronCheck = { validate: () => undefined };

function meta(literal: string, body = ""): string {
  return `import { output } from "@promenade/workflow";\nexport const meta = ${literal};\n${body}`;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe("prepareDeploy", () => {
  it("extracts and normalizes the manifest statically", () => {
    const prepared = prepareDeploy(
      {
        program: meta(
          '{ name: "legacy", secrets: [{ name: "GH" }], triggers: [{ kind: "manual" }] }',
          'throw new Error("never executed");',
        ),
      },
      acceptAll,
    );
    expect(prepared.manifest.slug).toBe("legacy");
    expect(prepared.manifest.permissions?.secrets).toEqual([{ name: "GH" }]);
    expect(prepared.config).toEqual({});
    expect(prepared.skills).toEqual({});
  });

  it("rejects non-literal meta, manifest errors, bad config and bad skills with VALIDATION", () => {
    const manual = '{ slug: "x", triggers: [{ kind: "manual" }] }';
    expect(code(() => prepareDeploy({ program: "const a = 1;" }, acceptAll))).toBe("VALIDATION");
    expect(
      code(() => prepareDeploy({ program: meta('{ slug: "x", triggers: [] }') }, acceptAll)),
    ).toBe("VALIDATION");
    expect(code(() => prepareDeploy({ program: "" }, acceptAll))).toBe("VALIDATION");
    expect(
      code(() => prepareDeploy({ program: meta(manual), config: [] as never }, acceptAll)),
    ).toBe("VALIDATION");
    expect(
      code(() =>
        prepareDeploy({ program: meta(manual), config: { catch_up: "later" } }, acceptAll),
      ),
    ).toBe("VALIDATION");
    expect(
      code(() => prepareDeploy({ program: meta(manual), skills: { "-dash": "x" } }, acceptAll)),
    ).toBe("VALIDATION");
    expect(
      code(() =>
        prepareDeploy({ program: meta(manual), skills: { ["a".repeat(121)]: "x" } }, acceptAll),
      ),
    ).toBe("VALIDATION");
    expect(
      prepareDeploy({ program: meta(manual), config: { catch_up: "once" } }, acceptAll).config,
    ).toEqual({ catch_up: "once" });
  });

  it("checks config.retention at deploy, naming the field", () => {
    const manual = '{ slug: "x", triggers: [{ kind: "manual" }] }';
    expect(
      prepareDeploy({ program: meta(manual), config: { retention: "7d, last 50" } }, acceptAll)
        .config,
    ).toEqual({ retention: "7d, last 50" });
    expect(() =>
      prepareDeploy({ program: meta(manual), config: { retention: "a week" } }, acceptAll),
    ).toThrow(/deployWorkflow: config\.retention "a week" is not a retention policy/);
    expect(() =>
      prepareDeploy({ program: meta(manual), config: { retention: 7 } }, acceptAll),
    ).toThrow(/config\.retention must be a string/);
  });

  it("validates the webhook replay policy in config.webhooks against the triggers", () => {
    const signed = meta('{ slug: "w", triggers: [{ kind: "webhook", auth: "signature" }] }');
    const tokenOnly = meta('{ slug: "t", triggers: [{ kind: "webhook", auth: "token" }] }');
    const strict = { webhooks: { strict: true, toleranceSeconds: 120 } };
    expect(prepareDeploy({ program: signed, config: strict }, acceptAll).config).toEqual(strict);
    expect(() => prepareDeploy({ program: tokenOnly, config: strict }, acceptAll)).toThrow(
      /config\.webhooks\.strict needs a webhook trigger with auth "signature"/,
    );
    expect(() =>
      prepareDeploy({ program: signed, config: { webhooks: { strict: "yes" } } }, acceptAll),
    ).toThrow(/config\.webhooks\.strict must be true or false/);
    expect(
      code(() =>
        prepareDeploy(
          { program: signed, config: { webhooks: { toleranceSeconds: 0 } } },
          acceptAll,
        ),
      ),
    ).toBe("VALIDATION");
  });

  it("refuses a config nested past the 256-level JSON depth limit", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    const program = meta('{ slug: "d", triggers: [{ kind: "manual" }] }');
    expect(() =>
      prepareDeploy({ program, config: { deep } as Record<string, JsonValue> }, acceptAll),
    ).toThrow(/config nests deeper than the 256-level JSON depth limit at config\.deep\.a\.a/);
  });

  it("names the failing cron trigger by index", () => {
    const program = meta(
      '{ slug: "c", triggers: [{ kind: "manual" }, { kind: "cron", expr: "0 9 * * *" }] }',
    );
    const failing: CronCheck = {
      validate: () => {
        throw new Error("bad field");
      },
    };
    expect(() => prepareDeploy({ program }, failing)).toThrow(/triggers\[1\].*bad field/);
  });

  it("lists explicitly set platform-extension fields only", () => {
    const prepared = prepareDeploy(
      {
        program: meta(
          '{ slug: "p", triggers: [{ kind: "manual" }], callable_by: "users_only", permissions: { contents: "read", secrets: [] } }',
        ),
      },
      acceptAll,
    );
    expect(platformExtensionFields(prepared.manifest)).toEqual([
      "callable_by",
      "permissions.contents",
    ]);
  });
});

describe("writeSkills", () => {
  let root: string | undefined;
  afterEach(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it("replaces the set wholesale and removes the directory when empty", () => {
    root = mkdtempSync(join(tmpdir(), "skills-"));
    writeSkills(root, "W1", { a: "# A", b: "# B" });
    expect(readSkills(root, "W1")).toEqual({ a: "# A", b: "# B" });
    writeSkills(root, "W1", { c: "# C" });
    expect(readSkills(root, "W1")).toEqual({ c: "# C" });
    writeSkills(root, "W1", {});
    expect(existsSync(join(root, "skills", "W1"))).toBe(false);
    expect(readdirSync(join(root, "skills"))).toEqual([]);
  });

  it("stores folder-skill files and AGENTS.md at their paths and reads the same map back", () => {
    root = mkdtempSync(join(tmpdir(), "skills-"));
    const files = {
      style: "short",
      "triage/SKILL.md": "# Triage",
      "triage/refs/labels.md": "bug",
      ".workflow/AGENTS.md": "rules",
    };
    writeSkills(root, "W1", files);
    const dir = join(root, "skills", "W1");
    expect(readFileSync(join(dir, "style.md"), "utf8")).toBe("short");
    expect(readFileSync(join(dir, "triage", "refs", "labels.md"), "utf8")).toBe("bug");
    expect(readFileSync(join(dir, ".workflow", "AGENTS.md"), "utf8")).toBe("rules");
    expect(readSkills(root, "W1")).toEqual(files);
    expect(() => writeSkills(root!, "W2", { "a/../../x": "escape" })).toThrow(/invalid/);
  });
});
