/**
 * The loop's option shapes are structural twins of the SDK's author types: if the SDK's
 * `AgentOptions` / `ToolDef` / `McpServerRef` drift so a program's value no longer fits
 * `runAgent`, this fails to compile.
 */
import { describe, expectTypeOf, it } from "vitest";
import type {
  AgentOptions as SdkAgentOptions,
  McpServerRef as SdkMcpServerRef,
  ToolDef as SdkToolDef,
} from "@promenade/workflow";
import type { AgentOptions, McpServerRef, ToolDef } from "./ports.ts";

describe("ports", () => {
  it("accepts the SDK's author types", () => {
    expectTypeOf<SdkAgentOptions>().toExtend<AgentOptions>();
    expectTypeOf<SdkToolDef>().toExtend<ToolDef>();
    expectTypeOf<SdkMcpServerRef>().toExtend<McpServerRef>();
  });
});
