/**
 * Replay-proof webhooks across a restart, with the binary as a real process on a real database
 * file: a signed, timestamped delivery accepted before the server was killed is refused with 409
 * after it restarts (the same bytes, or re-signed under the same delivery id), naming the
 * delivery, when it came and its run; a new delivery and Boardwalk-compatible body-only
 * deliveries keep being accepted. What would break: a captured delivery replayed once more just
 * after every restart, because the server forgot what it had accepted.
 */
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { json, start, stopServers } from "./helpers.ts";

afterEach(stopServers);

const SECRET = "restart-test-secret-0123456789";

function workspace(): { dataDir: string; workflowsDir: string } {
  const root = mkdtempSync(join(tmpdir(), "promenade-deliveries-"));
  const workflowsDir = join(root, "workflows");
  const dataDir = join(root, "data");
  mkdirSync(workflowsDir);
  mkdirSync(dataDir);
  writeFileSync(
    join(workflowsDir, "signed.mjs"),
    [
      'import { input, output } from "@promenade/workflow";',
      'export const meta = { slug: "signed", triggers: [{ kind: "webhook", auth: "signature" }] };',
      "output(input);",
      "",
    ].join("\n"),
  );
  return { dataDir, workflowsDir };
}

/** A delivery as a sender builds it: HMAC over `<timestamp>.<body>`, or over the body alone. */
function delivery(
  body: string,
  options: { timestamp?: number; id?: string } = {},
): { body: string; headers: Record<string, string> } {
  const signed = options.timestamp === undefined ? body : `${String(options.timestamp)}.${body}`;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-promenade-signature": `sha256=${createHmac("sha256", SECRET).update(signed).digest("hex")}`,
  };
  if (options.timestamp !== undefined) headers["x-promenade-timestamp"] = String(options.timestamp);
  if (options.id !== undefined) headers["x-github-delivery"] = options.id;
  return { body, headers };
}

async function send(
  base: string,
  request: { body: string; headers: Record<string, string> },
): Promise<{ status: number; body: { run?: { id: string }; error?: { message: string } } }> {
  const res = await fetch(`${base}/hooks/signed/0`, { method: "POST", ...request });
  return { status: res.status, body: (await res.json()) as never };
}

describe("webhook deliveries across a restart", () => {
  it("refuses a delivery accepted before the server was killed with 409; new and body-only deliveries still pass", async () => {
    const { dataDir, workflowsDir } = workspace();
    const env = {
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      PROMENADE_WEBHOOK_SECRET__SIGNED: SECRET,
    };
    const first = start(env);
    const base1 = await first.base;
    const now = Math.floor(Date.now() / 1000);
    const captured = delivery('{"event":"push"}', { timestamp: now, id: "gh-1" });
    const accepted = await send(base1, captured);
    expect(accepted.status).toBe(202);
    const runId = accepted.body.run?.id ?? "";
    const { run } = (await json(`${base1}/api/runs/${runId}`)) as { run: { createdAt: number } };
    first.child.kill("SIGKILL");
    await first.exit;

    const second = start(env);
    const base2 = await second.base;
    const message = `Webhook delivery "gh-1" was already received at ${new Date(run.createdAt).toISOString()} (run ${runId}).`;
    const replayed = await send(base2, captured);
    expect(replayed.status).toBe(409);
    expect(replayed.body.error?.message).toBe(message);
    // Re-signed with a fresh timestamp under the same delivery id: the same delivery.
    const resigned = await send(
      base2,
      delivery('{"event":"push"}', { timestamp: now + 1, id: "gh-1" }),
    );
    expect(resigned.status).toBe(409);
    expect(resigned.body.error?.message).toBe(message);

    // A new delivery, and Boardwalk-compatible body-only deliveries (repeats included).
    expect(
      (await send(base2, delivery('{"event":"tag"}', { timestamp: now, id: "gh-2" }))).status,
    ).toBe(202);
    const bodyOnly = delivery('{"event":"ping"}');
    expect((await send(base2, bodyOnly)).status).toBe(202);
    expect((await send(base2, bodyOnly)).status).toBe(202);

    expect((await json(`${base2}/api/runs?workflow=signed`)).runs.length).toBe(4);
    expect((await fetch(`${base2}/healthz`)).status).toBe(200);
  });
});
