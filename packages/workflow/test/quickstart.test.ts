// The README's 30-second example must actually run: a fake host stands in for the engine, the
// way an engine's run entry installs its own before importing a program.
import { afterEach, describe, expect, it } from "vitest";
import {
  installConfig,
  installHost,
  installInput,
  resetRuntime,
  takeDeclaredOutput,
} from "@promenade/workflow/runtime";
import { extractManifest } from "@promenade/workflow/extract";
import { readFileSync } from "node:fs";

afterEach(() => resetRuntime());

describe("examples/quickstart.ts", () => {
  it("runs against an installed host and declares its output", async () => {
    const prompts: string[] = [];
    const phases: string[] = [];
    installHost({
      agent: (prompt) => {
        prompts.push(prompt);
        return Promise.resolve({ severity: "high" });
      },
      callWorkflow: () => Promise.resolve(null),
      sleep: () => Promise.resolve(),
      getSecret: () => Promise.resolve(""),
      setPhase: (name) => phases.push(name),
    });
    installInput({ text: "Login page is down" });
    installConfig({});
    await import("../examples/quickstart.ts");
    expect(prompts).toEqual(["Classify this ticket: Login page is down"]);
    expect(phases).toEqual(["classify"]);
    expect(takeDeclaredOutput()).toEqual({
      value: { ticket: "Login page is down", severity: "high" },
    });
  });

  it("has a meta the engine can extract and validate", () => {
    const source = readFileSync(new URL("../examples/quickstart.ts", import.meta.url), "utf8");
    expect(extractManifest(source, { fileName: "quickstart.ts" })).toMatchObject({
      slug: "triage",
      triggers: [{ kind: "manual" }, { kind: "cron", expr: "0 9 * * 1-5", timezone: "UTC" }],
    });
  });
});
