import { openStore } from "@promenade/store";
import { validateMeta } from "@promenade/workflow";

const store = openStore({ path: ":memory:" }); // an engine uses "<dataDir>/promenade.db"
const manifest = validateMeta({ slug: "echo", triggers: [{ kind: "manual" }] });
const workflowId = store.upsertWorkflow({ slug: "echo", manifest, program: "export {}" }).id;

const run = store.transaction(() => {
  const { run } = store.createRun({ workflowId, triggerKind: "manual", input: { n: 7 } });
  const envelope = { runId: run.id, turnId: run.id, seq: 1, t: 0 };
  store.appendEvents(run.id, [
    { cursor: 1, event: { kind: "run_status", status: "queued", ...envelope } },
  ]);
  store.afterCommit(() => console.log("durable:", run.id)); // only after COMMIT
  return run;
});

console.log(store.listEvents(run.id, { channels: ["lifecycle"] })); // [{ runId, cursor: 1, event }]
console.log(store.listRuns({ workflowId, statuses: ["queued"], limit: 50 })); // [run]
store.close();
