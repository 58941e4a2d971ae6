import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Engine } from "@promenade/engine";
const PROG = [
  'import { output } from "@promenade/workflow";',
  'export const meta = { slug: "first-statement", triggers: [{ kind: "manual" }] };',
  "output(performance.timeOrigin + performance.now());",
].join("\n");
rmSync("/tmp/promt.log", { force: true });
const engine = new Engine({ dataDir: mkdtempSync(join(tmpdir(), "wt-")), log: () => undefined, warmPoolSize: 4 });
engine.deployWorkflow({ program: PROG });
await sleep(1500);
for (let i = 0; i < 32; i++) {
  appendFileSync("/tmp/promt.log", `S ${(performance.timeOrigin + performance.now()).toFixed(2)}\n`);
  const { id } = engine.startRun("first-statement");
  const run = await engine.waitForRun(id);
  appendFileSync("/tmp/promt.log", `F ${Number(run.output).toFixed(2)}\n`);
  appendFileSync("/tmp/promt.log", `W ${(performance.timeOrigin + performance.now()).toFixed(2)}\n`);
  await sleep(150);
}
await engine.closeGracefully();
// breakdown
const lines = readFileSync("/tmp/promt.log", "utf8").trim().split("\n").map((l) => l.split(" "));
const samples: Record<string, number>[] = [];
let cur: Record<string, number> = {};
for (const [k, v] of lines) {
  if (k === "S") { cur = { S: Number(v) }; samples.push(cur); } else if (!(k! in cur)) cur[k!] = Number(v);
}
const keys = ["P0", "P1", "P2", "P3a", "P3b", "P4", "C1", "C2", "C3", "F", "W"];
const use = samples.slice(2);
const med = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]!; };
let prev = "S";
for (const k of keys) {
  const d = use.map((s) => (s[k] ?? NaN) - (s[prev] ?? NaN)).filter((x) => !Number.isNaN(x));
  console.log(`${prev}->${k}: median ${med(d).toFixed(2)} ms  min ${Math.min(...d).toFixed(2)} max ${Math.max(...d).toFixed(2)} n=${d.length}`);
  prev = k;
}
console.log("S->F median", med(use.map((s) => s.F! - s.S!)).toFixed(2));
