import { openStore } from "@promenade/store";
import { validateMeta } from "@promenade/workflow";

const store = openStore({ path: ":memory:" }); // an engine uses "<dataDir>/promenade.db"
const manifest = validateMeta({ slug: "echo", triggers: [{ kind: "manual" }] });
const workflowId = store.upsertWorkflow({ slug: "echo", manifest, program: "export {}" }).id;

// The run and its `queued` event (cursor 1) are written in one transaction.
const { run } = store.createRun({ workflowId, triggerKind: "manual", input: { n: 7 } });
const unsubscribe = store.subscribe((row) =>
  console.log("committed:", row.workflowSlug, row.cursor),
);
store.commitStatus(run.id, { to: "cancelled", expect: ["queued"], endedAt: Date.now() });
unsubscribe();

console.log(store.listEvents(run.id, { channels: ["lifecycle"] })); // cursors 1 and 1000001
console.log(store.listRuns({ workflowId, statuses: ["cancelled"], limit: 50 })); // [run]
store.close();
