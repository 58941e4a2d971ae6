/**
 * Client faults are not server faults. What would break: a client that hangs up mid-upload
 * logged as an internal error with a stack and counted as a 5xx; an oversized header block
 * answered with a bare 400 instead of 431 and a JSON body; an over-limit upload answered with a
 * TCP reset instead of its 413 because the server closed the socket while data was arriving.
 * After every case the server still answers /healthz.
 */
import { request } from "node:http";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { http, startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

const HOOK_TOKEN = "client-faults-hook-token-0123456789";
let h: Harness;
afterEach(async () => {
  await h.close();
});

async function harness(): Promise<Harness> {
  h = await startHarness({ env: () => ({ PROMENADE_WEBHOOK_TOKEN__HOOK: HOOK_TOKEN }) });
  h.engine.addWorkflow({ slug: "echo", triggers: [{ kind: "manual" }] });
  h.engine.addWorkflow({ slug: "hook", triggers: [{ kind: "webhook", auth: "token" }] });
  return h;
}

async function healthy(): Promise<void> {
  const health = await http(h, "GET", "/healthz");
  expect(health.status).toBe(200);
}

async function metricsText(): Promise<string> {
  return (await http(h, "GET", "/metrics")).text;
}

/** Opens a raw TCP connection to the harness. */
function rawSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(h.port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Everything the server sends until it closes the connection (or `timeoutMs` passes). */
function readAll(socket: Socket, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("close", done);
    socket.on("error", () => undefined);
  });
}

/** Splits a raw HTTP/1.1 response into status, lower-cased headers and body. */
function parseRaw(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).split("\r\n");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? "")?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, body: raw.slice(split + 4) };
}

/**
 * Streams `totalBytes` in 64 KiB writes a millisecond apart, as a real sender does (chunked, or
 * with a declared length), and resolves with the response status and body, or with the
 * transport error the client saw instead.
 */
function upload(
  path: string,
  totalBytes: number,
  options: { chunked: boolean; headers?: Record<string, string> },
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (value: { status: number; body: string } | { error: string }): void => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    const headers: Record<string, string> = {
      "content-type": "text/plain",
      ...options.headers,
      ...(options.chunked
        ? { "transfer-encoding": "chunked" }
        : { "content-length": String(totalBytes) }),
    };
    const req = request(
      { host: "127.0.0.1", port: h.port, method: "POST", path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          settle({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", (err) => settle({ error: err.message }));
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => settle({ error: err.code ?? err.message }));
    const chunk = Buffer.alloc(65_536, 0x78);
    void (async () => {
      for (let sent = 0; sent < totalBytes && !settled; sent += chunk.length) {
        req.write(chunk.subarray(0, Math.min(chunk.length, totalBytes - sent)));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      if (!settled) req.end();
    })();
  });
}

describe("aborted uploads", () => {
  it.each([
    ["a run start", "/api/workflows/echo/runs", ""],
    ["a webhook", "/hooks/hook/0", `authorization: Bearer ${HOOK_TOKEN}\r\n`],
  ])(
    "drops %s cut after 12 bytes quietly: no stack in the log, not a 5xx",
    async (_name, path, extra) => {
      await harness();
      for (const hangUp of ["destroy", "resetAndDestroy"] as const) {
        const socket = await rawSocket();
        socket.on("error", () => undefined);
        socket.write(
          `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
            `${extra}content-length: 1000\r\n\r\n{"input": {"`,
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        socket[hangUp]();
      }
      // The server saw both hang-ups once both are counted as client-closed requests.
      let metrics = "";
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        metrics = await metricsText();
        const counted = [...metrics.matchAll(/status="499"\} (\d+)/g)].reduce(
          (sum, m) => sum + Number(m[1]),
          0,
        );
        if (counted >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(metrics).toMatch(/promenade_http_requests_total\{[^}]*status="499"\} 2/);
      expect(metrics).not.toMatch(/status="5\d\d"/);
      expect(h.logs.join("\n")).not.toMatch(/internal error|aborted|ECONNRESET|\n\s+at /);
      expect(h.engine.peekRuns()).toHaveLength(0);
      await healthy();
    },
  );
});

describe("HTTP parser errors", () => {
  it("answers a 20 KiB header block with 431 and the JSON error body", async () => {
    await harness();
    const socket = await rawSocket();
    const response = readAll(socket);
    socket.write(
      `GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${"a".repeat(20_480)}\r\n\r\n`,
    );
    const { status, headers, body } = parseRaw(await response);
    expect(status).toBe(431);
    expect(headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(headers["connection"]).toBe("close");
    expect(JSON.parse(body)).toEqual({
      error: {
        code: "HEADERS_TOO_LARGE",
        message: "The request header block exceeds the 16384-byte limit.",
      },
    });
    expect(await metricsText()).toMatch(/status="431"\} 1/);
    expect(h.logs.join("\n")).not.toMatch(/\n\s+at /);
    await healthy();
  });

  it("answers a malformed request line with 400 and the JSON error body", async () => {
    await harness();
    const socket = await rawSocket();
    const response = readAll(socket);
    socket.write("NOT AN HTTP REQUEST\r\n\r\n");
    const { status, headers, body } = parseRaw(await response);
    expect(status).toBe(400);
    expect(headers["content-type"]).toBe("application/json; charset=utf-8");
    expect((JSON.parse(body) as { error: { code: string } }).error.code).toBe("MALFORMED_REQUEST");
    await healthy();
  });
});

describe("over-limit uploads", () => {
  it.each([
    ["streamed with a declared length", false],
    ["streamed chunked", true],
  ])("20 webhook uploads over the limit all receive their 413 (%s)", async (_name, chunked) => {
    await harness();
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const result = await upload("/hooks/hook/0", 2 * 1_048_576, {
        chunked,
        headers: { authorization: `Bearer ${HOOK_TOKEN}` },
      });
      outcomes.push(
        "error" in result
          ? result.error
          : `${String(result.status)} ${(JSON.parse(result.body) as { error: { code: string } }).error.code}`,
      );
    }
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => "413 PAYLOAD_TOO_LARGE"));
    expect(await metricsText()).toMatch(
      /promenade_webhook_requests_total\{outcome="too_large"\} 20/,
    );
    expect(h.engine.peekRuns()).toHaveLength(0);
    await healthy();
  });
});
