/**
 * Safe retries across a crash, with the binary as a real process on a real database file: a
 * client whose `POST …/runs` lost its answer to a server SIGKILLed after the run was committed
 * and before it answered retries with its `Idempotency-Key` and gets the same run (200); a
 * different body with that key is 409. The kill lands exactly there: a module preloaded into
 * the first server (`fixtures/kill-before-answer.mjs`) SIGKILLs it when it is about to write the
 * 201. What would break without it: a retry after a crash starting a second run (the key must
 * be committed with the run, not kept in memory or written after it).
 */
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { json, start, stopServers, terminalRun, workspaceWith } from "./helpers.ts";

afterEach(stopServers);

const KILL_BEFORE_ANSWER = new URL("./fixtures/kill-before-answer.mjs", import.meta.url);

/** The fields of a run this test reads. */
interface RunView {
  id: string;
  status: string;
  output: unknown;
}

describe("Idempotency-Key across a server crash", () => {
  /**
   * Sends `POST /api/workflows/<slug>/runs` on a raw connection; resolves with every byte the
   * server answered once the connection closes.
   */
  function sendRaw(base: string, slug: string, body: string, key: string): Promise<string> {
    const { hostname, port } = new URL(base);
    const socket = connect(Number(port), hostname);
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("utf8")));
    socket.on("error", () => undefined);
    socket.write(
      [
        `POST /api/workflows/${slug}/runs HTTP/1.1`,
        `Host: ${hostname}:${port}`,
        "Content-Type: application/json",
        `Idempotency-Key: ${key}`,
        `Content-Length: ${String(Buffer.byteLength(body))}`,
        "",
        body,
      ].join("\r\n"),
    );
    return new Promise((resolve) => socket.on("close", () => resolve(answer)));
  }

  it("answers a retry after a SIGKILL between commit and response with the same run (200); another body is 409", async () => {
    const { dataDir, workflowsDir } = workspaceWith({
      "echo.mjs": [
        'import { input, output } from "@promenade/workflow";',
        'export const meta = { slug: "echo", triggers: [{ kind: "manual" }] };',
        "output({ echoed: input });",
        "",
      ].join("\n"),
    });
    const env = {
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
    };
    const first = start({
      ...env,
      NODE_OPTIONS: `--import=${fileURLToPath(KILL_BEFORE_ANSWER)}`,
    });
    const base1 = await first.base;
    const body = JSON.stringify({ input: { order: 42 } });
    const lost = await sendRaw(base1, "echo", body, "order-42");
    await first.exit;
    // Killed between the commit and the answer: the client got nothing back.
    expect(first.child.signalCode).toBe("SIGKILL");
    expect(lost).toBe("");

    const second = start(env);
    const base2 = await second.base;
    const retry = await fetch(`${base2}/api/workflows/echo/runs`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "order-42" },
      body,
    });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const retried = (await retry.json()) as { run: RunView };
    const { runs } = (await json(`${base2}/api/runs?workflow=echo`)) as { runs: RunView[] };
    expect(runs.map((run) => run.id)).toEqual([retried.run.id]);
    const committed = retried.run;

    const other = await fetch(`${base2}/api/workflows/echo/runs`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "order-42" },
      body: JSON.stringify({ input: { order: 43 } }),
    });
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: { message: string } }).error.message).toBe(
      `Idempotency key "order-42" was already used for a different request to this workflow (run ${String(committed.id)}).`,
    );

    // One run, recovered and completed; the server is healthy.
    expect((await terminalRun<RunView>(base2, committed.id)).output).toEqual({
      echoed: { order: 42 },
    });
    expect((await json(`${base2}/api/runs?workflow=echo`)).runs.length).toBe(1);
    expect((await fetch(`${base2}/healthz`)).status).toBe(200);
  });
});
