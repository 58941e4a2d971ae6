// The SDK surface programs of the 0.2.x line import: each export links and behaves as those
// programs expect on a self-hosted engine.
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  computer,
  normalizeReasoning,
  now,
  parseRunEventLenient,
  random,
  runEventSchema,
  runtime,
  shell,
  step,
  uuid,
  workflows,
} from "./index.ts";
import { installRunInfo, resetRuntime } from "./runtime/index.ts";

afterEach(() => resetRuntime());

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error("expected a rejection");
}

function thrown(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a throw");
}

describe("runtime", () => {
  it("names the run, its workflow and its workspace once the engine installed them", () => {
    expect(thrown(() => runtime.runId).code).toBe("UNSUPPORTED");
    installRunInfo({ runId: "run_1", workflowId: "wf_1", workspaceDir: "/w" });
    expect([runtime.runId, runtime.workflowId, runtime.workspaceDir]).toEqual([
      "run_1",
      "wf_1",
      "/w",
    ]);
  });

  it("answers UNSUPPORTED for what needs a hosted control plane", async () => {
    installRunInfo({ runId: "run_1", workflowId: "wf_1", workspaceDir: "/w" });
    expect(thrown(() => runtime.orgId).code).toBe("UNSUPPORTED");
    expect(thrown(() => runtime.apiUrl).message).toContain("not supported by the installed engine");
    expect(await codeOf(runtime.apiToken())).toBe("UNSUPPORTED");
    expect(await codeOf(runtime.idToken(""))).toBe("VALIDATION");
    expect(await codeOf(runtime.idToken("https://aud.example"))).toBe("UNSUPPORTED");
  });
});

describe("shell", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("returns stdout without trailing newlines, from the working directory or cwd", () => {
    expect(shell("echo hi")).toBe("hi");
    expect(shell("printf 'a\\nb\\n\\n'")).toBe("a\nb");
    dir = realpathSync(mkdtempSync(join(tmpdir(), "promenade-shell-")));
    expect(shell("pwd", { cwd: dir })).toBe(dir);
    expect(shell('echo "$GREETING"', { env: { GREETING: "hello" } })).toBe("hello");
  });

  it("throws naming the exit code and the start of stderr when the command fails", () => {
    const error = thrown(() => shell("echo nope >&2; exit 3"));
    expect(error.message).toContain("shell command failed");
    expect(error.message).toContain("exit code 3");
    expect(error.message).toContain("nope");
    expect(thrown(() => shell("echo x >&2; exit 1")).message.length).toBeLessThan(2200);
    expect(thrown(() => shell("")).code).toBe("VALIDATION");
  });
});

describe("exports of earlier lines", () => {
  it("runs step.run's function and answers now, random and uuid from the process", async () => {
    expect(await step.run("add", () => 1 + 1)).toBe(2);
    expect(await step.run("async", () => Promise.resolve("done"))).toBe("done");
    const before = Date.now();
    expect(await now()).toBeGreaterThanOrEqual(before);
    const r = await random();
    expect(r >= 0 && r < 1).toBe(true);
    expect(await uuid()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("rejects hosted features with 'is not supported by the installed engine'", async () => {
    for (const call of [computer.openBrowser(), workflows.schedule("x", {})]) {
      await expect(call).rejects.toThrow("is not supported by the installed engine");
    }
  });
});

describe("normalizeReasoning", () => {
  it("turns a string into an effort and lets an effort win over maxTokens", () => {
    expect(normalizeReasoning(undefined)).toBeUndefined();
    expect(normalizeReasoning("high")).toEqual({ effort: "high" });
    expect(normalizeReasoning({ effort: "low", maxTokens: 4096 })).toEqual({ effort: "low" });
    expect(normalizeReasoning({ maxTokens: 4096, exclude: true })).toEqual({
      maxTokens: 4096,
      exclude: true,
    });
  });

  it("refuses unknown efforts, fields and types, naming reasoning", () => {
    for (const bad of ["extreme", 3, { effort: "max" }, { maxTokens: 0 }, { budget: 1 }, []]) {
      const error = thrown(() => normalizeReasoning(bad));
      expect(error.code).toBe("VALIDATION");
      expect(error.message).toContain("reasoning");
    }
  });
});

describe("parseRunEventLenient", () => {
  const envelope = { runId: "run_1", turnId: "run_1", seq: 1, t: 1 };

  it("parses a valid event as is, and drops fields it does not know at any depth", () => {
    const ok = { ...envelope, kind: "phase", name: "p", id: "p-1" };
    expect(parseRunEventLenient(ok)).toEqual(ok);
    const newer = {
      ...envelope,
      kind: "run_status",
      status: "failed",
      error: { code: "PROGRAM_ERROR", message: "boom", retryable: false },
      region: "eu",
    };
    expect(parseRunEventLenient(newer)).toEqual({
      ...envelope,
      kind: "run_status",
      status: "failed",
      error: { code: "PROGRAM_ERROR", message: "boom" },
    });
  });

  it("reads the sleeping status other engines wrote, which the strict schema refuses", () => {
    const sleeping = { ...envelope, kind: "run_status", status: "sleeping" };
    expect(runEventSchema.safeParse(sleeping).success).toBe(false);
    expect(parseRunEventLenient(sleeping)).toEqual(sleeping);
    expect(parseRunEventLenient({ ...sleeping, note: "x" })).toEqual(sleeping);
    expect(parseRunEventLenient({ ...envelope, kind: "run_status", status: "napping" })).toBeNull();
  });

  it("answers null for an unknown kind, a wrong type or a missing field", () => {
    expect(parseRunEventLenient({ ...envelope, kind: "usage" })).toBeNull();
    expect(parseRunEventLenient({ ...envelope, kind: "phase", name: 1, id: "p" })).toBeNull();
    expect(parseRunEventLenient({ ...envelope, kind: "phase", id: "p", extra: 1 })).toBeNull();
    expect(parseRunEventLenient("nope")).toBeNull();
  });
});
