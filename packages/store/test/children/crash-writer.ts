/**
 * Child process for the kill -9 test: opens the store at argv[2] and performs multi-row writes
 * in a tight loop until it is killed. Every write is shaped so that a torn write would break a
 * checkable invariant (see process.integration.test.ts). Prints "ready <runs>" once open.
 * It loads the built package (as a user's process would), not the sources: that starts in
 * ~0.15 s instead of ~1.2 s, so the kills land inside writes rather than inside module loading.
 */
import { openStore } from "@promenade/store";

const STRIDE = 1_000_000;
const BATCH = 5;
const path = process.argv[2];
if (path === undefined) throw new Error("usage: crash-writer.ts <db path>");

const store = openStore({ path });
const workflow =
  store.getWorkflow("crash") ??
  store.upsertWorkflow({
    slug: "crash",
    manifest: {
      slug: "crash",
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "unlimited" },
      runs_on: "boardwalk/linux",
      callable_by: "anyone_in_org",
    },
    program: "export {}",
  });
let fireTime = store.lastCronFire(workflow.id, 0) ?? 0;
process.stdout.write(`ready ${String(store.listRuns().length)}\n`);

for (let step = 0; ; step++) {
  // 1. A cron fire: run + fire record + queued event, one transaction.
  fireTime += 60_000;
  const fired = store.fireCron({ workflowId: workflow.id, triggerIndex: 0, fireTime });
  if (fired === null) throw new Error(`cron instant ${String(fireTime)} fired twice`);
  const runId = fired.id;
  for (let turn = 0; turn < 3; turn++) {
    // 2. A batch of agent frames in a fresh block: all BATCH rows or none.
    const block = Math.floor(store.maxCursor(runId) / STRIDE) + 1;
    const turnId = `turn-${String(block)}`;
    store.appendEvents(
      runId,
      Array.from({ length: BATCH }, (_, index) => ({
        cursor: block * STRIDE + index + 1,
        event: {
          kind: "text_delta" as const,
          blockId: "b",
          text: `chunk ${String(index)} `.repeat(8),
          runId,
          turnId,
          seq: index + 1,
          t: step,
        },
      })),
    );
    // 3. Usage tally and its turn_ended event together.
    store.transaction(() => {
      store.addRunUsage(runId, { tokensIn: 10, tokensOut: 1 });
      const next = Math.floor(store.maxCursor(runId) / STRIDE) + 1;
      store.appendEvents(runId, [
        {
          cursor: next * STRIDE + 1,
          event: {
            kind: "turn_ended",
            agentId: "agent-1",
            reason: "complete",
            usage: { inputTokens: 10, outputTokens: 1 },
            runId,
            turnId: `ended-${String(next)}`,
            seq: 1,
            t: step,
          },
        },
      ]);
    });
  }
  // 4. Status change and its run_status event together (stamped in a fresh block).
  store.commitStatus(runId, { to: "running", expect: ["queued"], startedAt: step });
}
