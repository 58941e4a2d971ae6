/**
 * `DELETE /api/workflows/:slug` on the real binary, on SQLite and on PostgreSQL: 200 with the
 * workflow, then it is gone from the list, its page and webhooks answer 404, new runs are refused
 * 404, its runs stay readable, a second undeploy (or an unknown slug) is 404, and a redeploy brings
 * it back under the same id. On SQLite the workflow page's Undeploy button (after its confirm)
 * does the same in real Chromium. If this breaks, undeploying loses run history or leaves a way
 * to start the workflow.
 */
import { startPostgres } from "@promenade/store/testing";
import type { PostgresServer } from "@promenade/store/testing";
import { chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chromiumLaunchOptions } from "../../../packages/server/test/chromium.ts";
import { json, start, stopServers, terminalRun, workspaceWith } from "./helpers.ts";

let postgres: PostgresServer;

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);

afterAll(async () => {
  await postgres.destroy();
});

afterEach(stopServers);

const HOOKED = [
  'import { input, output } from "@promenade/workflow";',
  'export const meta = { slug: "hooked", triggers: [{ kind: "manual" }, { kind: "webhook", auth: "token" }] };',
  "output({ got: input });",
  "",
].join("\n");
const HOOK_TOKEN = "hook-token-for-the-undeploy-test";

interface WorkflowBody {
  workflow: { id: string; slug: string; undeployedAt?: number | null };
}

async function scenario(env: Record<string, string>): Promise<string> {
  const { dataDir, workflowsDir } = workspaceWith({ "hooked.mjs": HOOKED });
  const server = start({
    PROMENADE_DATA_DIR: dataDir,
    PROMENADE_WORKFLOWS_DIR: workflowsDir,
    PROMENADE_PORT: "0",
    PROMENADE_WEBHOOK_TOKEN__HOOKED: HOOK_TOKEN,
    ...env,
  });
  const base = await server.base;
  const before = (await json(`${base}/api/workflows/hooked`)) as WorkflowBody;
  const started = (await json(`${base}/api/workflows/hooked/runs`, {
    method: "POST",
    body: JSON.stringify({ input: 1 }),
  })) as { run: { id: string } };
  expect((await terminalRun(base, started.run.id)).status).toBe("completed");

  const undeployed = await fetch(`${base}/api/workflows/hooked`, { method: "DELETE" });
  expect(undeployed.status).toBe(200);
  const body = (await undeployed.json()) as WorkflowBody;
  expect(body.workflow).toMatchObject({ id: before.workflow.id, slug: "hooked" });
  expect(typeof body.workflow.undeployedAt).toBe("number");

  expect(((await json(`${base}/api/workflows`)) as { workflows: unknown[] }).workflows).toEqual([]);
  expect((await fetch(`${base}/api/workflows/hooked`)).status).toBe(404);
  const refused = await fetch(`${base}/api/workflows/hooked/runs`, { method: "POST" });
  expect(refused.status).toBe(404);
  const hook = await fetch(`${base}/hooks/hooked/1`, {
    method: "POST",
    headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
    body: "{}",
  });
  expect(hook.status).toBe(404);
  const again = await fetch(`${base}/api/workflows/hooked`, { method: "DELETE" });
  expect(again.status).toBe(404);
  expect(((await again.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  expect((await fetch(`${base}/api/workflows/never`, { method: "DELETE" })).status).toBe(404);

  // Its run is kept and readable.
  const kept = await fetch(`${base}/api/runs/${started.run.id}`);
  expect(kept.status).toBe(200);
  expect(((await kept.json()) as { run: unknown }).run).toMatchObject({
    status: "completed",
    output: { got: 1 },
    workflowSlug: "hooked",
  });

  // Redeployed over the API: the same workflow again.
  const redeployed = await fetch(`${base}/api/workflows`, {
    method: "POST",
    body: JSON.stringify({ program: HOOKED, filename: "hooked.mjs" }),
  });
  expect(redeployed.status).toBeLessThan(300);
  expect(((await redeployed.json()) as WorkflowBody).workflow.id).toBe(before.workflow.id);
  const hookAgain = await fetch(`${base}/hooks/hooked/1`, {
    method: "POST",
    headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
    body: "{}",
  });
  expect(hookAgain.status).toBe(202);
  return base;
}

describe("DELETE /api/workflows/:slug", () => {
  it("on SQLite: undeploys, keeps runs, and the workflow page's button does it too", async () => {
    const base = await scenario({});
    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      page.on("dialog", (dialog) => void dialog.accept());
      await page.goto(`${base}/#/workflows/hooked`);
      await page.locator("#wf-undeploy").click();
      await page.waitForURL(/#\/$/);
      expect(((await json(`${base}/api/workflows`)) as { workflows: unknown[] }).workflows).toEqual(
        [],
      );
    } finally {
      await browser.close();
    }
  });

  it("on PostgreSQL: the same", async () => {
    await scenario({ PROMENADE_DATABASE_URL: await postgres.createDatabase() });
  });

  it("is refused while deploys over the API are off", async () => {
    const { dataDir, workflowsDir } = workspaceWith({ "hooked.mjs": HOOKED });
    const server = start({
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      PROMENADE_API_DEPLOY: "0",
    });
    const base = await server.base;
    const refused = await fetch(`${base}/api/workflows/hooked`, { method: "DELETE" });
    expect(refused.status).toBe(403);
    expect((await fetch(`${base}/api/workflows/hooked`)).status).toBe(200);
  });
});
