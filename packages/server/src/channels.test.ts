/** Channel mapping and selection, identical to the SDK's rules (spec 01 §5.7). */
import { describe, expect, it } from "vitest";
import { CHANNELS, DEFAULT_CHANNELS, channelOf, selectChannels } from "./channels.ts";

describe("channels", () => {
  it("maps every event kind to one channel", () => {
    expect(channelOf("run_status")).toBe("lifecycle");
    expect(channelOf("program_output")).toBe("log");
    expect(channelOf("tool_call_result")).toBe("agent");
    expect(channelOf("reasoning_delta")).toBe("agent");
    expect(channelOf("nope")).toBeUndefined();
  });

  it("selects verbose, lists and the default, rejecting unknown names with the hint", () => {
    expect(selectChannels({ verbose: true, channels: "log" })).toEqual(CHANNELS);
    expect(selectChannels({})).toEqual(DEFAULT_CHANNELS);
    expect(selectChannels({ channels: " log , agent" })).toEqual(["log", "agent"]);
    expect(() => selectChannels({ channels: "" })).toThrow('Unknown channel "".');
    expect(() => selectChannels({ channels: ["logs"] })).toThrow(/Unknown channel "logs"/);
  });
});
