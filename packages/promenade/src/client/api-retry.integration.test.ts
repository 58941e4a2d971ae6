/**
 * Starting a run over a network that cuts the first request: the client sends it again with the
 * same `Idempotency-Key` and returns the run the server answered; without any answer it gives up
 * after a bounded number of attempts with the unreachable-server error.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ApiClient, START_ATTEMPTS } from "./api.ts";

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A real HTTP server whose first `cut` requests are read and then dropped without an answer. */
async function flakyServer(cut: number): Promise<{ url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  server = createServer((request, response) => {
    seen.push(request);
    request.resume();
    request.on("end", () => {
      if (seen.length <= cut) {
        request.socket.destroy();
        return;
      }
      response.writeHead(201, { "content-type": "application/json" });
      response.end(JSON.stringify({ run: { id: "run-1", status: "queued" } }));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${String(port)}`, seen };
}

describe("ApiClient.startRun over a network that cuts requests", () => {
  it("retries a cut request with the same Idempotency-Key and returns the answered run", async () => {
    const { url, seen } = await flakyServer(2);
    const client = new ApiClient({ baseUrl: url, token: undefined });
    const run = await client.startRun("hello", { n: 1 });
    expect(run.id).toBe("run-1");
    expect(seen).toHaveLength(3);
    const keys = seen.map((request) => request.headers["idempotency-key"]);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
  });

  it("gives up after a bounded number of attempts with the unreachable error", async () => {
    const { url, seen } = await flakyServer(Number.POSITIVE_INFINITY);
    const client = new ApiClient({ baseUrl: url, token: undefined });
    await expect(client.startRun("hello", undefined)).rejects.toMatchObject({
      code: "UNREACHABLE",
    });
    expect(seen).toHaveLength(START_ATTEMPTS);
  });

  it("sends a fresh key for each run it starts", async () => {
    const { url, seen } = await flakyServer(0);
    const client = new ApiClient({ baseUrl: url, token: undefined });
    await client.startRun("hello", undefined);
    await client.startRun("hello", undefined);
    expect(seen[0]?.headers["idempotency-key"]).not.toBe(seen[1]?.headers["idempotency-key"]);
  });
});
