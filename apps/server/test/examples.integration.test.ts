/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- the test reads untyped JSON API bodies */
/**
 * The README's promise, as a first user follows it: the binary serves the shipped
 * `examples/workflows` and each example works exactly as its comments document — hello and the
 * `workflows.call` fan-out complete, the cron report writes its artifact, the signed webhook
 * accepts the documented HMAC header and refuses a bad one, and `ask-agent` reaches an
 * OpenAI-compatible provider configured with `PROMENADE_PROVIDERS` + a key from the data dir's
 * `.env` (the fake provider speaks the real wire format). The UI lists all of them. If this
 * breaks, the first command of the README shows a user broken examples or wrong instructions.
 */
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  openAiStream,
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
} from "@promenade/agent/testing";
import type { FakeProvider } from "@promenade/agent/testing";
import { chromiumLaunchOptions } from "../../../packages/server/test/chromium.ts";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, start, stopServers, waitFor } from "./helpers.ts";
import type { Server } from "./helpers.ts";

const EXAMPLES = fileURLToPath(new URL("../../../examples/workflows/", import.meta.url));
const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const WEBHOOK_SECRET = "dev-secret-for-the-example";
const PROVIDER_KEY = "sk-local-example-key";

let provider: FakeProvider;
let server: Server;
let base: string;

async function finished(runId: string): Promise<any> {
  return waitFor(async () => {
    const run = (await json(`${base}/api/runs/${runId}`)).run;
    return ["completed", "failed", "cancelled"].includes(run.status) ? run : undefined;
  });
}

