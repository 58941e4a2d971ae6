/* eslint-disable @typescript-eslint/no-unsafe-argument -- tests read untyped JSON bodies and frames */
/**
 * The JSON depth limit at every HTTP and WebSocket entry point: run input, deploy config,
 * webhook bodies and WebSocket messages nested 255 or 256 levels pass; 257, 10,000 and 400,000
 * levels are refused with 400 `VALIDATION` (an `error` frame on the WebSocket) naming the limit
 * and where it was crossed — checked on the raw text, so no deep document is ever built. What
 * would break: a deep body crashing a recursive walk into a 500 `INTERNAL` with a stack in the
 * log, or a value accepted that the store cannot hold. After every case the server still
 * answers /healthz and nothing was stored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WsClient, http, startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

const HOOK_TOKEN = "json-limits-hook-token-0123456789";
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ env: () => ({ PROMENADE_WEBHOOK_TOKEN__HOOK: HOOK_TOKEN }) });
  h.engine.addWorkflow({ slug: "echo", triggers: [{ kind: "manual" }] });
  h.engine.addWorkflow({ slug: "hook", triggers: [{ kind: "webhook", auth: "token" }] });
});

afterAll(async () => {
  await h.close();
});

/** `levels` nested arrays around `1`, as text. */
const arrays = (levels: number): string => "[".repeat(levels) + "1" + "]".repeat(levels);

/** The path the refusal names for arrays nested under `prefix`, truncated like the server does. */
const FIRST_ZEROS = (n: number): string => "[0]".repeat(n);

function program(slug: string): string {
  return `export const meta = {"slug":"${slug}","triggers":[{"kind":"manual"}]};\n`;
}

async function expectHealthyAndUnchanged(runs: number, workflows: number): Promise<void> {
  expect((await http(h, "GET", "/healthz")).status).toBe(200);
  expect(h.engine.peekRuns()).toHaveLength(runs);
  expect(await h.engine.listWorkflows()).toHaveLength(workflows);
  expect(h.logs.join("\n")).not.toMatch(/internal error|RangeError|\n\s+at /);
}

describe("run input", () => {
  it.each([255, 256])("starts a run with input nested %i levels", async (levels) => {
    const before = h.engine.peekRuns().length;
    const started = await http(h, "POST", "/api/workflows/echo/runs", {
      body: `{"input":${arrays(levels)}}`,
    });
    expect(started.status).toBe(201);
    expect(JSON.stringify(h.engine.peekRun(started.json.run.id)?.input)).toBe(arrays(levels));
    await expectHealthyAndUnchanged(before + 1, 2);
  });

  it.each([257, 10_000, 400_000])("refuses input nested %i levels with 400", async (levels) => {
    const before = h.engine.peekRuns().length;
    const refused = await http(h, "POST", "/api/workflows/echo/runs", {
      body: `{"input":${arrays(levels)}}`,
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toEqual({
      code: "VALIDATION",
      message: `run-start body nests deeper than the 256-level JSON depth limit at $.input${FIRST_ZEROS(7)}…[0][0].`,
    });
    await expectHealthyAndUnchanged(before, 2);
  });
});

describe("deploy config", () => {
  it("deploys a config nested 256 levels", async () => {
    const before = h.engine.peekRuns().length;
    const deployed = await http(h, "POST", "/api/workflows", {
      body: JSON.stringify({
        program: program("deep-ok"),
        config: { deep: JSON.parse(arrays(255)) },
      }),
    });
    expect(deployed.status).toBe(201);
    await expectHealthyAndUnchanged(before, 3);
  });

  it.each([257, 10_000, 400_000])("refuses a config nested %i levels with 400", async (levels) => {
    const before = h.engine.peekRuns().length;
    const body = `{"program":${JSON.stringify(program("deep-config"))},"config":{"deep":${arrays(levels - 1)}}}`;
    const refused = await http(h, "POST", "/api/workflows", { body });
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe("VALIDATION");
    expect(refused.json.error.message).toBe(
      `deploy body nests deeper than the 256-level JSON depth limit at $.config.deep${FIRST_ZEROS(6)}…[0][0].`,
    );
    expect(await h.engine.getWorkflow("deep-config")).toBeNull();
    await expectHealthyAndUnchanged(before, 3);
  });
});

describe("webhook bodies", () => {
  const post = (body: string, type: string) =>
    http(h, "POST", "/hooks/hook/0", {
      body,
      headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": type },
    });

  it.each([255, 256])("starts a run from a payload nested %i levels", async (levels) => {
    const before = h.engine.peekRuns().length;
    const accepted = await post(arrays(levels), "application/json");
    expect(accepted.status).toBe(202);
    await expectHealthyAndUnchanged(before + 1, 3);
  });

  it.each([
    [257, "application/json"],
    [10_000, "application/json"],
    [400_000, "application/json"],
    [400_000, "text/plain"],
  ])("refuses a payload nested %i levels (%s) with 400", async (levels, type) => {
    const before = h.engine.peekRuns().length;
    const refused = await post(arrays(levels), type);
    expect(refused.status).toBe(400);
    expect(refused.json.error).toEqual({
      code: "VALIDATION",
      message: `webhook payload nests deeper than the 256-level JSON depth limit at $${FIRST_ZEROS(8)}…[0][0].`,
    });
    await expectHealthyAndUnchanged(before, 3);
  });

  it("counts refused payloads as invalid_body", async () => {
    const metrics = (await http(h, "GET", "/metrics")).text;
    expect(metrics).toMatch(/promenade_webhook_requests_total\{outcome="invalid_body"\} 4/);
  });
});

describe("WebSocket messages", () => {
  it("answers a message nested past the limit with an error frame and keeps the socket", async () => {
    const ws = new WsClient(h, { protocols: ["promenade.events.v1"] });
    await ws.opened();
    const fine = `{"type":"ping","nonce":"ok","pad":${arrays(255)}}`;
    ws.send(fine);
    const unknownKey = await ws.next((f) => f.type === "error");
    // A frame within the limit reaches the protocol checks (its extra key is refused there).
    expect(unknownKey.code).toBe("VALIDATION");
    expect(unknownKey.message).not.toMatch(/depth/);
    for (const levels of [257, 10_000, 30_000]) {
      const seen = ws.frames.length;
      ws.send(`{"type":"ping","pad":${arrays(levels - 1)}}`);
      const frame = await ws.next((f) => f.type === "error", seen);
      expect(frame).toEqual({
        type: "error",
        code: "VALIDATION",
        message: `Message nests deeper than the 256-level JSON depth limit at $.pad${FIRST_ZEROS(7)}…[0][0].`,
      });
    }
    ws.send({ type: "ping", nonce: "still-here" });
    expect((await ws.next((f) => f.type === "pong")).nonce).toBe("still-here");
    ws.close();
    await expectHealthyAndUnchanged(h.engine.peekRuns().length, 3);
  });
});
