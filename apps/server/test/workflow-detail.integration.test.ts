/* eslint-disable @typescript-eslint/no-explicit-any -- tests read untyped JSON API bodies */
/**
 * The workflow detail over the real engine adapter: each cron trigger's next fire comes from the
 * engine's scheduler in the trigger's own zone, and the deployed source has its own route. If
 * this breaks, the workflow page shows no (or a wrong) next run time on a real server.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine } from "@promenade/engine";
import { createPromenadeServer } from "@promenade/server";
import type { PromenadeServer } from "@promenade/server";
import { engineApi } from "../src/adapter.ts";

let dataDir: string;
let engine: Engine;
let server: PromenadeServer;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "promenade-wf-detail-"));
  engine = new Engine({ dataDir, log: () => {} });
});

afterEach(async () => {
  await server?.close({ graceMs: 200 });
  await engine.closeGracefully({ childGraceMs: 500 });
  rmSync(dataDir, { recursive: true, force: true });
});

describe("workflow detail on the real engine", () => {
  it("serves each cron trigger's next fire from the scheduler, in its zone, and the source", async () => {
    const program = [
      'import { output } from "@promenade/workflow";',
      `export const meta = ${JSON.stringify({
        slug: "tokyo-digest",
        triggers: [{ kind: "manual" }, { kind: "cron", expr: "0 9 * * *", timezone: "Asia/Tokyo" }],
      })};`,
      'output("ok");',
    ].join("\n");
    engine.deployWorkflow({ program });
    server = createPromenadeServer(engineApi(engine), { log: () => {} });
    const { port } = await server.listen(0, "127.0.0.1");
    const base = `http://127.0.0.1:${port}`;
    const before = Date.now();
    const detail = (await (await fetch(`${base}/api/workflows/tokyo-digest`)).json()) as any;
    const [schedule] = detail.workflow.schedules;
    expect(schedule).toMatchObject({ trigger: 1, expr: "0 9 * * *", timezone: "Asia/Tokyo" });
    // 09:00 in Tokyo (UTC+9, no DST) is 00:00 UTC, within the next day.
    const at = new Date(schedule.nextFireAt as number);
    expect([at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds()]).toEqual([0, 0, 0]);
    expect(schedule.nextFireAt).toBeGreaterThan(before);
    expect(schedule.nextFireAt - before).toBeLessThanOrEqual(86_400_000);
    const source = (await (await fetch(`${base}/api/workflows/tokyo-digest/source`)).json()) as any;
    expect(source.source).toContain('slug":"tokyo-digest"');
    expect(detail.workflow.program).toBeUndefined();
  });
});
