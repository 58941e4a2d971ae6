/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument -- tests read untyped JSON wire frames and bodies */
/**
 * Shared test fixtures: a fake engine with scripted workflows, a listening server, and small
 * HTTP/WebSocket clients that record every byte the server sent (for the canary checks).
 */
import { request } from "node:http";
import WebSocket from "ws";
import { createPromenadeServer } from "../src/index.ts";
import type { EngineApi, PromenadeServer, PromenadeServerOptions } from "../src/index.ts";
import { createFakeEngine } from "../src/testing/index.ts";
import type { FakeEngine, FakeEngineOptions } from "../src/testing/index.ts";

export interface Harness {
  engine: FakeEngine;
  server: PromenadeServer;
  base: string;
  port: number;
  logs: string[];
  /** Every response body and WebSocket frame seen by the helpers. */
  transcript: string[];
  close(): Promise<void>;
}

/**
 * A fake engine behind a listening server. `wrap` may put a decorating `EngineApi` between them
 * (to count or break calls); `h.engine` stays the fake itself.
 */
export async function startHarness(
  options: PromenadeServerOptions = {},
  engineOptions: FakeEngineOptions = {},
  wrap: (engine: FakeEngine) => EngineApi = (engine) => engine,
): Promise<Harness> {
  const engine = createFakeEngine(engineOptions);
  const logs: string[] = [];
  const server = createPromenadeServer(wrap(engine), { log: (l) => logs.push(l), ...options });
  const { port } = await server.listen(0, "127.0.0.1");
  return {
    engine,
    server,
    base: `http://127.0.0.1:${port}`,
    port,
    logs,
    transcript: [],
    close: () => server.close({ graceMs: 200 }),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** A raw HTTP request (node:http, so Host/Origin/body are exactly what the test says). */
export function http(
  h: Harness,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: h.port,
        method,
        path,
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          h.transcript.push(JSON.stringify(res.headers), text);
          let json: unknown = undefined;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A WebSocket test client that queues frames and lets tests await them. */
export class WsClient {
  readonly ws: WebSocket;
  readonly frames: any[] = [];
  /** Frames received, by type (cheap to poll). */
  readonly counts = new Map<string, number>();
  private waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  closeCode: number | null = null;
  /** Called for every frame before it is queued. */
  onFrame: ((frame: any) => void) | null = null;
  private readonly closed: Promise<number>;

  constructor(
    h: Harness,
    options: { protocols?: string[]; headers?: Record<string, string> } = {},
  ) {
    this.ws = new WebSocket(`ws://127.0.0.1:${h.port}/api/ws`, options.protocols ?? [], {
      headers: options.headers ?? {},
      perMessageDeflate: false,
    });
    this.ws.on("message", (data) => {
      const text = (data as Buffer).toString("utf8");
      h.transcript.push(text);
      const frame = JSON.parse(text);
      this.onFrame?.(frame);
      this.frames.push(frame);
      this.counts.set(frame.type, (this.counts.get(frame.type) ?? 0) + 1);
      for (const w of [...this.waiters]) {
        if (w.pred(frame)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(frame);
        }
      }
    });
    this.closed = new Promise((resolve) => {
      this.ws.on("close", (code) => {
        this.closeCode = code;
        resolve(code);
      });
    });
    this.ws.on("error", () => {});
  }

  opened(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Resolve with the first frame (already received or future) matching `pred`. */
  next(pred: (f: any) => boolean, seen = 0): Promise<any> {
    const found = this.frames.slice(seen).find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  waitClose(): Promise<number> {
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }
}

/** Wait until `pred()` holds, polling every 10 ms. */
export async function until(pred: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
