/**
 * `EngineError` is wire contract: if the code list drifts, the server's status
 * map and stored `failed` events disagree; if the brand check regresses to `instanceof`, errors
 * thrown by a second SDK copy in a run process stop being recognised; if serialisation leaks the
 * stack or cause, internals reach API clients.
 */
import { describe, expect, it } from "vitest";
import {
  ENGINE_ERROR_CODES,
  EngineError,
  isEngineError,
  isEngineErrorCode,
  toErrorShape,
} from "./index.ts";

describe("EngineError", () => {
  it("lists exactly the 13 codes in table order", () => {
    expect(ENGINE_ERROR_CODES).toHaveLength(13);
    expect(ENGINE_ERROR_CODES[0]).toBe("VALIDATION");
    expect(ENGINE_ERROR_CODES[12]).toBe("INTERNAL");
    expect(isEngineErrorCode("CRASHED")).toBe(true);
    expect(isEngineErrorCode("ENOENT")).toBe(false);
  });

  it("is recognised by brand even when built by another module copy", () => {
    const foreign = Object.assign(new Error("x"), { code: "NOT_FOUND" });
    Object.defineProperty(foreign, Symbol.for("promenade.EngineError"), { value: true });
    expect(isEngineError(foreign)).toBe(true);
    expect(isEngineError(Object.assign(new Error("y"), { code: "ENOENT" }))).toBe(false);
    expect(isEngineError(new EngineError("CONFLICT", "dup"))).toBe(true);
  });

  it("serialises as { code, message, hint? } without stack or cause", () => {
    const e = new EngineError("SECRET_MISSING", "secret GH is not set", "set GH in .env", {
      cause: new Error("inner"),
    });
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: "SECRET_MISSING",
      message: "secret GH is not set",
      hint: "set GH in .env",
    });
    expect(toErrorShape(new EngineError("INTERNAL", "m"))).toEqual({
      code: "INTERNAL",
      message: "m",
    });
  });

  it("maps foreign errors and thrown values to PROGRAM_ERROR", () => {
    const sys = Object.assign(new Error("no such file"), { code: "ENOENT" });
    expect(toErrorShape(sys)).toEqual({ code: "PROGRAM_ERROR", message: "no such file" });
    expect(toErrorShape("boom")).toEqual({ code: "PROGRAM_ERROR", message: "boom" });
    expect(toErrorShape(Object.create(null))).toEqual({
      code: "PROGRAM_ERROR",
      message: "[object Object]",
    });
  });
});