async function startRun(slug: string, input?: unknown): Promise<string> {
  const res = await fetch(`${base}/api/workflows/${slug}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(input === undefined ? {} : { input }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { run: { id: string } }).run.id;
}

beforeAll(async () => {
  // Answers like a model that calls the example's tool once, then replies.
  provider = await startFakeOpenAiProvider({
    steady: (request) => {
      const body = request.body as { stream?: boolean; messages: { role: string }[] };
      if (!body.messages.some((m) => m.role === "tool")) {
        return openAiToolCalls([{ id: "call_1", name: "current_time", arguments: "{}" }]);
      }
      const text = ["A durable workflow ", "survives crashes."];
      return body.stream === true ? openAiStream(text) : openAiText(text.join(""));
    },
  });
  const dataDir = join(mkdtempSync(join(tmpdir(), "promenade-examples-")), "data");
  mkdirSync(dataDir);
  writeFileSync(join(dataDir, ".env"), `LOCAL_KEY=${PROVIDER_KEY}\n`);
  // The configuration documented in examples/workflows/ask-agent.ts and github-push.ts.
  server = start({
    PROMENADE_DATA_DIR: dataDir,
    PROMENADE_WORKFLOWS_DIR: EXAMPLES,
    PROMENADE_PORT: "0",
    PROMENADE_WEBHOOK_SECRET__GITHUB_PUSH: WEBHOOK_SECRET,
    PROMENADE_PROVIDERS: JSON.stringify({
      local: { base_url: provider.baseUrl, protocol: "openai", api_key_env: "LOCAL_KEY" },
    }),
    PROMENADE_DEFAULT_PROVIDER: "local",
    PROMENADE_DEFAULT_MODEL: "llama3.2",
  });
  base = await server.base;
});

afterAll(async () => {
  stopServers();
  await provider?.close();
});

describe("the shipped example workflows", () => {
  it("deploys every example file and the UI lists them", async () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThanOrEqual(4);
    await waitFor(() =>
      Promise.resolve(server.output().includes("workflows deployed:") ? true : undefined),
    );
    expect(server.output()).toContain(`workflows deployed: ${files.length}`);
    expect(server.output()).not.toContain("skipped");
    const slugs = (await json(`${base}/api/workflows`)).workflows.map((w: any) => w.slug);
    expect(slugs).toEqual(["ask-agent", "fan-out", "github-push", "hello", "nightly-report"]);

    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      // What the page saw, for the failure message: it once rendered no table in 30 s on a loaded
      // CI machine while the API answered, and nothing else said why.
      const seen: string[] = [];
      page.on("console", (m) => seen.push(`console ${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => seen.push(`page error: ${e.message}`));
      page.on("requestfailed", (r) => seen.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
      page.on("response", (r) => seen.push(`${String(r.status())} ${r.url()}`));
      await page.goto(`${base}/`);
      try {
        for (const slug of slugs) await page.waitForSelector(`#workflows tr[data-slug='${slug}']`);
      } catch (error) {
        const shown = await page.textContent("main").catch(() => "(unreadable)");
        throw new Error(
          `${String(error)}\nthe page showed: ${String(shown)}\nit saw:\n${seen.join("\n")}\nserver:\n${server.output()}`,
        );
      }
      const table = await page.textContent("#workflows");
      expect(table).toContain("PROMENADE_WEBHOOK_SECRET__GITHUB_PUSH");
      expect(table).toContain("0 7 * * *");
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/examples-workflows.png`, fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it("runs hello, the fan-out over workflows.call, and the cron report with its artifact", async () => {
    const hello = await finished(await startRun("hello", { name: "Ada" }));
    expect(hello.output).toEqual({ greeting: "hello, Ada" });

    const fanOutId = await startRun("fan-out", { names: ["Ada", "Grace"] });
    const fanOut = await finished(fanOutId);
    expect(fanOut.status).toBe("completed");
    expect(fanOut.output).toEqual({
      greetings: [{ greeting: "hello, Ada" }, { greeting: "hello, Grace" }],
    });
    const children = (await json(`${base}/api/runs?workflow=hello`)).runs.filter(
      (r: any) => r.parentRunId === fanOutId,
    );
    expect(children).toHaveLength(2);

    const reportId = await startRun("nightly-report");
    const report = await finished(reportId);
    expect(report.status).toBe("completed");
    const artifacts = (await json(`${base}/api/runs/${reportId}/artifacts`)).artifacts;
    expect(artifacts.map((a: any) => a.name)).toEqual(["report.md"]);
    const body = await (await fetch(`${base}${artifacts[0].url}`)).text();
    expect(body).toMatch(/^# Report for \d{4}-\d{2}-\d{2}/);
  });

  it("accepts the documented signed webhook and refuses a bad signature", async () => {
    const body = '{"ref":"refs/heads/main","commits":[{"message":"fix"}]}';
    const sig = createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex");
    const post = (signature: string) =>
      fetch(`${base}/hooks/github-push/0`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-promenade-signature": signature },
        body,
      });
    const bad = await post(`sha256=${"0".repeat(64)}`);
    expect(bad.status).toBe(401);
    const ok = await post(`sha256=${sig}`);
    expect(ok.status).toBe(202);
    const run = await finished(((await ok.json()) as { run: { id: string } }).run.id);
    expect(run.triggerKind).toBe("webhook");
    expect(run.output).toEqual({ ref: "refs/heads/main", commits: 1 });
    const events = (await json(`${base}/api/runs/${run.id}/events?channels=log`)).events;
    expect(events.map((e: any) => e.event.text).join("")).toContain("commit: fix");
  });

  it("runs ask-agent against the OpenAI-compatible provider configured as documented", async () => {
    const runId = await startRun("ask-agent", { question: "What is durable?" });
    const run = await finished(runId);
    expect(run.error).toBeNull();
    expect(run.status).toBe("completed");
    expect(run.output).toEqual({
      question: "What is durable?",
      answer: "A durable workflow survives crashes.",
    });
    expect(run.tokensIn).toBeGreaterThan(0);
    // Both model calls reached the provider with the key from <data-dir>/.env; the second
    // carried the tool's result back.
    const calls = provider.requests.filter((r) => r.path === "/v1/chat/completions");
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.headers["authorization"]).toBe(`Bearer ${PROVIDER_KEY}`);
      expect((call.body as { model: string }).model).toBe("llama3.2");
    }
    const events = (await json(`${base}/api/runs/${runId}/events?verbose=true`)).events;
    const kinds = events.map((e: any) => e.event.kind);
    expect(kinds).toContain("tool_call_result");
    expect(kinds).toContain("turn_ended");
    expect(server.output()).not.toContain(PROVIDER_KEY);
  });
});
