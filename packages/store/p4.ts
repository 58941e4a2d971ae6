import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS } from "./src/migrations.ts";
import { openStore } from "./src/store.ts";
import { testManifest } from "./src/testing/fixtures.ts";
const dir = mkdtempSync(join(tmpdir(), "p4-"));
const store = openStore({ path: join(dir, "s.db") });
const wf = store.upsertWorkflow({ slug: "b", manifest: testManifest("b"), program: "" }).id;
const raw = new Database(join(dir, "r.db"));
for (const p of ["locking_mode = EXCLUSIVE", "journal_mode = WAL", "foreign_keys = ON", "synchronous = NORMAL"]) raw.pragma(p);
for (const m of MIGRATIONS) raw.exec(m.sql);
raw.exec("INSERT INTO workflows VALUES ('w', 'bench', '{}', '', '{}', 0, 0)");
const ins = raw.prepare("INSERT INTO run_events (run_id, cursor, event) VALUES (?, ?, ?)");
const tx = raw.transaction((runId: string, rows: any[]) => { for (const r of rows) ins.run(runId, r.cursor, JSON.stringify(r.event)); });
let n = 0;
const mk = (runId: string) => { const out = []; for (let b = 0; b < 50; b++) { const rows = []; for (let i = 0; i < 100; i++) rows.push({ cursor: (b + 1) * 1e6 + i + 1, event: { kind: "text_delta" as const, blockId: "b0", text: "The quick brown fox ", runId, turnId: "turn-000000000001", seq: i + 1, t: 1760000000000 } }); out.push(rows); } return out; };
const res: Record<string, number[]> = { store: [], raw: [] };
for (let round = 0; round < 20; round++) {
  for (const which of round % 2 ? ["store", "raw"] : ["raw", "store"]) {
    let runId: string;
    if (which === "store") runId = store.createRun({ workflowId: wf, triggerKind: "manual" }).run.id;
    else { runId = `r${++n}`; raw.prepare("INSERT INTO runs (id, workflow_id, status, trigger_kind, created_at) VALUES (?, 'w', 'queued', 'manual', 0)").run(runId); }
    const batches = mk(runId);
    const t = process.cpuUsage();
    for (const b of batches) which === "store" ? store.appendEvents(runId, b) : tx(runId, b);
    const u = process.cpuUsage(t);
    res[which]!.push((u.user + u.system) / 5000);
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
console.log("µs/event store", med(res.store!).toFixed(2), "raw", med(res.raw!).toFixed(2));
