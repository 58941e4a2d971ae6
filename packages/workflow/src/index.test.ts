// `.` and `./runtime` export these names and nothing else. Other packages and third-party
// engines code against these names; a missing or extra export is an API change that needs a
// changeset.
import { describe, expect, it } from "vitest";
import * as runtime from "./runtime/index.ts";
import * as sdk from "./index.ts";

describe("export inventory", () => {
  it("exports exactly the SDK's public values from '.'", () => {
    expect(Object.keys(sdk).sort()).toEqual(
      [
        "agent",
        "humanInput",
        "workflows",
        "sleep",
        "secrets",
        "artifacts",
        "parallel",
        "output",
        "input",
        "config",
        "phase",
        "Phase",
        "workflowManifestSchema",
        "validateMeta",
        "MetaValidationError",
        "canonicalManifestSchema",
        "runEventSchema",
        "CHANNELS",
        "DEFAULT_CHANNELS",
        "channelOf",
        "matchesChannels",
        "makeCursor",
        "TURN_CURSOR_STRIDE",
        "tokenUsageSchema",
        "toolReturnSchema",
        "selectChannels",
        "runtime",
        "shell",
        "computer",
        "now",
        "random",
        "step",
        "uuid",
        "normalizeReasoning",
        "parseRunEventLenient",
      ].sort(),
    );
    expect(typeof sdk.workflows.call).toBe("function");
    expect(typeof sdk.secrets.get).toBe("function");
    expect(typeof sdk.artifacts.write).toBe("function");
  });

  it("exports exactly the host seam from './runtime'", () => {
    expect(Object.keys(runtime).sort()).toEqual(
      [
        "installHost",
        "installInput",
        "installConfig",
        "installRunInfo",
        "takeDeclaredOutput",
        "resetRuntime",
        "requireHost",
      ].sort(),
    );
  });
});
