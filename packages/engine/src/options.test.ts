/**
 * `resolveEngineOptions`: defaults and the VALIDATION error of every bad option. What breaks if
 * these fail: a typo'd option silently ignored, or a negative grace making cancels instant.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { isEngineError } from "@promenade/workflow/errors";
import { defaultChildEntryPath, resolveEngineOptions } from "./options.ts";
import type { EngineOptions } from "./options.ts";

function validationMessage(options: unknown): string {
  try {
    resolveEngineOptions(options as EngineOptions);
  } catch (error) {
    if (isEngineError(error) && error.code === "VALIDATION") return error.message;
    throw error;
  }
  throw new Error("expected VALIDATION");
}

describe("resolveEngineOptions", () => {
  it("applies the documented defaults", () => {
    const resolved = resolveEngineOptions({ dataDir: "data" });
    expect(isAbsolute(resolved.dataDir)).toBe(true);
    expect(resolved.env).toEqual({});
    expect(resolved.envLabel).toBe("the engine environment");
    expect(resolved.inference).toEqual({});
    expect(resolved.maxRestarts).toBe(2);
    expect(resolved.cancelGraceMs).toBe(10_000);
    expect(resolved.tickIntervalMs).toBe(1000);
    expect(resolved.lateFireThresholdMs).toBe(300_000);
    expect(resolved.warmPoolSize).toBe(0);
    expect(resolved.maxBooting).toBeUndefined();
    expect(resolveEngineOptions({ dataDir: "d", maxBooting: 3 }).maxBooting).toBe(3);
    expect(resolved.childEntryPath).toBe(defaultChildEntryPath());
    expect(resolved.childEntryPath.endsWith("/dist/run/child.js")).toBe(true);
    expect(typeof resolved.clock.now()).toBe("number");
  });

  it("takes the SDK package beside a run-process entry given by a relative path as an absolute path", () => {
    const root = mkdtempSync(join(tmpdir(), "promenade-entry-"));
    try {
      mkdirSync(join(root, "run", "sdk"), { recursive: true });
      writeFileSync(join(root, "run", "child.js"), "");
      writeFileSync(join(root, "run", "sdk", "package.json"), "{}");
      const entry = relative(process.cwd(), join(root, "run", "child.js"));
      const resolved = resolveEngineOptions({ dataDir: "d", childEntryPath: entry });
      expect(resolved.childEntryPath).toBe(join(root, "run", "child.js"));
      expect(resolved.sdkPackageDir).toBe(join(root, "run", "sdk"));
      // An entry with no SDK package beside it: the installed SDK.
      rmSync(join(root, "run", "sdk"), { recursive: true });
      expect(
        resolveEngineOptions({ dataDir: "d", childEntryPath: entry }).sdkPackageDir,
      ).toBeNull();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("snapshots processEnv by default and copies a given one", () => {
    const given = { PATH: "/bin", EMPTY: undefined };
    const resolved = resolveEngineOptions({ dataDir: "d", processEnv: given });
    expect(resolved.processEnv).toEqual(given);
    expect(resolved.processEnv).not.toBe(given);
    expect(Object.keys(resolveEngineOptions({ dataDir: "d" }).processEnv).length).toBeGreaterThan(
      0,
    );
  });

  it("rejects each bad option with VALIDATION naming it", () => {
    expect(validationMessage(null)).toContain("options");
    expect(validationMessage({})).toContain("dataDir");
    expect(validationMessage({ dataDir: "d", env: { A: 1 } })).toContain("env");
    expect(validationMessage({ dataDir: "d", processEnv: { A: 2 } })).toContain("processEnv");
    expect(validationMessage({ dataDir: "d", envLabel: "" })).toContain("envLabel");
    expect(validationMessage({ dataDir: "d", inference: "x" })).toContain("inference");
    expect(validationMessage({ dataDir: "d", clock: { now: () => 1 } })).toContain("clock");
    expect(validationMessage({ dataDir: "d", log: "stderr" })).toContain("log");
    expect(validationMessage({ dataDir: "d", maxRestarts: -1 })).toContain("maxRestarts");
    expect(validationMessage({ dataDir: "d", cancelGraceMs: 0.5 })).toContain("cancelGraceMs");
    expect(validationMessage({ dataDir: "d", childEntryPath: "" })).toContain("childEntryPath");
    expect(validationMessage({ dataDir: "d", tickIntervalMs: 0 })).toContain("tickIntervalMs");
    expect(validationMessage({ dataDir: "d", lateFireThresholdMs: 0 })).toContain(
      "lateFireThresholdMs",
    );
    expect(validationMessage({ dataDir: "d", warmPoolSize: -2 })).toContain("warmPoolSize");
    expect(validationMessage({ dataDir: "d", maxBooting: 0 })).toContain("maxBooting");
    expect(validationMessage({ dataDir: "d", dataDirr: "typo" })).toContain("dataDirr");
  });

  it("reads cluster mode: a node id defaulting to host and pid, a lease of at least 1000 ms", () => {
    expect(resolveEngineOptions({ dataDir: "d" }).cluster).toBeNull();
    const defaults = resolveEngineOptions({ dataDir: "d", cluster: {} }).cluster;
    expect(defaults?.leaseMs).toBe(30_000);
    expect(defaults?.nodeId.endsWith(`:${String(process.pid)}`)).toBe(true);
    expect(
      resolveEngineOptions({ dataDir: "d", cluster: { nodeId: "n1", leaseMs: 2000 } }).cluster,
    ).toEqual({ nodeId: "n1", leaseMs: 2000 });
    expect(validationMessage({ dataDir: "d", cluster: { leaseMs: 999 } })).toContain(
      "cluster.leaseMs",
    );
    expect(validationMessage({ dataDir: "d", cluster: { nodeId: "" } })).toContain(
      "cluster.nodeId",
    );
    expect(validationMessage({ dataDir: "d", cluster: { lease: 5 } })).toContain('"lease"');
  });
});
