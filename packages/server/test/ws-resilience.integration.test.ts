/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call, @typescript-eslint/unbound-method -- tests read untyped JSON wire frames and bodies */
/**
 * The two delivery guarantees that matter most under stress:
 * a client that drops its connection at random points and resumes from its last cursor sees
 * every event of a 10 000-event run exactly once, in order; and a client that stops reading
 * never makes the server buffer more than high water + one frame for it, while another client
 * on the same run keeps streaming. If these break, tails lose events or a slow browser tab can
 * exhaust the server's memory.
 */
import { WebSocket } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { WS_HIGH_WATER } from "../src/index.ts";
import { WsClient, http, startHarness, until } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function connect(): Promise<WsClient> {
  const c = new WsClient(h, { protocols: ["promenade.events.v1"] });
  await c.opened();
  return c;
}

describe("resume after random disconnects", () => {
  it("delivers all 10 000 events of a run exactly once, in order, across reconnects", async () => {
    h = await startHarness(
      {},
      {
        behaviors: {
          big: async (run) => {
            let turn: string | undefined;
            for (let i = 0; i < 10_000; i++) {
              if (i % 1000 === 0) {
                turn = `turn${i}`;
                run.emit({ kind: "turn_started", agentId: `a${i}` }, turn);
              } else if (i % 3 === 0) {
                run.emit({ kind: "text_delta", blockId: "b", text: `t${i}` }, turn);
              } else if (i % 3 === 1) {
                run.log(`line ${i}\n`);
              } else {
                run.phase(`p${i}`);
              }
              if (i % 100 === 99) await new Promise((r) => setTimeout(r, 3));
            }
            return null;
          },
        },
      },
    );
    h.engine.addWorkflow({ slug: "big" });
    const rng = mulberry32(42);
    const run = await h.engine.startRun("big", { triggerKind: "manual" });
    const received: number[] = [];
    let after = 0;
    let ended = false;
    let sessions = 0;
    while (!ended) {
      sessions++;
      const c = await connect();
      const cut = 1 + Math.floor(rng() * 1500);
      let inSession = 0;
      let caughtUp = 0;
      await new Promise<void>((resolve) => {
        let stopped = false;
        c.onFrame = (f) => {
          if (stopped) return;
          if (f.type === "event") {
            received.push(f.cursor);
            inSession++;
            if (inSession >= cut) {
              // Drop the connection abruptly, mid-stream, exactly after this frame.
              stopped = true;
              c.ws.terminate();
              resolve();
            }
          } else if (f.type === "caught_up") {
            caughtUp = Math.max(caughtUp, f.cursor);
          } else if (f.type === "end") {
            stopped = true;
            ended = true;
            c.close();
            resolve();
          }
        };
        c.send({ type: "subscribe", sub: "r", runId: run.id, after, verbose: true });
      });
      after = Math.max(received[received.length - 1] ?? 0, caughtUp);
    }
    const log = h.engine.peekEvents(run.id).map((e) => e.cursor);
    expect(log.length).toBeGreaterThanOrEqual(10_000);
    expect(sessions).toBeGreaterThan(5);
    expect(received).toEqual(log);
  });
});

describe("slow consumer", () => {
  it("bounds the server-side buffer of a socket that stops reading, then catches it up", async () => {
    const chunk = "x".repeat(16 * 1024);
    const total = 1280; // 20 MiB of program_output
    h = await startHarness(
      {},
      {
        behaviors: {
          flood: async (run) => {
            for (let i = 0; i < total; i++) {
              run.log(`${String(i).padStart(6, "0")}${chunk}\n`);
              if (i % 32 === 31) await new Promise((r) => setTimeout(r, 1));
            }
            return null;
          },
        },
      },
    );
    h.engine.addWorkflow({ slug: "flood" });

    // Observe (not alter) every server-side send: the socket's buffered bytes right after it.
    const originalSend = WebSocket.prototype.send;
    let maxBuffered = 0;
    let maxFrame = 0;
    WebSocket.prototype.send = function (
      this: WebSocket & { _isServer?: boolean },
      data: any,
      ...rest: any[]
    ) {
      const result = (originalSend as any).call(this, data, ...rest);
      if (this._isServer === true) {
        maxBuffered = Math.max(maxBuffered, this.bufferedAmount);
        maxFrame = Math.max(maxFrame, Buffer.byteLength(data));
      }
      return result;
    } as typeof originalSend;
    try {
      const slow = await connect();
      const fast = await connect();
      const run = await h.engine.startRun("flood", { triggerKind: "manual" });
      slow.send({ type: "subscribe", sub: "slow", runId: run.id, verbose: true });
      await slow.next((f) => f.type === "subscribed");
      slow.ws.pause();
      fast.send({ type: "subscribe", sub: "fast", runId: run.id, verbose: true });
      // The other client keeps streaming to the end while the slow one is stalled.
      await fast.next((f) => f.type === "end");
      expect(fast.frames.filter((f) => f.type === "event")).toHaveLength(total + 5);
      expect(slow.counts.get("end") ?? 0).toBe(0);
      expect(maxBuffered).toBeGreaterThan(WS_HIGH_WATER / 2);
      expect(maxBuffered).toBeLessThanOrEqual(WS_HIGH_WATER + maxFrame);
      const metrics = await http(h, "GET", "/metrics");
      const pauses = /promenade_ws_backpressure_pauses_total (\d+)/.exec(metrics.text);
      expect(Number(pauses?.[1])).toBeGreaterThan(0);

      slow.ws.resume();
      await until(() => (slow.counts.get("end") ?? 0) === 1, 60_000);
      const log = h.engine.peekEvents(run.id).map((e) => e.cursor);
      const got = slow.frames.filter((f) => f.type === "event").map((f) => f.cursor);
      expect(got).toEqual(log);
      expect(slow.frames[slow.frames.length - 1].type).toBe("end");
      expect(maxBuffered).toBeLessThanOrEqual(WS_HIGH_WATER + maxFrame);
      slow.close();
      fast.close();
    } finally {
      WebSocket.prototype.send = originalSend;
    }
  });
});
