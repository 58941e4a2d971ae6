// The JSON depth limit on run-process messages. What would break: a program whose output(), tool
// result or workflows.call input nests past the limit being accepted and the run then failing
// INTERNAL inside a store write (SQLite refuses 1,000 levels), or a 10,000-level value
// overflowing a recursive walk in the supervisor.
import { describe, expect, it } from "vitest";
import { childMessageDepthError, outputDepthError } from "./child-limits.ts";

function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const PATH_TAIL = ".a.a.a.a.a.a.a.a….a.a.";

describe("outputDepthError", () => {
  it.each([255, 256])("accepts an output nested %i levels", (levels) => {
    expect(outputDepthError(nested(levels))).toBeNull();
  });

  it.each([257, 10_000, 400_000])("refuses an output nested %i levels", (levels) => {
    const error = outputDepthError(nested(levels));
    expect(error?.code).toBe("VALIDATION");
    expect(error?.message).toBe(
      `The value passed to output() nests deeper than the 256-level JSON depth limit at output${PATH_TAIL}`,
    );
    expect(error?.hint).toMatch(/artifact/);
  });
});

describe("childMessageDepthError", () => {
  it("checks a declared output on done and failed reports only", () => {
    const deep = nested(300);
    expect(childMessageDepthError({ type: "done", output: deep, outputDeclared: true })?.code).toBe(
      "VALIDATION",
    );
    expect(
      childMessageDepthError({ type: "failed", output: deep, outputDeclared: true })?.message,
    ).toMatch(/^The value passed to output\(\) nests deeper/);
    expect(
      childMessageDepthError({ type: "done", output: null, outputDeclared: false }),
    ).toBeNull();
  });

  it("checks every field of an emitted event, naming the kind and the field", () => {
    const result = { kind: "json", data: { rows: nested(300) } };
    const error = childMessageDepthError({
      type: "emit",
      body: { kind: "tool_call_result", toolCallId: "t1", result },
    });
    expect(error?.message).toBe(
      'The "tool_call_result" event nests deeper than the 256-level JSON depth limit at event.result.data.rows.a.a.a.a.a.a….a.a.',
    );
    expect(
      childMessageDepthError({
        type: "emit",
        body: { kind: "tool_call_input_complete", toolCallId: "t1", input: nested(10_000) },
      })?.message,
    ).toMatch(/^The "tool_call_input_complete" event nests deeper .* at event\.input\.a/);
    expect(
      childMessageDepthError({
        type: "emit",
        body: { kind: "tool_call_result", toolCallId: "t1", result: { data: nested(250) } },
      }),
    ).toBeNull();
  });

  it("checks host-call arguments such as a workflows.call input", () => {
    const error = childMessageDepthError({
      type: "host_call",
      method: "call_workflow",
      args: { slug: "child", input: nested(400_000) },
    });
    expect(error?.message).toBe(
      `The call_workflow call nests deeper than the 256-level JSON depth limit at args.input${PATH_TAIL}`,
    );
    expect(
      childMessageDepthError({ type: "host_call", method: "get_secret", args: { name: "X" } }),
    ).toBeNull();
  });

  it("passes messages that carry no free-form JSON", () => {
    expect(childMessageDepthError({ type: "memory_used" })).toBeNull();
    expect(childMessageDepthError({ type: "turn_started" })).toBeNull();
  });
});
