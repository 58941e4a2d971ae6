/**
 * OpenTelemetry export of run traces to a real OTLP/HTTP receiver started in the test (it decodes
 * the JSON bodies the official exporter posts): the same span tree as the trace API, one trace per
 * run with the run id on every span, the GenAI attributes on model requests, and no secret value
 * anywhere in what was sent. With no OTLP variable set, nothing is started. If this breaks,
 * operators' tracing backends see a different (or leaky) picture than the run page.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine } from "@promenade/engine";
import { buildTrace } from "@promenade/server";
import {
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "@promenade/agent/testing";
import { otlpTracesUrl, startTraceExportIfConfigured } from "../src/otel.ts";

const API_KEY = "sk-otel-canary-4d2b9e71c0";
const SECRET = "db-password-canary-77f3a1";

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
}
interface Received {
  spans: OtlpSpan[];
  raw: string[];
  service: string[];
}

/** A minimal OTLP/HTTP receiver: collects posted JSON trace bodies. */
async function startReceiver(): Promise<{ url: string; received: Received; server: Server }> {
  const received: Received = { spans: [], raw: [], service: [] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      received.raw.push(`${req.method} ${req.url} ${req.headers["content-type"]}\n${text}`);
      const body = JSON.parse(text) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: OtlpValue }[] };
          scopeSpans: { spans: OtlpSpan[] }[];
        }[];
      };
      for (const rs of body.resourceSpans) {
        const name = rs.resource.attributes.find((a) => a.key === "service.name");
        if (name?.value.stringValue !== undefined) received.service.push(name.value.stringValue);
        for (const ss of rs.scopeSpans) received.spans.push(...ss.spans);
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, received, server };
}

function attr(span: OtlpSpan, key: string): string | number | boolean | undefined {
  const v = span.attributes.find((a) => a.key === key)?.value;
  if (v === undefined) return undefined;
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.stringValue ?? v.boolValue ?? v.doubleValue;
}

let dataDir: string;
let provider: FakeProvider;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let engine: Engine;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "promenade-otel-"));
  provider = await startFakeOpenAiProvider();
  receiver = await startReceiver();
  engine = new Engine({
    dataDir,
    log: () => {},
    env: { FAKE_KEY: API_KEY, DB_PASSWORD: SECRET },
    inference: {
      default_provider: "local",
      default_model: "gpt-4o-mini",
      providers: { local: { base_url: provider.baseUrl, api_key_env: "FAKE_KEY" } },
    },
  });
});

