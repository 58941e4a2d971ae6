/**
 * The run page's timeline in real Chromium over real runs of the real engine: a fan-out parent
 * whose three child runs are rows that link to (and expand into) the children, an agent run with
 * per-request tokens, a crash-restarted run with its pass boundary and reason, a live run whose
 * timeline grows while it runs, the event log one click away, dark mode and a phone-width layout.
 * Screenshots land in test-artifacts/trace/ (gitignored) for a person to look at. If this breaks,
 * the run page no longer answers "where did the time go?".
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "@promenade/engine";
import { createPromenadeServer } from "@promenade/server";
import type { PromenadeServer } from "@promenade/server";
import { chromiumLaunchOptions } from "../../../packages/server/test/chromium.ts";
import {
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "@promenade/agent/testing";
import { engineApi } from "../src/adapter.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/trace/", import.meta.url));
const MCP_FIXTURE = fileURLToPath(new URL("./fixtures/mcp-stdio.mjs", import.meta.url));

let dataDir: string;
let provider: FakeProvider;
let engine: Engine;
let server: PromenadeServer;
let base: string;
let browser: Browser;

function deploy(slug: string, names: string[], body: string): void {
  engine.deployWorkflow({
    program: [
      `import { ${names.join(", ")} } from "@promenade/workflow";`,
      `export const meta = ${JSON.stringify({ slug, triggers: [{ kind: "manual" }] })};`,
      body,
    ].join("\n"),
  });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "promenade-trace-ui-"));
  provider = await startFakeOpenAiProvider();
  engine = new Engine({
    dataDir,
    cancelGraceMs: 250,
    log: () => {},
    inference: {
      default_provider: "local",
      default_model: "gpt-4o-mini",
      providers: { local: { base_url: provider.baseUrl } },
    },
  });
  deploy(
    "leaf",
    ["input", "output", "phase", "sleep"],
    'phase("greet"); await sleep(120 * input.i); output(`hi ${input.i}`);',
  );
  deploy(
    "fan-out",
    ["output", "parallel", "phase", "sleep", "workflows"],
    [
      'phase("prepare");',
      "await sleep(150);",
      'phase("call children");',
      "const out = await parallel([1, 2, 3].map((i) => () => workflows.call('leaf', { i })));",
      'phase("done");',
      "output(out);",
    ].join("\n"),
  );
  deploy(
    "agentic",
    ["agent", "output", "phase"],
    [
      "const double = { name: 'double', description: 'Doubles n.', inputSchema: { type: 'object' },",
      "  execute: async ({ n }) => { await new Promise((r) => setTimeout(r, 80)); return n * 2; } };",
      `const db = { name: 'db', transport: 'stdio', command: process.execPath, args: [${JSON.stringify(MCP_FIXTURE)}] };`,
      'phase("think");',
      "output(await agent('double 21', { tools: [double], mcp: [db], name: 'doubler' }));",
    ].join("\n"),
  );
  deploy(
    "crashy",
    ["output", "phase", "sleep"],
    [
      'import { existsSync, writeFileSync } from "node:fs";',
      'phase("work");',
      "await sleep(200);",
      'if (!existsSync("crashed-once")) { writeFileSync("crashed-once", "1"); process.exit(3); }',
      "await sleep(200);",
      'output("recovered");',
    ].join("\n"),
  );
  deploy(
    "slow",
    ["output", "phase", "sleep"],
    [
      'phase("one");',
      "await sleep(900);",
      'phase("two");',
      "await sleep(900);",
      'phase("three");',
      "await sleep(2500);",
      'output("done");',
    ].join("\n"),
  );
  server = createPromenadeServer(engineApi(engine), { log: () => {} });
  const { port } = await server.listen(0, "127.0.0.1");
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  await server?.close({ graceMs: 200 });
  await engine?.closeGracefully({ childGraceMs: 500 });
  await provider?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function openRun(page: Page, runId: string): Promise<void> {
  await page.goto(`${base}/#/runs/${runId}`);
  // Moving between runs changes only the hash: wait for this run's timeline, not the last one's.
  await page.waitForSelector(`#timeline[data-run-id='${runId}'][data-complete='true']`);
}

/** The `name` attribute of every element matching `selector`, in document order. */
async function attributes(page: Page, selector: string, name: string): Promise<(string | null)[]> {
  const found = page.locator(selector);
  const values: (string | null)[] = [];
  for (let i = 0; i < (await found.count()); i++)
    values.push(await found.nth(i).getAttribute(name));
  return values;
}

