// The primitives delegate exactly (engines rely on `undefined` for omitted options and on
// unchanged results), and a missing host fails loudly, not silently.
import { afterEach, describe, expect, it, vi, type Mock } from "vitest";
import type { WorkflowHost } from "./ports.ts";
import {
  agent,
  artifacts,
  humanInput,
  output,
  parallel,
  phase,
  Phase,
  secrets,
  sleep,
  workflows,
} from "./primitives.ts";
import {
  installConfig,
  installHost,
  installInput,
  requireHost,
  resetRuntime,
  takeDeclaredOutput,
} from "./runtime/index.ts";

type MockHost = { [K in keyof Required<WorkflowHost>]: Mock<Required<WorkflowHost>[K]> };

function makeHost(overrides: Partial<MockHost> = {}): MockHost {
  return {
    agent: vi.fn(() => Promise.resolve("answer")),
    callWorkflow: vi.fn(() => Promise.resolve({ child: true })),
    sleep: vi.fn(() => Promise.resolve()),
    getSecret: vi.fn(() => Promise.resolve("s3cret")),
    setPhase: vi.fn(),
    runWorkflow: vi.fn(() => Promise.resolve("run_child")),
    writeArtifact: vi.fn(() => Promise.resolve({ id: "a1", name: "r.txt", url: "file:///r.txt" })),
    humanInput: vi.fn(() => Promise.resolve({ value: "Ship", isOther: false })),
    ...overrides,
  };
}

function minimalHost(): WorkflowHost {
  return {
    agent: () => Promise.resolve(""),
    callWorkflow: () => Promise.resolve(null),
    sleep: () => Promise.resolve(),
    getSecret: () => Promise.resolve(""),
  };
}

afterEach(() => resetRuntime());

describe("no host installed", () => {
  it("rejects every async hook (never a synchronous throw) with 'no host installed'", async () => {
    const calls = [
      () => agent("hi"),
      () => workflows.call("child", {}),
      () => workflows.run("child", {}),
      () => sleep(5),
      () => secrets.get("GH"),
      () => artifacts.write("a.txt", "text/plain", "x"),
      () => humanInput({ prompt: "ok?", input: { kind: "text" } }),
    ];
    for (const call of calls) {
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = call();
      }).not.toThrow();
      await expect(promise).rejects.toThrow(/no host installed/);
    }
  });

  it("makes phase() throw synchronously with the same phrase and names installHost", () => {
    expect(() => phase("x")).toThrow(/no host installed/);
    expect(() => Phase("x")).toThrow(/installHost\(\) from "@promenade\/workflow\/runtime"/);
    expect(() => requireHost()).toThrow(/no host installed/);
  });

  it("raises plain Errors, not EngineErrors", async () => {
    const err: unknown = await agent("hi").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("Error");
  });
});

describe("optional host capabilities", () => {
  it("rejects workflows.run / artifacts.write and throws from phase with 'not supported'", async () => {
    installHost(minimalHost());
    await expect(workflows.run("child", 1)).rejects.toThrow(
      "workflows.run is not supported by the installed engine",
    );
    await expect(artifacts.write("a.txt", "text/plain", "x")).rejects.toThrow(
      "artifacts.write is not supported by the installed engine",
    );
    expect(() => phase("plan")).toThrow("phase is not supported by the installed engine");
    await expect(humanInput({ prompt: "ok?", input: { kind: "text" } })).rejects.toThrow(
      "humanInput is not supported by the installed engine",
    );
  });
});