afterEach(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  await provider.close();
  await new Promise((r) => receiver.server.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

function deploy(slug: string, names: string[], body: string, extra = {}): void {
  engine.deployWorkflow({
    program: [
      `import { ${names.join(", ")} } from "@promenade/workflow";`,
      `export const meta = ${JSON.stringify({ slug, triggers: [{ kind: "manual" }], ...extra })};`,
      body,
    ].join("\n"),
  });
}

describe("OTLP trace export", () => {
  it("sends each finished run's spans: same tree, GenAI attributes, run id, no secrets", async () => {
    const logs: string[] = [];
    const exported = await startTraceExportIfConfigured(
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: "promenade-test" },
      engine,
      (line) => logs.push(line),
    );
    expect(exported?.url).toBe(`${receiver.url}/v1/traces`);
    deploy("leaf", ["output", "phase"], 'phase("greet"); output("hi");');
    deploy(
      "fan-out",
      ["output", "parallel", "phase", "workflows"],
      [
        'phase("call children");',
        "output(await parallel([1, 2, 3].map((i) => () => workflows.call('leaf', { i }))));",
      ].join("\n"),
    );
    deploy(
      "agentic",
      ["agent", "output", "phase", "secrets"],
      [
        "const password = await secrets.get('DB_PASSWORD');",
        "const lookup = { name: 'lookup', description: 'Looks up.', inputSchema: { type: 'object' },",
        "  execute: async () => `connected with ${password}` };",
        'phase("think");',
        "output(await agent('look it up', { tools: [lookup], name: 'finder' }));",
      ].join("\n"),
      { permissions: { secrets: [{ name: "DB_PASSWORD" }] } },
    );
    provider.enqueue(
      openAiToolCalls([{ id: "call-1", name: "lookup", arguments: {} }], {
        usage: { input: 30, output: 7 },
      }),
      openAiText("found it", { input: 40, output: 6 }),
    );
    const fan = await engine.waitForRun(engine.startRun("fan-out").id);
    const agentic = await engine.waitForRun(engine.startRun("agentic").id);
    expect([fan.status, agentic.status]).toEqual(["completed", "completed"]);
    await exported?.close();

    const runs = [fan, agentic, ...engine.store.listRuns({ parentRunId: fan.id })];
    for (const run of runs) {
      const slug = engine.store.getWorkflowById(run.workflowId)?.slug ?? null;
      const children = engine.store
        .listRuns({ parentRunId: run.id, order: "oldest" })
        .map((c) => ({ ...c, workflowSlug: "leaf" }));
      const expected = buildTrace({
        run: { ...run, workflowSlug: slug },
        events: engine.store.listEvents(run.id),
        children,
      });
      const sent = receiver.received.spans.filter((s) => attr(s, "promenade.run.id") === run.id);
      // One OpenTelemetry trace per run, span for span, with the same parent links and times.
      expect(new Set(sent.map((s) => s.traceId)).size).toBe(1);
      expect(sent).toHaveLength(expected.spans.length);
      const byOtelId = new Map(sent.map((s) => [s.spanId, s]));
      for (const span of expected.spans) {
        const match = sent.find(
          (s) =>
            attr(s, "promenade.span.kind") === span.kind &&
            s.startTimeUnixNano === `${span.startedAt}000000` &&
            // Children started in one parallel() can share a millisecond: tell them by id.
            (span.kind !== "child_run" ||
              attr(s, "promenade.childRunId") === span.attributes["childRunId"]) &&
            (span.kind === "model_call"
              ? s.name === span.name
              : s.name === `${span.kind} ${span.name}`),
        );
        expect(match, `${span.kind} ${span.name}`).toBeDefined();
        expect(match?.endTimeUnixNano).toBe(`${span.endedAt ?? 0}000000`);
        const parent = match?.parentSpanId ? byOtelId.get(match.parentSpanId) : undefined;
        const expectedParent = expected.spans.find((p) => p.id === span.parentId);
        if (expectedParent === undefined) expect(parent).toBeUndefined();
        else expect(parent && attr(parent, "promenade.span.kind")).toBe(expectedParent.kind);
      }
    }
    const models = receiver.received.spans.filter(
      (s) => attr(s, "promenade.span.kind") === "model_call",
    );
    expect(
      models.map((m) => [
        attr(m, "gen_ai.operation.name"),
        attr(m, "gen_ai.system"),
        attr(m, "gen_ai.request.model"),
        attr(m, "gen_ai.response.model"),
        attr(m, "gen_ai.usage.input_tokens"),
        attr(m, "gen_ai.usage.output_tokens"),
      ]),
    ).toEqual([
      ["chat", "local", "gpt-4o-mini", "gpt-4o-mini", 30, 7],
      ["chat", "local", "gpt-4o-mini", "gpt-4o-mini", 40, 6],
    ]);
    const tool = receiver.received.spans.find(
      (s) => attr(s, "promenade.span.kind") === "tool_call",
    );
    expect([attr(tool!, "gen_ai.operation.name"), attr(tool!, "gen_ai.tool.name")]).toEqual([
      "execute_tool",
      "lookup",
    ]);
    expect(receiver.received.service).toContain("promenade-test");
    // Nothing secret left the server: not the provider key, not the secret the tool returned.
    const wire = receiver.received.raw.join("\n");
    expect(receiver.received.raw[0]).toContain("POST /v1/traces application/json");
    expect(wire).not.toContain(API_KEY);
    expect(wire).not.toContain(SECRET);
    expect(logs.join("\n")).not.toContain(API_KEY);
  });

  it("starts nothing and loads no OpenTelemetry code when no OTLP variable is set", async () => {
    expect(otlpTracesUrl({})).toBeNull();
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" })).toBe(
      "http://c:4318/v1/traces",
    );
    expect(
      otlpTracesUrl({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:4318/custom",
      }),
    ).toBe("http://t:4318/custom");
    expect(await startTraceExportIfConfigured({}, engine, () => {})).toBeNull();
    // The switch imports the exporter module only on demand, and that module alone imports the SDK.
    const source = readFileSync(fileURLToPath(new URL("../src/otel.ts", import.meta.url)), "utf8");
    expect(source).not.toMatch(/^import (?!type)[^;]*@opentelemetry/m);
    expect(source).toContain('await import("./otel-export.ts")');
    const boot = readFileSync(fileURLToPath(new URL("../src/boot.ts", import.meta.url)), "utf8");
    expect(boot).not.toContain("@opentelemetry");
    expect(boot).not.toContain("otel-export");
    await engine.waitForRun(
      (deploy("quiet", ["output"], "output(1);"), engine.startRun("quiet")).id,
    );
    expect(receiver.received.raw).toEqual([]);
  });
});
