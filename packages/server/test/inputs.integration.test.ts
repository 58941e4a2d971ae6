/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- tests read untyped JSON bodies and frames */
/**
 * The human-input routes over real HTTP and the WebSocket channel, against the fake engine:
 * pending requests across runs, a run's requests, answering one (and every way an answer is
 * refused, with the documented status codes), the answerer recorded behind the API token, and
 * both human-input events delivered to lifecycle subscribers. What breaks without these: an
 * inbox that shows answered requests, answers that change nothing while claiming success, or a
 * bad answer that reaches the program.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { FakeBehavior } from "../src/testing/index.ts";
import { http, startHarness, until, WsClient } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const approve: FakeBehavior = async (run) => {
  const answer = await run.humanInput({
    key: "ship",
    prompt: "Ship it?",
    input: { kind: "choice", options: ["Ship", "Hold"] },
  });
  return answer;
};

const slashed: FakeBehavior = async (run) =>
  run.humanInput({ key: "team/lead", prompt: "Sign off?", input: { kind: "text" } });

async function harness(options: { apiToken?: string } = {}): Promise<Harness> {
  const started = await startHarness(options, { behaviors: { approve, slashed } });
  started.engine.addWorkflow({ slug: "approve" });
  started.engine.addWorkflow({ slug: "slashed" });
  return started;
}

async function waiting(hh: Harness, slug: string): Promise<string> {
  const run = await hh.engine.startRun(slug, { triggerKind: "manual" });
  await until(() => hh.engine.peekRun(run.id)?.status === "awaiting_input");
  return run.id;
}

const post = (hh: Harness, path: string, body: string, headers: Record<string, string> = {}) =>
  http(hh, "POST", path, { body, headers: { "content-type": "application/json", ...headers } });

describe("human-input routes", () => {
  it("lists pending requests newest first with their runs, a run's requests, and answers one", async () => {
    h = await harness();
    const first = await waiting(h, "approve");
    const second = await waiting(h, "approve");
    const pending = await http(h, "GET", "/api/inputs");
    expect(pending.status).toBe(200);
    expect(pending.json.inputs.map((r: { runId: string }) => r.runId)).toEqual([second, first]);
    expect(pending.json.inputs[0]).toMatchObject({
      key: "ship",
      prompt: "Ship it?",
      status: "pending",
    });
    expect(pending.json.runs[first]).toEqual({ workflowSlug: "approve", status: "awaiting_input" });

    const answered = await post(h, `/api/runs/${first}/inputs/ship`, '{"value":{"value":"Ship"}}');
    expect(answered.status).toBe(200);
    expect(answered.json.request).toMatchObject({
      runId: first,
      key: "ship",
      status: "resolved",
      response: { value: "Ship", isOther: false },
      respondedBy: null,
    });
    expect((await h.engine.waitForRun(first)).output).toEqual({ value: "Ship", isOther: false });

    const after = await http(h, "GET", "/api/inputs");
    expect(after.json.inputs.map((r: { runId: string }) => r.runId)).toEqual([second]);
    const ofRun = await http(h, "GET", `/api/runs/${first}/inputs`);
    expect(ofRun.status).toBe(200);
    expect(ofRun.json.inputs).toHaveLength(1);
    expect(ofRun.json.inputs[0].status).toBe("resolved");
    expect((await http(h, "GET", "/api/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/inputs")).status).toBe(404);
  });

  it("refuses bad bodies, unknown runs and keys, invalid and second answers; nothing changes", async () => {
    h = await harness();
    const id = await waiting(h, "approve");
    const path = `/api/runs/${id}/inputs/ship`;
    const cases: [string, string, number, string][] = [
      [path, "{nope", 400, "not valid JSON"],
      [path, '{"value": 1, "x": 2}', 400, 'exactly { "value": <answer> }'],
      [path, "[]", 400, 'exactly { "value": <answer> }'],
      [path, "", 400, 'exactly { "value": <answer> }'],
      [path, '{"value": "Ship"}', 400, "a choice response must be"],
      [
        path,
        '{"value": {"value": "Later", "isOther": false}}',
        400,
        "not one of the offered options",
      ],
      [
        `/api/runs/${id}/inputs/nope`,
        '{"value": {"value": "Ship"}}',
        404,
        "No pending human-input request",
      ],
      [
        "/api/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/inputs/ship",
        '{"value": {"value": "Ship"}}',
        404,
        "Unknown run",
      ],
    ];
    for (const [target, body, status, message] of cases) {
      const res = await post(h, target, body);
      expect(res.status, `${body} → ${target}`).toBe(status);
      expect(res.json.error.message).toContain(message);
    }
    expect(h.engine.peekRun(id)?.status).toBe("awaiting_input");
    expect((await http(h, "GET", `/api/runs/${id}/inputs`)).json.inputs[0].status).toBe("pending");
    expect((await post(h, path, '{"value": {"value": "Hold"}}')).status).toBe(200);
    const second = await post(h, path, '{"value": {"value": "Ship"}}');
    expect(second.status).toBe(404);
    expect(second.json.error.message).toContain("No pending human-input request");
    const wrongMethod = await http(h, "GET", path);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe("POST");
  });

  it("answers a key holding a slash when it is sent percent-encoded", async () => {
    h = await harness();
    const id = await waiting(h, "slashed");
    const res = await post(h, `/api/runs/${id}/inputs/team%2Flead`, '{"value": {"value": "ok"}}');
    expect(res.status).toBe(200);
    expect(res.json.request.key).toBe("team/lead");
    expect((await h.engine.waitForRun(id)).output).toEqual({ value: "ok" });
  });

  it("records the answerer as api behind the API token", async () => {
    const token = "t".repeat(40);
    h = await harness({ apiToken: token });
    const id = await waiting(h, "approve");
    const res = await post(h, `/api/runs/${id}/inputs/ship`, '{"value": {"value": "Ship"}}', {
      authorization: `Bearer ${token}`,
    });
    expect(res.status).toBe(200);
    expect(res.json.request.respondedBy).toBe("api");
  });

  it("delivers human_input_requested and human_input_resolved to lifecycle subscribers", async () => {
    h = await harness();
    const run = await h.engine.startRun("approve", { triggerKind: "manual" });
    const ws = new WsClient(h, { protocols: ["promenade.events.v1"] });
    await ws.opened();
    ws.send({ type: "subscribe", sub: "s1", runId: run.id, channels: ["lifecycle"] });
    const requested = await ws.next(
      (f) => f.type === "event" && f.event.kind === "human_input_requested",
    );
    expect(requested.event).toMatchObject({ key: "ship", prompt: "Ship it?", runId: run.id });
    await until(() => h?.engine.peekRun(run.id)?.status === "awaiting_input");
    await post(h, `/api/runs/${run.id}/inputs/ship`, '{"value": {"value": "Hold"}}');
    const resolved = await ws.next(
      (f) => f.type === "event" && f.event.kind === "human_input_resolved",
    );
    expect(resolved.event).toMatchObject({ key: "ship", requestId: requested.event.requestId });
    expect(JSON.stringify(resolved)).not.toContain("Hold");
    await ws.next((f) => f.type === "end");
    const statuses = ws.frames
      .filter((f) => f.type === "event" && f.event.kind === "run_status")
      .map((f) => f.event.status);
    expect(statuses).toContain("awaiting_input");
    expect(statuses.at(-1)).toBe("completed");
    ws.close();
  });
});
