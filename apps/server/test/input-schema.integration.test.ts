/**
 * `meta.input_schema` through the server binary, on a real database: a run started over the API
 * or a webhook with input that does not match is refused with 400 `VALIDATION` naming the JSON
 * path and the rule, and no run is created; matching input runs. A workflow file whose schema
 * cannot compile is skipped at boot with the schema problem in the log.
 */
import { afterEach, describe, expect, it } from "vitest";
import { json, start, stopServers, terminalRun, workspaceWith } from "./helpers.ts";

afterEach(stopServers);

const GREET = [
  'import { input, output } from "@promenade/workflow";',
  "export const meta = {",
  '  slug: "greet",',
  '  triggers: [{ kind: "manual" }, { kind: "webhook", auth: "token" }],',
  "  input_schema: {",
  '    type: "object",',
  '    properties: { name: { type: "string" } },',
  '    required: ["name"],',
  "  },",
  "};",
  "output(`hi ${input.name}`);",
  "",
].join("\n");

const BROKEN_SCHEMA = [
  "export const meta = {",
  '  slug: "broken",',
  '  triggers: [{ kind: "manual" }],',
  '  input_schema: { type: "object", properties: { name: { type: "text" } } },',
  "};",
  "",
].join("\n");

const HOOK_TOKEN = "input-schema-hook-token-0123";

describe("input_schema through the server", () => {
  it("refuses non-matching input on the run API and a webhook with 400, creating no run", async () => {
    const { dataDir, workflowsDir } = workspaceWith({
      "greet.mjs": GREET,
      "broken.mjs": BROKEN_SCHEMA,
    });
    const s = start({
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      PROMENADE_WEBHOOK_TOKEN__GREET: HOOK_TOKEN,
    });
    const base = await s.base;
    expect(s.output()).toContain(
      'meta.input_schema is not a usable JSON Schema: meta.input_schema.properties.name.type: "text" is not a JSON Schema type',
    );

    const api = await fetch(`${base}/api/workflows/greet/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { name: 5 } }),
    });
    expect(api.status).toBe(400);
    expect(await api.json()).toMatchObject({
      error: {
        code: "VALIDATION",
        message:
          'Input of workflow "greet" does not match its input_schema: input.name: expected string, got number.',
      },
    });

    const hook = await fetch(`${base}/hooks/greet/1`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${HOOK_TOKEN}` },
      body: JSON.stringify({ who: "x" }),
    });
    expect(hook.status).toBe(400);
    expect(await hook.json()).toMatchObject({
      error: {
        code: "VALIDATION",
        message:
          'Input of workflow "greet" does not match its input_schema: input.name: is required.',
      },
    });
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(
      /promenade_webhook_requests_total\{outcome="invalid_body"\} 1/,
    );
    expect((await json(`${base}/api/runs?workflow=greet`)).runs).toEqual([]);

    const ok = await fetch(`${base}/hooks/greet/1`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${HOOK_TOKEN}` },
      body: JSON.stringify({ name: "hook" }),
    });
    expect(ok.status).toBe(202);
    const { run } = (await ok.json()) as { run: { id: string } };
    const done = await terminalRun<{ status: string; output: unknown }>(base, run.id);
    expect(done).toMatchObject({ status: "completed", output: "hi hook" });
  });
});