const rowCount = (page: Page, kind: string): Promise<number> =>
  page.locator(`#tl-rows .tl-row[data-kind='${kind}']`).count();

describe("run timeline", () => {
  it("draws real runs: child-run rows with links, per-request tokens, pass reasons, live growth", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));

    // Fan-out: three child-run rows under the phase that called them, each a link.
    const fan = await engine.waitForRun(engine.startRun("fan-out").id);
    expect(fan.status).toBe("completed");
    const kids = engine.store.listRuns({ parentRunId: fan.id, order: "oldest" });
    await openRun(page, fan.id);
    expect(await rowCount(page, "child_run")).toBe(3);
    const links = await attributes(page, "#tl-rows a.child-link", "href");
    expect(links).toEqual(kids.map((k) => `#/runs/${k.id}`));
    await page.screenshot({ path: `${ARTIFACTS}/01-fan-out.png`, fullPage: true });

    // A child row expands in place into the child's own passes and phases.
    await page.click(`#tl-rows [data-toggle='child:${kids[2]!.id}']`);
    await page.waitForSelector(`#tl-rows .tl-row[data-span-id='${kids[2]!.id}|pass:1']`);
    await page.screenshot({ path: `${ARTIFACTS}/02-fan-out-child-expanded.png`, fullPage: true });

    // The link opens the child's own run page, which links back to its parent.
    await page.click(`#tl-rows a.child-link[href='#/runs/${kids[0]!.id}']`);
    await page.waitForURL(new RegExp(`#/runs/${kids[0]!.id}$`));
    await page.waitForSelector(`#timeline[data-run-id='${kids[0]!.id}'][data-complete='true']`);
    expect(await page.textContent("#run-header")).toContain(fan.id);
    expect(await rowCount(page, "phase")).toBe(1);

    // Agent run: model requests with their own tokens, a tool call and an MCP call.
    provider.enqueue(
      openAiToolCalls(
        [
          { id: "call-1", name: "double", arguments: { n: 21 } },
          { id: "call-2", name: "db__lookup", arguments: { key: "answer" } },
        ],
        { usage: { input: 30, output: 7, cached: 12 } },
      ),
      openAiText("the answer is 42", { input: 40, output: 6, reasoning: 3 }),
    );
    const agentRun = await engine.waitForRun(engine.startRun("agentic").id);
    expect(agentRun.status).toBe("completed");
    await openRun(page, agentRun.id);
    expect(await rowCount(page, "model_call")).toBe(2);
    expect(await rowCount(page, "tool_call")).toBe(1);
    expect(await rowCount(page, "mcp_call")).toBe(1);
    const modelMeta = await page
      .locator("#tl-rows .tl-row[data-kind='model_call'] .tl-meta")
      .allTextContents();
    expect(modelMeta[0]).toContain("in 30 · out 7 · cached 12");
    expect(modelMeta[1]).toContain("in 40 · out 6 · reasoning 3");
    await page.click("#tl-rows .tl-row[data-kind='model_call'] .tl-bar");
    await page.waitForSelector("#tl-detail:not([hidden])");
    expect(await page.textContent("#tl-detail")).toContain("gpt-4o-mini");
    await page.screenshot({ path: `${ARTIFACTS}/03-agent.png`, fullPage: true });

    // Crash restart: two passes, the boundary and the reason on the second.
    const crash = await engine.waitForRun(engine.startRun("crashy").id);
    expect([crash.status, crash.restarts]).toEqual(["completed", 1]);
    await openRun(page, crash.id);
    expect(
      await page.locator("#tl-rows .tl-row[data-kind='pass'] .tl-reason").allTextContents(),
    ).toEqual(["first start", "crash restart"]);
    expect(await attributes(page, "#tl-rows .tl-row[data-kind='pass']", "data-status")).toEqual([
      "crashed",
      "ok",
    ]);
    expect(await page.locator("#tl-rows .tl-boundary").count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}/04-crash-restart.png`, fullPage: true });

    // Zoom: double-click a bar zooms to it, Fit zooms back out. The narrower of the two passes
    // spans at most half the run (however the time split between them on this machine), and a
    // zoomed bar spans ~90% of the track: its width must at least grow by half.
    const passBars = page.locator("#tl-rows .tl-row[data-kind='pass'] .tl-bar");
    const widths = await Promise.all(
      [0, 1].map(async (i) => (await passBars.nth(i).boundingBox())!.width),
    );
    const narrower = widths[0]! <= widths[1]! ? 0 : 1;
    const passBar = passBars.nth(narrower);
    const before = widths[narrower]!;
    await passBar.dblclick();
    const after = await passBar.boundingBox();
    expect(after!.width).toBeGreaterThan(before * 1.5);
    await page.click("#tl-fit");

    // Live: the timeline grows while the run runs.
    const live = engine.startRun("slow");
    await page.goto(`${base}/#/runs/${live.id}`);
    await page.waitForSelector("#tl-rows .tl-row[data-kind='phase']");
    const early = await rowCount(page, "phase");
    await page.waitForSelector("#tl-rows .tl-row[data-kind='phase'] >> text=three");
    expect(engine.store.getRun(live.id)?.status).toBe("running");
    expect(await rowCount(page, "phase")).toBeGreaterThan(early);
    expect(await page.locator("#tl-rows .tl-row[data-kind='run'] .tl-bar.open").count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}/05-live.png`, fullPage: true });
    await engine.waitForRun(live.id);
    await page.waitForSelector("#tl-rows .tl-row[data-kind='run'][data-status='ok']");

    // The flat event log is one click away.
    await page.click("#tab-log");
    await page.waitForSelector("#log .entry.phase >> text=▸ three");
    expect(await page.isHidden("#timeline")).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/06-event-log.png` });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("marks a cost priced at the default rate of an unknown model as estimated", async () => {
    deploy(
      "guess",
      ["agent", "input", "output"],
      "output(await agent('hi', { model: input.model }));",
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    const runWith = async (model: string) => {
      provider.enqueue(openAiText("hello", { input: 200, output: 40 }));
      const run = await engine.waitForRun(engine.startRun("guess", { input: { model } }).id);
      expect(run.status).toBe("completed");
      return run;
    };
    const known = await runWith("gpt-4o-mini");
    const unknown = await runWith("local-llm-7b");
    // 200 in × 3 + 40 out × 15 µUSD at the default rate.
    expect(unknown.usdMicros).toBe(1200);

    await openRun(page, unknown.id);
    expect(await page.textContent("#run-cost")).toBe("≈$0.0012 est.");
    expect(await page.getAttribute("#run-cost .cost", "title")).toContain("default rate");
    const meta = await page
      .locator("#tl-rows .tl-row[data-kind='model_call'] .tl-meta")
      .allTextContents();
    expect(meta).toHaveLength(1);
    expect(meta[0]).toContain("in 200 · out 40 · ≈$0.0012 est.");
    expect(await page.textContent("#tl-summary")).toContain("1 model call ≈$0.0012 est.");
    await page.screenshot({ path: `${ARTIFACTS}/10-estimated-cost.png`, fullPage: true });

    await openRun(page, known.id);
    expect(await page.textContent("#run-cost")).toBe("$0.0001");
    expect(await page.locator("#timeline .cost-estimated").count()).toBe(0);

    await page.goto(`${base}/#/runs?workflow=guess`);
    await page.waitForSelector(`#runs tr[data-run-id='${known.id}']`);
    const costOf = (id: string) => page.textContent(`#runs tr[data-run-id='${id}'] .cost-cell`);
    expect(await costOf(unknown.id)).toBe("≈$0.0012 est.");
    expect(await costOf(known.id)).toBe("$0.0001");
    await page.screenshot({ path: `${ARTIFACTS}/11-runs-estimated-cost.png` });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("follows the system dark mode and fits a phone-width screen", async () => {
    const workflowId = engine.store.getWorkflow("fan-out")?.id ?? "";
    const [fan] = engine.store.listRuns({ workflowId, limit: 1 });
    const dark = await browser.newPage({
      viewport: { width: 1280, height: 900 },
      colorScheme: "dark",
    });
    await openRun(dark, fan!.id);
    const background = await dark.evaluate("getComputedStyle(document.body).backgroundColor");
    expect(background).not.toBe("rgb(255, 255, 255)");
    await dark.screenshot({ path: `${ARTIFACTS}/07-dark.png`, fullPage: true });
    await dark.close();

    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await openRun(phone, fan!.id);
    const overflow = await phone.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: `${ARTIFACTS}/08-phone.png`, fullPage: true });
    await phone.goto(`${base}/#/runs`);
    await phone.waitForSelector("#runs tbody tr");
    await phone.screenshot({ path: `${ARTIFACTS}/09-phone-runs.png` });
    const icon = await fetch(`${base}/ui/favicon.svg`);
    expect([icon.status, icon.headers.get("content-type")]).toEqual([200, "image/svg+xml"]);
    await phone.close();
  });
});
