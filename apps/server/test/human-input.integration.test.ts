/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- the test reads untyped JSON API bodies */
/**
 * Human input through the real `promenade-server` binary (a real engine on a real SQLite file,
 * real run processes, real HTTP and WebSocket): a program's gate shows up in `GET /api/inputs`,
 * bad answers are refused with 4xx and change nothing, two clients racing to answer get exactly
 * one 200, a `%2F`-encoded key works, lifecycle subscribers see both events, and the Inbox in
 * real Chromium shows a request as soon as it is asked and completes the run when answered from
 * the page (screenshots in /work/artifacts/human-input/). If this breaks, a person cannot answer
 * a waiting run from the product at all. The run list also takes the `sleeping` filter of the
 * line (matching no run).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumLaunchOptions } from "../../../packages/server/test/chromium.ts";
import { chromium } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { json, start, stopServers, waitFor } from "./helpers.ts";

const ARTIFACTS = "/work/artifacts/human-input";

afterEach(stopServers);

function workspace(): { dataDir: string; workflowsDir: string } {
  const root = mkdtempSync(join(tmpdir(), "promenade-human-input-"));
  const workflowsDir = join(root, "workflows");
  mkdirSync(workflowsDir);
  writeFileSync(
    join(workflowsDir, "approve.mjs"),
    [
      'import { humanInput, output } from "@promenade/workflow";',
      'export const meta = { slug: "approve", triggers: [{ kind: "manual" }] };',
      'console.log("release 1.4 is ready");',
      'const decision = await humanInput({ key: "ship", prompt: "Ship release 1.4?", input: { kind: "choice", options: ["Ship", "Hold"] } });',
      "output(decision);",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(workflowsDir, "sign.mjs"),
    [
      'import { humanInput, output } from "@promenade/workflow";',
      'export const meta = { slug: "sign", triggers: [{ kind: "manual" }] };',
      'output(await humanInput({ key: "team/lead", prompt: "Sign off?", input: { kind: "text", required: true } }));',
      "",
    ].join("\n"),
  );
  return { dataDir: join(root, "data"), workflowsDir };
}

async function startServer(): Promise<string> {
  const { dataDir, workflowsDir } = workspace();
  const server = start({
    PROMENADE_DATA_DIR: dataDir,
    PROMENADE_WORKFLOWS_DIR: workflowsDir,
    PROMENADE_PORT: "0",
  });
  return server.base;
}

async function startRun(base: string, slug: string): Promise<string> {
  const body = await json(`${base}/api/workflows/${slug}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  return body.run.id as string;
}

async function waiting(base: string, runId: string): Promise<void> {
  await waitFor(async () => {
    const body = await json(`${base}/api/runs/${runId}`);
    return body.run.status === "awaiting_input" ? true : undefined;
  });
}

/** A response's JSON body, untyped. */
async function bodyOf(res: Response): Promise<any> {
  return res.json();
}

