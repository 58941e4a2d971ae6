/**
 * The one secret rule at the binary's edges, as a real process on a real database file: a
 * declared secret passed to `output()` never reaches the run row, the API, the WebSocket, the log
 * or the database and WAL bytes, and the row and the `output` event hold the same redacted value.
 * What would break without it: secrets written to disk and served raw to every API client.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { start, stopServers, terminalRun, waitFor, workspaceWith } from "./helpers.ts";

afterEach(stopServers);

/** The fields of a run this test reads. */
interface RunView {
  id: string;
  status: string;
  output: unknown;
}

/** Every byte of the SQLite database and its WAL, as Latin-1 text (a byte-exact search). */
function databaseBytes(dataDir: string): string {
  return readdirSync(dataDir)
    .filter((name) => name.startsWith("promenade.db"))
    .map((name) => readFileSync(join(dataDir, name)).toString("latin1"))
    .join("\n");
}

describe("a declared secret through output()", () => {
  it("is absent from the row, every API response, WebSocket frame, log line, and the database and WAL", async () => {
    const canary = "canary-output-secret-7d1e90ab";
    const { dataDir, workflowsDir } = workspaceWith({
      "leaky.mjs": [
        'import { output, secrets } from "@promenade/workflow";',
        'export const meta = { slug: "leaky", triggers: [{ kind: "manual" }], permissions: { secrets: [{ name: "API_KEY" }] } };',
        'const v = await secrets.get("API_KEY");',
        "console.log(`printing ${v}`);",
        "output({ token: v, [v]: 'as a key', nested: [`Bearer ${v}`] });",
        "",
      ].join("\n"),
    });
    writeFileSync(join(dataDir, ".env"), `API_KEY=${canary}\n`);
    const server = start({
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
    });
    const base = await server.base;
    await waitFor(() =>
      Promise.resolve(server.output().includes("workflows deployed: 1") ? true : undefined),
    );

    const frames: string[] = [];
    const socket = new WebSocket(`${base.replace("http", "ws")}/api/ws`, "promenade.events.v1");
    socket.addEventListener("message", (event) => frames.push(String(event.data)));
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve);
      socket.addEventListener("error", reject);
    });
    socket.send(JSON.stringify({ type: "subscribe_runs", sub: "feed" }));

    const bodies: string[] = [];
    const call = async (path: string, init: RequestInit = {}): Promise<unknown> => {
      const res = await fetch(`${base}${path}`, init);
      const text = await res.text();
      bodies.push(JSON.stringify([...res.headers]), text);
      return JSON.parse(text) as unknown;
    };
    const started = (await call("/api/workflows/leaky/runs", { method: "POST" })) as {
      run: RunView;
    };
    const id = started.run.id;
    socket.send(
      JSON.stringify({ type: "subscribe", sub: "r1", runId: id, after: 0, verbose: true }),
    );
    const done = await terminalRun<RunView>(base, id);
    expect(done.status).toBe("completed");
    await waitFor(() =>
      Promise.resolve(frames.some((frame) => frame.includes('"type":"end"')) ? true : undefined),
    );

    const redacted = {
      token: "[redacted:API_KEY]",
      "[redacted:API_KEY]": "as a key",
      nested: ["Bearer [redacted:API_KEY]"],
    };
    const row = ((await call(`/api/runs/${id}`)) as { run: RunView }).run;
    expect(row.output).toEqual(redacted);
    const { events } = (await call(`/api/runs/${id}/events?verbose=true`)) as {
      events: { event: { kind: string; value?: unknown; text?: string } }[];
    };
    // The row and the output event agree.
    expect(events.find((e) => e.event.kind === "output")?.event.value).toEqual(row.output);
    // Stdout arrives in chunks (the redactor holds back what could still grow into a secret),
    // so the printed line is the stream's events joined, as the run log shows it.
    const stdout = events
      .filter((e) => e.event.kind === "program_output")
      .map((e) => e.event.text ?? "")
      .join("");
    expect(stdout).toContain("printing [redacted:API_KEY]\n");
    await call("/api/runs");
    await call("/api/runs?workflow=leaky");
    expect(databaseBytes(dataDir)).not.toContain(canary);

    socket.close();
    server.child.kill("SIGTERM");
    expect(await server.exit).toBe(0);
    const everything = [...bodies, ...frames, server.output()].join("\n");
    expect(everything).toContain("[redacted:API_KEY]");
    expect(everything).not.toContain(canary);
    expect(frames.length).toBeGreaterThan(3);
    expect(databaseBytes(dataDir)).not.toContain(canary);
  });
});
