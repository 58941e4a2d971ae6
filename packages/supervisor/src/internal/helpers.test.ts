// Pure helpers: cursor envelopes, JSON rules, idempotency keys, the default child redactor,
// secrets, paths.
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRedactor } from "../child/redactor.ts";
import { defaultIdempotencyKey } from "../idempotency.ts";
import type { WorkflowRow } from "../ports.ts";
import { Envelope } from "./envelope.ts";
import { toJsonValue } from "../child/json.ts";
import { canonicalJson } from "./json.ts";
import { isValidRelativeDir, runDirs, SpareRunDirs } from "./run-dir.ts";
import { buildChildEnv, resolveSecret } from "./secrets.ts";

function workflow(manifest: Record<string, unknown>): WorkflowRow {
  return { manifest } as unknown as WorkflowRow;
}

describe("Envelope", () => {
  it("resumes in the block after the highest cursor and rolls over before the stride", () => {
    const fresh = Envelope.resume(0);
    expect(fresh.next().cursor).toBe(1);
    const resumed = Envelope.resume(1);
    expect(resumed.next().cursor).toBe(1_000_001);
    expect(Envelope.resume(3_000_042).next().cursor).toBe(4_000_001);
    const full = new Envelope(2, 999_998);
    expect(full.next().cursor).toBe(2_999_999);
    expect(full.next()).toEqual({ cursor: 3_000_001, seq: 1 });
    full.newBlock();
    expect(full.next().cursor).toBe(4_000_001);
  });
});

describe("JSON rules", () => {
  it("copies JSON and refuses what JSON cannot represent", () => {
    expect(toJsonValue({ a: 1, b: undefined, d: new Date(0) }, "x")).toEqual({
      a: 1,
      d: "1970-01-01T00:00:00.000Z",
    });
    expect(toJsonValue(undefined, "x")).toBeNull();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [() => 1, Symbol("s"), 10n, Number.NaN, { n: Infinity }, cyclic]) {
      expect(() => toJsonValue(bad, "input")).toThrow(
        expect.objectContaining({ code: "VALIDATION" }),
      );
    }
  });

  it("refuses values past the JSON depth limit by name and path, without overflowing", () => {
    const nested = (levels: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i++) value = [value];
      return value;
    };
    expect(() => toJsonValue(nested(256), "workflows.call input")).not.toThrow();
    for (const levels of [257, 10_000, 100_000]) {
      expect(() => toJsonValue({ deep: nested(levels) }, "workflows.call input")).toThrow(
        expect.objectContaining({
          code: "VALIDATION",
          message:
            "workflows.call input nests deeper than the 256-level JSON depth limit at $.deep[0][0][0][0][0][0][0]…[0][0].",
        }),
      );
    }
    // A cycle is still named as such.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toJsonValue(cyclic, "input")).toThrow(/must be JSON-serializable.*circular/);
  });

  it("sorts object keys recursively and keeps array order", () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 0 }], a: null })).toBe(
      '{"a":null,"b":[2,{"c":0,"d":1}]}',
    );
  });

  it("derives a 64-hex default key independent of key order", () => {
    const key = defaultIdempotencyKey("run1", "slug", { x: 1, y: 2 });
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(defaultIdempotencyKey("run1", "slug", { y: 2, x: 1 })).toBe(key);
    expect(defaultIdempotencyKey("run2", "slug", { x: 1, y: 2 })).not.toBe(key);
    expect(defaultIdempotencyKey("run1", "other", { x: 1, y: 2 })).not.toBe(key);
    expect(defaultIdempotencyKey("run1", "slug", { x: 1, y: 3 })).not.toBe(key);
  });
});

describe("redactor", () => {
  it("replaces longest matches in one pass and ignores short values", () => {
    const r = createRedactor();
    r.add("LONG", "abc12345-extended-tail");
    r.add("SHORT", "abc12345");
    r.add("TINY", "ab");
    expect(r.redact("x abc12345-extended-tail y abc12345 z ab")).toBe(
      "x [redacted:LONG] y [redacted:SHORT] z ab",
    );
    r.add("A", "1234xyz");
    r.add("B", "xyz9876");
    expect(r.redact("--1234xyz9876--")).toBe("--[redacted:A+B]--");
  });
});