function answer(base: string, runId: string, key: string, body: string): Promise<Response> {
  return fetch(`${base}/api/runs/${runId}/inputs/${key}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
}

describe("human input through the server binary", () => {
  it("lists the gate, refuses bad answers with 4xx, lets one of two racing answers win, and completes", async () => {
    const base = await startServer();
    const runId = await startRun(base, "approve");
    await waiting(base, runId);
    const pending = await json(`${base}/api/inputs`);
    expect(pending.inputs).toHaveLength(1);
    expect(pending.inputs[0]).toMatchObject({ runId, key: "ship", prompt: "Ship release 1.4?" });

    for (const [key, body, status, message] of [
      ["ship", "{nope", 400, "not valid JSON"],
      ["ship", '{"value": 1, "x": 2}', 400, 'exactly { "value": <answer> }'],
      ["ship", '{"value": 1}', 400, "a choice response must be"],
      ["ship", '{"value": {"value": "Later", "isOther": false}}', 400, "not one of the offered"],
      ["nope", '{"value": {"value": "Ship"}}', 404, "No pending human-input request"],
    ] as const) {
      const res = await answer(base, runId, key, body);
      expect(res.status, body).toBe(status);
      expect((await bodyOf(res)).error.message).toContain(message);
    }
    const unknown = await answer(
      base,
      "01ARZ3NDEKTSV4RRFFQ69G5FAV",
      "ship",
      '{"value": {"value": "Ship"}}',
    );
    expect(unknown.status).toBe(404);
    expect((await json(`${base}/api/runs/${runId}`)).run.status).toBe("awaiting_input");

    const racing = await Promise.all([
      answer(base, runId, "ship", '{"value": {"value": "Ship"}}'),
      answer(base, runId, "ship", '{"value": {"value": "Hold"}}'),
    ]);
    const statuses = racing.map((res) => res.status).sort();
    expect(statuses[0]).toBe(200);
    expect([404, 409]).toContain(statuses[1]);
    const winner = await bodyOf(racing.find((res) => res.status === 200)!);
    const done = await waitFor(async () => {
      const body = await json(`${base}/api/runs/${runId}`);
      return body.run.status === "completed" ? body.run : undefined;
    });
    expect(done.output).toEqual(winner.request.response);
    const ofRun = await json(`${base}/api/runs/${runId}/inputs`);
    expect(ofRun.inputs.map((r: { status: string }) => r.status)).toEqual(["resolved"]);
    expect((await json(`${base}/api/inputs`)).inputs).toEqual([]);
    const awaiting = await json(`${base}/api/runs?status=awaiting_input`);
    expect(awaiting.runs).toEqual([]);
  });

  it("answers a %2F-encoded key and delivers both events to a lifecycle subscriber", async () => {
    const base = await startServer();
    const runId = await startRun(base, "sign");
    const ws = new WebSocket(`${base.replace("http", "ws")}/api/ws`, ["promenade.events.v1"]);
    const frames: { type: string; event?: { kind: string; key?: string } }[] = [];
    ws.addEventListener("message", (message) => frames.push(JSON.parse(String(message.data))));
    await new Promise((resolve) => ws.addEventListener("open", resolve));
    ws.send(JSON.stringify({ type: "subscribe", sub: "s1", runId, channels: ["lifecycle"] }));
    await waiting(base, runId);
    expect((await json(`${base}/api/runs?status=awaiting_input`)).runs[0].id).toBe(runId);
    // `sleeping` (a status of the line Promenade never writes) is a valid filter matching no run.
    expect(await json(`${base}/api/runs?status=sleeping`)).toEqual({ runs: [], nextCursor: null });
    const held = await json(`${base}/api/runs?status=sleeping,awaiting_input`);
    expect(held.runs.map((r: { id: string }) => r.id)).toEqual([runId]);
    const empty = await answer(base, runId, "team%2Flead", '{"value": {"value": ""}}');
    expect(empty.status).toBe(400);
    expect((await bodyOf(empty)).error.message).toContain("a response is required");
    const res = await answer(base, runId, "team%2Flead", '{"value": {"value": "approved"}}');
    expect(res.status).toBe(200);
    expect((await bodyOf(res)).request.key).toBe("team/lead");
    await waitFor(() => Promise.resolve(frames.some((f) => f.type === "end") ? true : undefined));
    ws.close();
    const kinds = frames.filter((f) => f.type === "event").map((f) => f.event?.kind);
    expect(kinds).toContain("human_input_requested");
    expect(kinds).toContain("human_input_resolved");
    expect(kinds.indexOf("human_input_requested")).toBeLessThan(
      kinds.indexOf("human_input_resolved"),
    );
  });

  it("shows a new request in the Inbox live and completes the run when it is answered there", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const base = await startServer();
    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const pageErrors: string[] = [];
      page.on("pageerror", (err) => pageErrors.push(err.message));
      await page.goto(`${base}/#/inbox`);
      await page.waitForSelector("#inbox-empty:not([hidden])");
      const runId = await startRun(base, "approve");
      const card = `.inbox-item[data-run-id='${runId}']`;
      await page.waitForSelector(card, { timeout: 30_000 });
      expect(await page.textContent(card)).toContain("Ship release 1.4?");
      await page.screenshot({ path: `${ARTIFACTS}/04-inbox-real-engine.png`, fullPage: true });
      await page.check(`${card} input[value='Ship']`);
      await page.click(`${card} button.answer`);
      await page.waitForSelector(card, { state: "detached" });
      const done = await waitFor(async () => {
        const body = await json(`${base}/api/runs/${runId}`);
        return body.run.status === "completed" ? body.run : undefined;
      });
      expect(done.output).toEqual({ value: "Ship", isOther: false });
      await page.goto(`${base}/#/runs/${runId}`);
      await page.waitForSelector("#input-history tr[data-key='ship'][data-status='resolved']");
      await page.screenshot({ path: `${ARTIFACTS}/05-run-real-engine.png`, fullPage: true });
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
