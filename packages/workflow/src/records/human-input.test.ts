// The answer rules a person's submission must pass before any program sees it, and the form and
// timeout checks a program's gate must pass before anyone is asked. A loosened rule here lets a
// program receive an answer outside the form it asked for.
import { describe, expect, it } from "vitest";
import type { HumanInputSpec } from "../types.ts";
import {
  parseHumanInputSpec,
  parseHumanInputTimeout,
  validateHumanInputAnswer,
} from "./human-input.ts";

const choice: HumanInputSpec = { kind: "choice", options: ["Ship", "Hold"] };
const multi: HumanInputSpec = { kind: "multiselect", options: ["a", "b", "c"], min: 1, max: 2 };

function rejection(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error("expected a throw");
}

describe("parseHumanInputSpec", () => {
  it("accepts the three kinds with their optional fields and returns the given spec unchanged", () => {
    const specs: unknown[] = [
      { kind: "text" },
      { kind: "text", multiline: true, placeholder: "why?", required: true },
      { kind: "choice", options: ["x"], allowOther: false, otherLabel: "Other…" },
      { kind: "multiselect", options: ["a", "b"], min: 0, max: 2, allowOther: true },
      { kind: "text", extra: "kept" },
    ];
    for (const spec of specs) expect(parseHumanInputSpec(spec)).toBe(spec);
  });

  it("rejects malformed forms with VALIDATION naming the field", () => {
    const cases: [unknown, string][] = [
      [null, "input must be an answer form object"],
      ["text", "input must be an answer form object"],
      [{ kind: "date" }, 'input.kind must be one of text, choice, multiselect, got "date"'],
      [{ kind: "choice" }, "input.options of a choice gate must be a non-empty array of strings"],
      [{ kind: "choice", options: [] }, "non-empty array of strings"],
      [{ kind: "multiselect", options: ["a", 1] }, "non-empty array of strings"],
      [{ kind: "multiselect", options: ["a"], min: -1 }, "input.min must be an integer ≥ 0"],
      [{ kind: "multiselect", options: ["a"], max: 1.5 }, "input.max must be an integer ≥ 0"],
      [{ kind: "multiselect", options: ["a"], min: 2, max: 1 }, "is greater than input.max"],
      [{ kind: "choice", options: ["a"], min: 1 }, "apply to multiselect gates only"],
      [{ kind: "choice", options: ["a"], allowOther: "yes" }, "input.allowOther must be a boolean"],
      [{ kind: "text", required: 1 }, "input.required must be a boolean"],
      [{ kind: "text", placeholder: 3 }, "input.placeholder must be a string"],
    ];
    for (const [spec, message] of cases) {
      const error = rejection(() => parseHumanInputSpec(spec));
      expect(error.code).toBe("VALIDATION");
      expect(error.message).toContain(message);
    }
  });
});

describe("validateHumanInputAnswer", () => {
  it("normalizes text answers and enforces required", () => {
    expect(validateHumanInputAnswer({ kind: "text" }, { value: "lgtm", note: 1 })).toEqual({
      value: "lgtm",
    });
    expect(validateHumanInputAnswer({ kind: "text" }, { value: "" })).toEqual({ value: "" });
    expect(rejection(() => validateHumanInputAnswer({ kind: "text" }, "lgtm")).message).toContain(
      "a text response must be { value: string }",
    );
    expect(
      rejection(() => validateHumanInputAnswer({ kind: "text", required: true }, { value: "" }))
        .message,
    ).toContain("a response is required");
  });

  it("derives isOther for choices and refuses values outside the options when isOther is false", () => {
    expect(validateHumanInputAnswer(choice, { value: "Ship" })).toEqual({
      value: "Ship",
      isOther: false,
    });
    expect(validateHumanInputAnswer(choice, { value: "Later" })).toEqual({
      value: "Later",
      isOther: true,
    });
    expect(validateHumanInputAnswer(choice, { value: "Ship", isOther: false })).toEqual({
      value: "Ship",
      isOther: false,
    });
    const outside = rejection(() =>
      validateHumanInputAnswer(choice, { value: "Later", isOther: false }),
    );
    expect(outside).toMatchObject({ code: "VALIDATION" });
    expect(outside.message).toContain('"Later" is not one of the offered options');
    expect(
      rejection(() =>
        validateHumanInputAnswer({ ...choice, allowOther: false }, { value: "Later" }),
      ).message,
    ).toContain("a free-text answer is not allowed for this gate");
    for (const bad of [{ value: 1 }, { value: "Ship", isOther: "no" }, ["Ship"]]) {
      expect(rejection(() => validateHumanInputAnswer(choice, bad)).message).toContain(
        "a choice response must be",
      );
    }
  });

  it("checks multiselect entries, the free-text entry and the min/max count", () => {
    expect(validateHumanInputAnswer(multi, { values: ["a"], other: "z" })).toEqual({
      values: ["a"],
      other: "z",
    });
    expect(validateHumanInputAnswer(multi, { values: ["a", "b"], extra: true })).toEqual({
      values: ["a", "b"],
    });
    expect(rejection(() => validateHumanInputAnswer(multi, { values: [] })).message).toContain(
      "select at least 1",
    );
    expect(
      rejection(() => validateHumanInputAnswer(multi, { values: ["a", "b", "c"] })).message,
    ).toContain("select at most 2");
    expect(
      rejection(() => validateHumanInputAnswer(multi, { values: ["a", "b"], other: "z" })).message,
    ).toContain("select at most 2");
    expect(rejection(() => validateHumanInputAnswer(multi, { values: ["q"] })).message).toContain(
      '"q" is not one of the offered options',
    );
    expect(
      rejection(() =>
        validateHumanInputAnswer({ ...multi, allowOther: false }, { values: ["a"], other: "z" }),
      ).message,
    ).toContain("a free-text answer is not allowed for this gate");
    for (const bad of [{ values: "a" }, { values: [1] }, { values: ["a"], other: 2 }]) {
      expect(rejection(() => validateHumanInputAnswer(multi, bad)).message).toContain(
        "a multiselect response must be",
      );
    }
  });
});

describe("parseHumanInputTimeout", () => {
  it("reads <n><unit> with optional spaces", () => {
    expect(parseHumanInputTimeout("500ms")).toBe(500);
    expect(parseHumanInputTimeout("30s")).toBe(30_000);
    expect(parseHumanInputTimeout("30m")).toBe(1_800_000);
    expect(parseHumanInputTimeout("48h")).toBe(172_800_000);
    expect(parseHumanInputTimeout(" 2 d ")).toBe(172_800_000);
    expect(parseHumanInputTimeout("1.5s")).toBe(1_500);
  });

  it("rejects anything else with VALIDATION", () => {
    for (const bad of ["", "48", "h", "-1h", "0s", "2 weeks", "1e3ms", 5, null]) {
      const error = rejection(() => parseHumanInputTimeout(bad));
      expect(error.code).toBe("VALIDATION");
      expect(error.message).toContain("timeout must be a positive duration");
    }
  });
});
