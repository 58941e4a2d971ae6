/**
 * The run-log UI in real Chromium: open the workflows and run list, start a run and
 * watch its events arrive live over the WebSocket, cancel a sleeping run and see the final
 * status. Screenshots land in test-artifacts/ (gitignored) for a human to look at. If this
 * breaks, the page no longer shows what operators rely on: statuses, phases, agent turns, logs.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumLaunchOptions } from "./chromium.ts";
import { startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: Harness;
let browser: Browser;
let grant: () => void = () => {};
// The research digest emits its events once the test has seen its run page go live, so those
// events always reach the page over the socket, however long the page took to load.
let openDigest: () => void = () => {};
const digestOpened = new Promise<void>((resolve) => (openDigest = resolve));

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startHarness(
    {
      authorizeMcpServer: (_url, options) => {
        options.onAuthorizationUrl("https://auth.example/authorize?client_id=demo&state=s1");
        return new Promise<void>((resolve) => (grant = resolve));
      },
    },
    {
      behaviors: {
        "research-digest": async (run) => {
          await digestOpened;
          run.phase("gather");
          run.log("fetching 3 feeds\n");
          run.log("feed 2 slow, retrying\n", "stderr");
          await pause(200);
          run.phase("summarise");
          run.agentTurn({
            agentName: "summariser",
            text: [
              "Three items stood out: ",
              "a new SQLite release, ",
              "and two Node security fixes.",
            ],
            tool: {
              name: "fetch_page",
              input: { url: "https://example.com/news" },
              summary: "200 OK, 14 kB",
            },
            usage: { inputTokens: 812, outputTokens: 64 },
          });
          await pause(200);
          run.writeArtifact("digest.md", "text/markdown", "# Digest\n");
          return { items: 3, topics: ["sqlite", "node"] };
        },
        "nightly-sleeper": async (run) => {
          run.phase("wait");
          run.log("sleeping for an hour\n");
          await run.sleep(3_600_000);
          return null;
        },
      },
    },
  );
  h.engine.addWorkflow({
    slug: "research-digest",
    title: "Research digest",
    description: "Summarises the day's feeds with an agent.",
    triggers: [
      { kind: "cron", expr: "0 7 * * *", timezone: "Europe/Paris" },
      { kind: "webhook", auth: "token" },
    ],
  });
  h.engine.addWorkflow({
    slug: "nightly-sleeper",
    description: "Sleeps until cancelled.",
    triggers: [{ kind: "manual" }],
  });
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe("run-log UI", () => {
  it("starts a run, tails it live, cancels a sleeping run and shows final statuses", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("dialog", (dialog) => void dialog.accept());

    await page.goto(`${h.base}/`);
    await page.waitForSelector("#workflows tr[data-slug='research-digest']");
    expect(await page.textContent("#workflows")).toContain(
      "PROMENADE_WEBHOOK_TOKEN__RESEARCH_DIGEST",
    );
    await page.screenshot({ path: `${ARTIFACTS}/01-workflows.png`, fullPage: true });

    // The run page opens on the timeline; this user picks the event log once, and the choice
    // is remembered for the next run pages.
    const first = await h.engine.startRun("nightly-sleeper", { triggerKind: "manual" });
    await page.goto(`${h.base}/#/runs/${first.id}`);
    await page.waitForSelector("#timeline");
    await page.click("#tab-log");
    await h.engine.cancelRun(first.id);
    await page.goto(`${h.base}/#/`);
    await page.waitForSelector("#workflows tr[data-slug='research-digest']");

    // Start a run from the dialog; the page navigates to the run and tails it live. The request
    // carries an Idempotency-Key, so a resubmit after a lost answer cannot start a second run.
    const runRequestKeys: (string | undefined)[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/runs")) {
        runRequestKeys.push(request.headers()["idempotency-key"]);
      }
    });
    await page.click("button[data-action='run'][data-slug='research-digest']");
    await page.fill("#run-input", "{ nope");
    await page.click("#run-submit");
    expect(await page.textContent("#run-error")).toContain("not valid JSON");
    await page.fill("#run-input", '{"feeds": 3}');
    await page.click("#run-submit");
    await page.waitForURL(/#\/runs\/[0-9A-Z]{26}$/);
    expect(runRequestKeys).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/)]);
    await page.waitForSelector("#log-state[data-state='live']");
    // Events that are emitted after the page caught up arrive over the socket.
    openDigest();
    await page.waitForSelector(".entry.phase >> text=▸ gather");
    await page.waitForSelector(".turn >> text=agent turn · summariser");
    await page.waitForSelector("#log-state[data-state='finished']");
    await page.waitForSelector("#run-status .badge[data-status='completed']");
    // The run shows the workflow version it executes.
    expect(await page.textContent("#run-version")).toBe("v1");
    const log = await page.textContent("#log");
    expect(log).toContain("fetching 3 feeds");
    expect(log).toContain("feed 2 slow, retrying");
    expect(log).toContain(
      "Three items stood out: a new SQLite release, and two Node security fixes.",
    );
    expect(log).toContain("fetch_page");
    expect(log).toContain("200 OK, 14 kB");
    expect(log).toContain('"topics"');
    expect(await page.textContent("#phases")).toContain("summarise");
    expect(await page.isDisabled("#cancel-run")).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/02-run-completed.png` });

    // Cancel a sleeping run.
    await page.goto(`${h.base}/#/`);
    await page.click("button[data-action='run'][data-slug='nightly-sleeper']");
    await page.click("#run-submit");
    await page.waitForURL(/#\/runs\/[0-9A-Z]{26}$/);
    await page.waitForSelector(".line >> text=sleeping for an hour");
    await page.waitForSelector("#run-status .badge[data-status='running']");
    await page.screenshot({ path: `${ARTIFACTS}/03-run-sleeping.png`, fullPage: true });
    await page.click("#cancel-run");
    await page.waitForSelector("#run-status .badge[data-status='cancelled']");
    await page.waitForSelector(".entry.status .badge[data-status='cancelling']");
    await page.screenshot({ path: `${ARTIFACTS}/04-run-cancelled.png`, fullPage: true });

    // The run list shows both runs with their final statuses.
    await page.goto(`${h.base}/#/runs`);
    await page.waitForSelector("#runs tr[data-status='cancelled']");
    await page.waitForSelector("#runs tr[data-status='completed']");
    await page.screenshot({ path: `${ARTIFACTS}/05-runs.png`, fullPage: true });

    // Live list: a run started elsewhere appears and updates in place.
    const other = await h.engine.startRun("nightly-sleeper", { triggerKind: "webhook" });
    await page.waitForSelector(`#runs tr[data-run-id='${other.id}'][data-status='running']`);
    await h.engine.cancelRun(other.id);
    await page.waitForSelector(`#runs tr[data-run-id='${other.id}'][data-status='cancelled']`);

    // Authorize an OAuth-protected MCP server: the page shows the URL to open, then the grant.
    await page.goto(`${h.base}/#/mcp`);
    await page.fill("#mcp-url", "https://mcp.example/mcp");
    await page.click("#mcp-form button[type='submit']");
    await page.waitForSelector(
      "#mcp-status a[href='https://auth.example/authorize?client_id=demo&state=s1']",
    );
    await page.screenshot({ path: `${ARTIFACTS}/06-mcp-awaiting.png`, fullPage: true });
    grant();
    await page.waitForSelector("#mcp-status [data-state='authorized']");
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("shows a run's retries once it has any, with when the next attempt is due", async () => {
    h.engine.addWorkflow({ slug: "flaky", triggers: [{ kind: "manual" }] });
    const plain = await h.engine.startRun("flaky", { triggerKind: "manual" });
    const retried = await h.engine.startRun("flaky", { triggerKind: "manual" });
    h.engine.setStatus(retried.id, "running");
    h.engine.setStatus(retried.id, "pending", { retries: 2, retryAt: Date.now() + 60_000 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${h.base}/#/runs/${plain.id}`);
    await page.waitForSelector("#run-status .badge[data-status='queued']");
    expect(await page.$("#run-retries")).toBeNull();
    await page.goto(`${h.base}/#/runs/${retried.id}`);
    await page.waitForSelector("#run-retries");
    expect(await page.textContent("#run-retries")).toMatch(/^2 \(next attempt at .+\)$/);
    // The retry starts: the page follows the run and drops the due time.
    h.engine.setStatus(retried.id, "running", { retryAt: null });
    await page.locator("#run-retries", { hasText: /^2$/ }).waitFor();
    await page.close();
  });

  it("asks for the API token on 401, then uses it for fetch and the WebSocket subprotocol", async () => {
    const token = "ui-token-0123456789abcdefghijklmnopqrstuv";
    const secured = await startHarness(
      { apiToken: token },
      {
        behaviors: {
          quick: async (run) => {
            await pause(300);
            run.log("after the token\n");
            return { ok: true };
          },
        },
      },
    );
    secured.engine.addWorkflow({ slug: "quick", triggers: [{ kind: "manual" }] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(`${secured.base}/`);
      await page.waitForSelector("#token-dialog[open]");
      await page.fill("#token-input", token);
      await page.click("#token-form button[type='submit']");
      await page.waitForSelector("#workflows tr[data-slug='quick']");
      await page.click("button[data-action='run'][data-slug='quick']");
      await page.click("#run-submit");
      await page.waitForURL(/#\/runs\/[0-9A-Z]{26}$/);
      await page.click("#tab-log");
      await page.waitForSelector(".line >> text=after the token");
      await page.waitForSelector("#log-state[data-state='finished']");
      expect(await page.evaluate(() => localStorage.getItem("promenade.apiToken"))).toBe(token);
      await page.click("#forget-token");
      expect(await page.evaluate(() => localStorage.getItem("promenade.apiToken"))).toBeNull();
    } finally {
      await page.close();
      await secured.close();
    }
  });
});
