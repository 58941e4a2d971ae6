/**
 * Round-trip latency of `tools/call` (a trivial echo tool) for our client vs the official SDK
 * client, against the same server in the same run: over stdio (the SDK-built fixture as a child
 * process) and over streamable HTTP on loopback (SDK server in-process, SSE and JSON modes).
 * Batches of the two clients alternate so drift hits both alike. Prints median and p10–p90.
 * Run: `pnpm --filter @promenade/mcp bench` (or `node bench/round-trip.ts <calls>`).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioTransport, StreamableHttpTransport, connectMcp } from "../src/index.ts";
import { fixturePath } from "../test/helpers.ts";
import { startMcpHttpServer } from "../test/mcp-http-server.ts";

const ROUNDS = Number(process.argv[2] ?? 2000);
const WARMUP = 200;
const BATCH = 100;

type Call = () => Promise<unknown>;

function quantile(sorted: number[], q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[index] ?? Number.NaN;
}

async function measure(
  ours: Call,
  official: Call,
): Promise<{ ours: number[]; official: number[] }> {
  for (let i = 0; i < WARMUP; i++) {
    await ours();
    await official();
  }
  const samples = { ours: [] as number[], official: [] as number[] };
  for (let done = 0; done < ROUNDS; done += BATCH) {
    for (const [name, call] of [
      ["ours", ours],
      ["official", official],
    ] as const) {
      for (let i = 0; i < BATCH; i++) {
        const start = performance.now();
        await call();
        samples[name].push(performance.now() - start);
      }
    }
  }
  return samples;
}

function report(label: string, samples: { ours: number[]; official: number[] }): void {
  const row = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      median: quantile(sorted, 0.5),
      p10: quantile(sorted, 0.1),
      p90: quantile(sorted, 0.9),
    };
  };
  const ours = row(samples.ours);
  const official = row(samples.official);
  const fmt = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
  console.log(
    `${label.padEnd(22)} ours median ${fmt(ours.median)} (p10 ${fmt(ours.p10)}, p90 ${fmt(ours.p90)}) | ` +
      `official median ${fmt(official.median)} (p10 ${fmt(official.p10)}, p90 ${fmt(official.p90)}) | ` +
      `ratio ${(ours.median / official.median).toFixed(2)}× (target ≤ 1.10×)`,
  );
}

async function stdio(): Promise<void> {
  const script = fixturePath("stdio-server.ts");
  const ours = await connectMcp(
    new StdioTransport({ command: process.execPath, args: [script], stderr: "ignore" }),
  );
  const official = new Client({ name: "bench", version: "0.0.0" });
  await official.connect(
    new StdioClientTransport({ command: process.execPath, args: [script], stderr: "ignore" }),
  );
  const args = { text: "ping" };
  report(
    "stdio",
    await measure(
      () => ours.callTool("echo", args),
      () => official.callTool({ name: "echo", arguments: args }),
    ),
  );
  await ours.close();
  await official.close();
}

async function http(json: boolean): Promise<void> {
  const server = await startMcpHttpServer({ json });
  const ours = await connectMcp(new StreamableHttpTransport({ url: server.url }));
  const official = new Client({ name: "bench", version: "0.0.0" });
  await official.connect(new StreamableHTTPClientTransport(new URL(server.url)));
  const args = { text: "ping" };
  report(
    `streamable HTTP (${json ? "JSON" : "SSE"})`,
    await measure(
      () => ours.callTool("echo", args),
      () => official.callTool({ name: "echo", arguments: args }),
    ),
  );
  await ours.close();
  await official.close();
  await server.close();
}

console.log(`tools/call round trip, ${ROUNDS} calls per client after ${WARMUP} warm-up calls`);
await stdio();
await http(false);
await http(true);