describe("secrets", () => {
  const wf = workflow({
    permissions: { secrets: [{ name: "TOKEN" }, { name: "EMPTY" }] },
    env: { A: "${{ secrets.TOKEN }}", B: "${{secrets.TOKEN}}", C: "literal ${{ x" },
  });
  const source = {
    env: new Map([["EMPTY", ""]]),
    processEnv: { TOKEN: "from-process", PATH: "/bin", UNSET: undefined },
    envLabel: "the .env file",
  };

  it("checks the allow-list, then env, then processEnv", () => {
    expect(resolveSecret("TOKEN", wf, source)).toBe("from-process");
    expect(() => resolveSecret("OTHER", wf, source)).toThrow(
      expect.objectContaining({
        code: "SECRET_UNDECLARED",
        hint: 'Add { name: "OTHER" } to meta.permissions.secrets.',
      }),
    );
    expect(() => resolveSecret("EMPTY", wf, source)).toThrow(
      expect.objectContaining({ code: "SECRET_MISSING", hint: "Set EMPTY=… in the .env file." }),
    );
  });

  it("builds the child env with whole-value secret references resolved", () => {
    const built = buildChildEnv(wf, source);
    expect(built.env).toEqual({
      TOKEN: "from-process",
      PATH: "/bin",
      A: "from-process",
      B: "from-process",
      C: "literal ${{ x",
    });
    expect(built.envSecrets).toEqual({ A: "TOKEN", B: "TOKEN" });
    expect([...built.secretValues]).toEqual([["from-process", "TOKEN"]]);
  });
});

describe("small rules", () => {
  it("knows workspace-relative dirs", () => {
    expect(["mem", "a/b", "notes-1/x_y"].every(isValidRelativeDir)).toBe(true);
    expect(["", "/abs", "a\\b", "a//b", "./a", "a/..", "cache/"].some(isValidRelativeDir)).toBe(
      false,
    );
  });
});

describe("spare run dirs", () => {
  it("prepares run dirs in the background, hands one over by rename and adopts leftovers", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "promenade-supervisor-unit-"));
    const sdk = mkdtempSync(join(tmpdir(), "promenade-supervisor-unit-"));
    const spareNames = () =>
      readdirSync(join(dataDir, "runs")).filter((n) => n.startsWith(".spare-"));
    try {
      const spares = new SpareRunDirs(dataDir, sdk, 2);
      const dirs = runDirs({ dataDir, workDir: dataDir }, "01RUN");
      expect(spares.take(dirs)).toBe(false);
      await spares.idle();
      expect(spareNames()).toHaveLength(2);
      expect(spares.take(dirs)).toBe(true);
      expect(existsSync(dirs.workspaceDir)).toBe(true);
      for (const scope of ["@promenade", "@boardwalk-labs"]) {
        expect(realpathSync(join(dirs.programDir, "node_modules", scope, "workflow"))).toBe(
          realpathSync(sdk),
        );
      }
      expect(spares.take(dirs)).toBe(false);
      await spares.idle();
      await spares.close();
      const before = spareNames();
      expect(before).toHaveLength(2);
      const next = new SpareRunDirs(dataDir, sdk, 2);
      next.fill();
      await next.idle();
      expect(spareNames()).toEqual(before);
      expect(next.take(runDirs({ dataDir, workDir: dataDir }, "01OTHER"))).toBe(true);
      await next.close();
      // Closed while refilling: the refill in progress ends before close resolves.
      expect(spareNames()).toHaveLength(1);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(sdk, { recursive: true, force: true });
    }
  });

  it("puts a run's working directory under the work dir and its artifacts under the data dir", () => {
    const dirs = runDirs({ dataDir: "/shared/data", workDir: "/local/work" }, "01RUN");
    expect(dirs.runDir).toBe("/local/work/runs/01RUN");
    expect(dirs.workspaceDir).toBe("/local/work/runs/01RUN/workspace");
    expect(dirs.programPath).toBe("/local/work/runs/01RUN/program/index.mjs");
    expect(dirs.artifactsDir).toBe("/shared/data/runs/01RUN/artifacts");
    const one = runDirs({ dataDir: "/data", workDir: "/data" }, "01RUN");
    expect(one.artifactsDir).toBe(join(one.runDir, "artifacts"));
  });
});