describe("delegation", () => {
  it("forwards agent arguments exactly, omitted options as undefined", async () => {
    const host = makeHost();
    installHost(host);
    await expect(agent("p")).resolves.toBe("answer");
    expect(host.agent).toHaveBeenLastCalledWith("p", undefined);
    const opts = { model: "m", tools: [] };
    await agent("p", opts);
    expect(host.agent.mock.lastCall?.[1]).toBe(opts);
  });

  it("forwards workflows.call / run, sleep, secrets and artifacts and returns host results", async () => {
    const host = makeHost();
    installHost(host);
    await expect(workflows.call("child", { a: 1 })).resolves.toEqual({ child: true });
    expect(host.callWorkflow).toHaveBeenLastCalledWith("child", { a: 1 }, undefined);
    await expect(workflows.run("child", null, { idempotencyKey: "k" })).resolves.toBe("run_child");
    expect(host.runWorkflow).toHaveBeenLastCalledWith("child", null, { idempotencyKey: "k" });
    const until = { until: new Date(0) };
    await sleep(until);
    expect(host.sleep.mock.lastCall?.[0]).toBe(until);
    await expect(secrets.get("GH")).resolves.toBe("s3cret");
    expect(host.getSecret).toHaveBeenLastCalledWith("GH");
    const body = new Uint8Array([1, 2]);
    await artifacts.write("r.bin", "application/octet-stream", body);
    expect(host.writeArtifact).toHaveBeenLastCalledWith(
      "r.bin",
      "application/octet-stream",
      body,
      undefined,
    );
  });

  it("forwards humanInput options exactly and returns the host's answer", async () => {
    const host = makeHost();
    installHost(host);
    const opts = {
      key: "ship",
      prompt: "Ship it?",
      input: { kind: "choice", options: ["Ship", "Hold"] },
    } as const;
    await expect(humanInput(opts)).resolves.toEqual({ value: "Ship", isOther: false });
    expect(host.humanInput.mock.lastCall?.[0]).toBe(opts);
  });

  it("propagates host rejections unchanged", async () => {
    const failure = Object.assign(new Error("boom"), { name: "EngineError", code: "NOT_FOUND" });
    installHost(makeHost({ callWorkflow: vi.fn(() => Promise.reject(failure)) }));
    await expect(workflows.call("nope", null)).rejects.toBe(failure);
  });

  it("makes Phase the same function as phase and forwards the options", () => {
    const host = makeHost();
    installHost(host);
    expect(Phase).toBe(phase);
    phase("plan", { id: "p1" });
    expect(host.setPhase).toHaveBeenLastCalledWith("plan", { id: "p1" });
    Phase("act");
    expect(host.setPhase).toHaveBeenLastCalledWith("act", undefined);
  });

  it("uses the most recently installed host", async () => {
    installHost(makeHost());
    installHost(makeHost({ agent: vi.fn(() => Promise.resolve("second")) }));
    await expect(agent("p")).resolves.toBe("second");
  });
});

describe("output", () => {
  it("keeps the last value, boxes null and starts empty", () => {
    expect(takeDeclaredOutput()).toBeNull();
    output({ a: 1 });
    output("final");
    expect(takeDeclaredOutput()).toEqual({ value: "final" });
    expect(takeDeclaredOutput()).toEqual({ value: "final" });
    output(null);
    expect(takeDeclaredOutput()).toEqual({ value: null });
    resetRuntime();
    expect(takeDeclaredOutput()).toBeNull();
  });
});

describe("input and config", () => {
  it("exposes installed values through live bindings read after import", async () => {
    installInput({ ticket: 42 });
    installConfig({ model: "x/y" });
    const sdk = await import("./index.ts");
    expect(sdk.input).toEqual({ ticket: 42 });
    expect(sdk.config).toEqual({ model: "x/y" });
    expect(Object.isFrozen(sdk.config)).toBe(true);
    installInput(null);
    expect(sdk.input).toBeNull();
  });

  it("copies config shallowly and resets to undefined / frozen {}", async () => {
    const nested = { deep: 1 };
    const source = { nested };
    installConfig(source);
    const sdk = await import("./index.ts");
    expect(sdk.config).not.toBe(source);
    expect(sdk.config["nested"]).toBe(nested);
    expect(Object.isFrozen(nested)).toBe(false);
    resetRuntime();
    expect(sdk.input).toBeUndefined();
    expect(sdk.config).toEqual({});
    expect(Object.isFrozen(sdk.config)).toBe(true);
  });
});

describe("parallel", () => {
  it("preserves input order for thunks resolving out of order", async () => {
    const order: number[] = [];
    const delayed = (value: number, ticks: number) => async () => {
      for (let i = 0; i < ticks; i += 1) await Promise.resolve();
      order.push(value);
      return value;
    };
    await expect(parallel([delayed(1, 5), delayed(2, 0), delayed(3, 2)])).resolves.toEqual([
      1, 2, 3,
    ]);
    expect(order).toEqual([2, 3, 1]);
  });

  it("rejects with the first rejection and calls every thunk immediately", async () => {
    const started: string[] = [];
    const first = new Error("first");
    const result = parallel([
      () => {
        started.push("a");
        return new Promise<string>(() => undefined);
      },
      () => {
        started.push("b");
        return Promise.reject(first);
      },
      () => {
        started.push("c");
        return Promise.reject(new Error("second"));
      },
    ]);
    expect(started).toEqual(["a", "b", "c"]);
    await expect(result).rejects.toBe(first);
    await expect(parallel([])).resolves.toEqual([]);
  });

  it("still calls later thunks when an earlier one throws synchronously", async () => {
    const called: number[] = [];
    const boom = new Error("sync");
    const result = parallel<number>([
      () => {
        throw boom;
      },
      () => {
        called.push(2);
        return Promise.resolve(2);
      },
    ]);
    expect(called).toEqual([2]);
    await expect(result).rejects.toBe(boom);
  });
});
